import { describe, expect, it } from 'vitest';
import { retentionCutoffs } from './retention.js';

describe('retention cutoffs', () => {
  const now = new Date('2026-06-30T12:00:00Z');

  it('keeps events forever when eventsDays is 0 but always expires rejects', () => {
    expect(retentionCutoffs({ eventsDays: 0, rejectsDays: 30 }, now)).toEqual({
      rejectsBefore: new Date('2026-05-31T12:00:00Z'),
    });
  });

  it('expires events received more than eventsDays before now', () => {
    expect(retentionCutoffs({ eventsDays: 365, rejectsDays: 7 }, now)).toEqual({
      eventsBefore: new Date('2025-06-30T12:00:00Z'),
      rejectsBefore: new Date('2026-06-23T12:00:00Z'),
    });
  });
});
