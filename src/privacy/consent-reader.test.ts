import { describe, expect, it } from 'vitest';
import { DEFAULT_CONSENT_DEFAULTS } from './consent-purposes.js';
import { overviewAxis, runningTotals } from './consent-reader.js';

const DAY = 86_400_000;

describe('consent overview axis and totals', () => {
  it('covers whole UTC days from the start of `from` past `to`', () => {
    const axis = overviewAxis('day', {
      from: new Date('2026-03-01T15:00:00Z'),
      to: new Date('2026-03-03T01:00:00Z'),
    });
    expect(axis).toEqual({
      fromMs: Date.parse('2026-03-01T00:00:00Z'),
      toMs: Date.parse('2026-03-04T00:00:00Z'),
      stepMs: DAY,
      count: 3,
    });
  });

  it('starts weeks on Mondays and defaults to the last 12 weeks or 30 days', () => {
    const now = new Date('2026-03-04T12:00:00Z'); // a Wednesday
    const weeks = overviewAxis('week', {}, now);
    expect(new Date(weeks.fromMs).toISOString()).toBe('2025-12-08T00:00:00.000Z');
    expect(new Date(weeks.fromMs).getUTCDay()).toBe(1);
    expect(weeks.count).toBe(13);
    expect(overviewAxis('day', {}, now).count).toBe(31);
  });

  it('refuses an empty or reversed range and one with too many buckets', () => {
    const at = new Date('2026-03-04T00:00:00Z');
    expect(() => overviewAxis('day', { from: at, to: at })).toThrow(/before/);
    expect(() => overviewAxis('day', { from: new Date('2020-01-01T00:00:00Z'), to: at })).toThrow(/at most/);
  });

  it('sums increments into totals, starting from what happened before the axis', () => {
    const axis = { fromMs: 0, toMs: 3 * DAY, stepMs: DAY, count: 3 };
    const points = runningTotals(
      axis,
      {
        people: [
          { bucket: -1, count: 2 },
          { bucket: 1, count: 1 },
        ],
        granted: [
          { bucket: -1, purpose: 'analytics', delta: -1 },
          { bucket: 2, purpose: 'analytics', delta: 1 },
          { bucket: 1, purpose: 'advertising', delta: 1 },
        ],
        unknownCategories: [],
      },
      DEFAULT_CONSENT_DEFAULTS,
    );
    expect(points).toEqual([
      {
        bucket: '1970-01-01T00:00:00.000Z',
        people: 2,
        granted: { analytics: 1, personalisation: 2, advertising: 0, sale_sharing: 0 },
      },
      {
        bucket: '1970-01-02T00:00:00.000Z',
        people: 3,
        granted: { analytics: 2, personalisation: 3, advertising: 1, sale_sharing: 0 },
      },
      {
        bucket: '1970-01-03T00:00:00.000Z',
        people: 3,
        granted: { analytics: 3, personalisation: 3, advertising: 1, sale_sharing: 0 },
      },
    ]);
  });
});
