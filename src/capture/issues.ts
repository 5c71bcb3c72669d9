/**
 * Everything a decoder can report instead of a result, in the style of tcpdump's
 * `[|proto]` vs `(invalid)` and Zeek's weirds: `truncated` (the captured bytes ran out),
 * `invalid` (the bytes contradict the spec), `skipped` (not for us / a limit was reached).
 * Decoders return one of these frozen constants and never throw; the pipeline counts them.
 */
export type IssueKind = 'truncated' | 'invalid' | 'skipped';

export interface DecodeIssue {
  readonly issue: true;
  readonly layer: string;
  readonly kind: IssueKind;
  readonly reason: string;
  /** `layer/kind/reason`, precomputed so counting needs no string building. */
  readonly key: string;
}

export function defineIssue(layer: string, kind: IssueKind, reason: string): DecodeIssue {
  return Object.freeze({ issue: true as const, layer, kind, reason, key: `${layer}/${kind}/${reason}` });
}

export function isIssue(v: unknown): v is DecodeIssue {
  return typeof v === 'object' && v !== null && (v as { issue?: unknown }).issue === true;
}

/** Counts issues by key; bounded because keys come only from `defineIssue` constants. */
export class IssueCounter {
  private readonly counts = new Map<DecodeIssue, number>();

  add(i: DecodeIssue, n = 1): void {
    this.counts.set(i, (this.counts.get(i) ?? 0) + n);
  }

  get(i: DecodeIssue): number {
    return this.counts.get(i) ?? 0;
  }

  /** Sorted rows for reports and metrics. */
  rows(): Array<{ layer: string; kind: IssueKind; reason: string; count: number }> {
    return [...this.counts]
      .map(([i, count]) => ({ layer: i.layer, kind: i.kind, reason: i.reason, count }))
      .sort((a, b) => (a.layer + a.reason < b.layer + b.reason ? -1 : 1));
  }

  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}
