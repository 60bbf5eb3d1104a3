import { describe, expect, it } from 'vitest';
import { correctTimestamp, parseIsoTimestamp } from './iso-time.js';

describe('timestamp correction', () => {
  const received = Date.parse('2026-03-01T12:00:00Z');

  it('subtracts the client-measured delay from the receive time when sentAt is known', () => {
    const clientEvent = Date.parse('2026-03-01T14:59:00Z');
    const clientSent = Date.parse('2026-03-01T15:00:00Z');
    expect(new Date(correctTimestamp(received, clientEvent, clientSent)).toISOString()).toBe(
      '2026-03-01T11:59:00.000Z',
    );
  });

  it('keeps the client time without sentAt, and uses the receive time without any client time', () => {
    expect(correctTimestamp(received, Date.parse('2026-02-01T00:00:00Z'))).toBe(
      Date.parse('2026-02-01T00:00:00Z'),
    );
    expect(correctTimestamp(received)).toBe(received);
  });

  it('accepts ISO 8601 variants the SDKs send and refuses everything else', () => {
    expect(parseIsoTimestamp('2026-03-01T12:00:00.123Z')).toBe(Date.parse('2026-03-01T12:00:00.123Z'));
    expect(parseIsoTimestamp('2026-03-01T12:00:00+02:00')).toBe(Date.parse('2026-03-01T10:00:00Z'));
    expect(parseIsoTimestamp('2026-03-01')).toBe(Date.parse('2026-03-01T00:00:00Z'));
    for (const bad of ['yesterday', '1700000000', '2026-13-45T00:00:00Z', ''])
      expect(parseIsoTimestamp(bad)).toBeUndefined();
  });
});
