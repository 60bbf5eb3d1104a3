import { describe, expect, it } from 'vitest';
import { retentionCutoffs } from './retention.js';

describe('retention cutoffs', () => {
  const now = new Date('2026-06-30T12:00:00Z');

  it('keeps events forever when eventsDays is 0 but always expires rejects', () => {
    expect(retentionCutoffs({ eventsDays: 0, rejectsDays: 30, events: {} }, now)).toEqual({
      rejectsBefore: new Date('2026-05-31T12:00:00Z'),
    });
  });

  it('expires events received more than eventsDays before now', () => {
    expect(retentionCutoffs({ eventsDays: 365, rejectsDays: 7, events: {} }, now)).toEqual({
      eventsBefore: new Date('2025-06-30T12:00:00Z'),
      rejectsBefore: new Date('2026-06-23T12:00:00Z'),
    });
  });

  it('turns per-type and per-event retention into rules, 0 keeping them forever', () => {
    const cutoffs = retentionCutoffs(
      { eventsDays: 365, rejectsDays: 7, events: { page: 30, 'Order Completed': 0, 'Product Viewed': 90 } },
      now,
    );
    expect(cutoffs.eventRules).toEqual([
      { type: 'page', before: new Date('2026-05-31T12:00:00Z') },
      { type: 'track', event: 'Order Completed' },
      { type: 'track', event: 'Product Viewed', before: new Date('2026-04-01T12:00:00Z') },
    ]);
  });
});
