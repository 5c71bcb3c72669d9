import { CATEGORIES } from './rules.js';

/**
 * Matches per hour of judged packet time, by category: what the HTML report's chart plots.
 * Bounded: at most MAX_HOURS distinct hours (over 11 years) are kept; matches in further hours
 * are counted in `dropped`.
 */
export const HOUR_MICROS = 3_600_000_000;
export const MAX_HOURS = 100_000;

export class Timeline {
  /** Hour start (seconds since the epoch) → counts by CATEGORIES index. */
  private readonly hours = new Map<number, number[]>();
  private lastHour = Number.NaN;
  private lastRow: number[] | undefined;
  dropped = 0;

  add(atMicros: number, categoryIndex: number): void {
    const h = Math.floor(atMicros / HOUR_MICROS) * 3600;
    let row = h === this.lastHour ? this.lastRow : this.hours.get(h);
    if (row === undefined) {
      if (this.hours.size >= MAX_HOURS) {
        this.dropped++;
        return;
      }
      row = new Array<number>(CATEGORIES.length).fill(0);
      this.hours.set(h, row);
    }
    this.lastHour = h;
    this.lastRow = row;
    row[categoryIndex]!++;
  }

  /** Rows in time order: [hour start (s), counts by CATEGORIES index]. */
  rows(): Array<[number, readonly number[]]> {
    return [...this.hours].sort((a, b) => a[0] - b[0]);
  }

  get size(): number {
    return this.hours.size;
  }
}
