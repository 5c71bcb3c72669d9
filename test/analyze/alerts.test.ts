import { describe, expect, test } from 'vitest';
import { shouldAlert } from '../../src/analyze/alerts.js';
import { CategoryState } from '../../src/analyze/clients.js';

const S = 1_000_000;
const WINDOW = 3600 * S;
const T = 1_727_740_800 * S;

/** A category state that alerted once, at `last`. */
function alertedAt(last: number): CategoryState {
  const s = new CategoryState();
  expect(shouldAlert(s, last, WINDOW)).toBe(true);
  return s;
}

describe('shouldAlert: the suppression window around the last alert', () => {
  test('the first post-cutoff contact alerts, whatever the window', () => {
    const s = new CategoryState();
    expect(shouldAlert(s, T, Number.MAX_SAFE_INTEGER)).toBe(true);
    expect([s.sequence, s.lastAlertMicros, s.folded]).toEqual([1, T, 0]);
  });

  // The window is half-open on both sides: a contact a full window away (either way) alerts.
  test.for([
    { name: 'one microsecond inside the window, after', at: T + WINDOW - 1, alerts: false },
    { name: 'exactly one window after', at: T + WINDOW, alerts: true },
    { name: 'one microsecond inside the window, before', at: T - WINDOW + 1, alerts: false },
    { name: 'exactly one window before', at: T - WINDOW, alerts: true },
    { name: 'at the same microsecond', at: T, alerts: false },
    { name: 'a year after', at: T + 365 * 86_400 * S, alerts: true },
    { name: 'a year before (an older capture replayed after a newer one)', at: T - 365 * 86_400 * S, alerts: true },
  ])('$name: alerts $alerts', ({ at, alerts }) => {
    const s = alertedAt(T);
    expect(shouldAlert(s, at, WINDOW)).toBe(alerts);
    // An alert moves the window to itself and counts; a folded contact only counts as folded.
    expect([s.sequence, s.lastAlertMicros, s.folded]).toEqual(alerts ? [2, at, 0] : [1, T, 1]);
  });

  test('every folded contact is counted (the analyzer hands the count on with the next alert); the window follows the last alert, not the last contact', () => {
    const s = alertedAt(T);
    const got = [T + 10 * S, T + 20 * 60 * S, T + 59 * 60 * S, T + WINDOW, T + WINDOW + 30 * 60 * S, T + 2 * WINDOW].map((at) => shouldAlert(s, at, WINDOW));
    expect(got).toEqual([false, false, false, true, false, true]);
    expect([s.sequence, s.lastAlertMicros, s.folded]).toEqual([3, T + 2 * WINDOW, 4]);
  });
});
