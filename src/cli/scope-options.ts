import { isIP } from 'node:net';
import type { ReportScope } from '../analyze/scope.js';
import { CidrList, parseCidr, type Cidr } from '../common/cidr.js';
import { parseTimestamp } from '../config/timestamp.js';
import { UsageError } from './usage-error.js';

/** --since, --until and --client of replay and analyze as a report scope; undefined when none is given. */
export function scopeOf(
  values: { since?: string | undefined; until?: string | undefined; client?: readonly string[] | undefined },
  command: string,
): ReportScope | undefined {
  const { since, until } = values;
  const nets = values.client ?? [];
  if (since === undefined && until === undefined && nets.length === 0) return undefined;
  const time = (flag: string, v: string | undefined): { micros: number; iso: string } | undefined => {
    if (v === undefined) return undefined;
    const t = parseTimestamp(v);
    if (!t.ok) throw new UsageError(`${flag}: ${t.error}`, command);
    return t.value;
  };
  const from = time('--since', since);
  const to = time('--until', until);
  if (from !== undefined && to !== undefined && from.micros >= to.micros) {
    throw new UsageError(`--since ${from.iso} is not before --until ${to.iso}: the window would be empty`, command);
  }
  const cidrs: Cidr[] = [];
  const shown: string[] = [];
  for (const raw of nets) {
    const n = raw.trim();
    // One address is its own network (tcpdump's `host`).
    const text = isIP(n) === 4 ? `${n}/32` : isIP(n) === 6 ? `${n}/128` : n;
    const c = parseCidr(text);
    if (typeof c === 'string') throw new UsageError(`--client "${raw}": ${c}`, command);
    cidrs.push(c);
    shown.push(text);
  }
  return {
    sinceMicros: from?.micros,
    untilMicros: to?.micros,
    since: from?.iso,
    until: to?.iso,
    clients: cidrs.length > 0 ? new CidrList(cidrs) : undefined,
    clientNets: shown,
  };
}
