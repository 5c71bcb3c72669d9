import { statSync } from 'node:fs';

/**
 * A progress line on stderr for long replays, only when stderr is a terminal (never in a pipe,
 * a log or a CI job): input n of N, bytes read of the total, packets/s, time left. Redrawn at
 * most every 250 ms in place (`\r`, cleared at the end). Byte counts are the frames' bytes plus
 * their 16-byte record headers, against the files' sizes (for gzip and pipes: bytes only).
 */
const REDRAW_MS = 250;

export class Progress {
  private lastDraw = 0;
  private readonly t0 = performance.now();
  private index = 0;
  private name = '';
  private drawn = false;

  private constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly inputs: number,
    private readonly total: number | undefined,
  ) {}

  /** A progress line for these inputs, or undefined when stderr is not a terminal. */
  static forStderr(inputs: readonly string[], stream: NodeJS.WriteStream = process.stderr): Progress | undefined {
    if (stream.isTTY !== true) return undefined;
    let total: number | undefined = 0;
    for (const i of inputs) {
      try {
        const s = statSync(i);
        if (!s.isFile() || /\.gz$/i.test(i)) total = undefined;
        else if (total !== undefined) total += s.size;
      } catch {
        total = undefined;
      }
    }
    return new Progress(stream, inputs.length, total);
  }

  input(index: number, name: string): void {
    this.index = index;
    this.name = name;
  }

  /** `bytes` read so far over all inputs, `frames` so far. */
  update(bytes: number, frames: number): void {
    const now = performance.now();
    if (now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const secs = (now - this.t0) / 1000;
    const pps = secs > 0 ? frames / secs : 0;
    const mb = (n: number): string => `${(n / 1e6).toFixed(n < 1e8 ? 1 : 0)} MB`;
    let line = `kasmon: ${this.inputs > 1 ? `input ${this.index + 1}/${this.inputs} ` : ''}${mb(bytes)}`;
    if (this.total !== undefined && this.total > 0) {
      const f = Math.min(1, bytes / this.total);
      const left = f > 0.01 ? (secs * (1 - f)) / f : undefined;
      line += ` of ${mb(this.total)} (${(f * 100).toFixed(0)}%)`;
      if (left !== undefined) line += `, ${fmt(left)} left`;
    }
    line += `, ${(pps / 1e6).toFixed(2)} M packets/s`;
    const w = (this.out.columns ?? 100) - 1;
    this.out.write(`\r${line.length > w ? line.slice(0, w) : line.padEnd(Math.min(w, line.length + 8))}`);
    this.drawn = true;
    void this.name;
  }

  /** Clears the line. */
  end(): void {
    if (this.drawn) this.out.write('\r\u001b[K');
  }
}

function fmt(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.ceil((s % 3600) / 60)} min`;
}
