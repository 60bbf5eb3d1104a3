import { describe, expect, it } from 'vitest';
import { DAY_MS, daypartOf, easterSunday, simulationDays } from './calendar.js';

describe('calendar', () => {
  it('computes Easter Sunday for known years', () => {
    expect(new Date(easterSunday(2024)).toISOString().slice(0, 10)).toBe('2024-03-31');
    expect(new Date(easterSunday(2025)).toISOString().slice(0, 10)).toBe('2025-04-20');
    expect(new Date(easterSunday(2026)).toISOString().slice(0, 10)).toBe('2026-04-05');
    expect(new Date(easterSunday(2038)).toISOString().slice(0, 10)).toBe('2038-04-25');
  });

  it('simulates the whole days before the day of the end date, so nothing lies after the end', () => {
    const days = simulationDays(new Date('2026-01-01T15:30:00Z'), 365);
    expect(days).toHaveLength(365);
    expect(days[0]!.isoDate).toBe('2025-01-01');
    expect(days[364]!.isoDate).toBe('2025-12-31');
    expect(days[364]!.startMs + DAY_MS).toBeLessThanOrEqual(Date.parse('2026-01-01T15:30:00Z'));
    expect(days[0]!.weekday).toBe(3); // 1 January 2025 was a Wednesday.
    expect(() => simulationDays(new Date('nonsense'), 10)).toThrow(RangeError);
    expect(() => simulationDays(new Date(), 0)).toThrow(RangeError);
  });

  it('puts seasonal ranges on sale only in their season', () => {
    const days = simulationDays(new Date('2026-01-01T00:00:00Z'), 365);
    const onSale = (season: 'christmas' | 'easter' | 'summer', isoDate: string): boolean =>
      days.find((d) => d.isoDate === isoDate)!.seasonWeight[season] > 0;
    expect(onSale('christmas', '2025-10-31')).toBe(false);
    expect(onSale('christmas', '2025-11-01')).toBe(true);
    expect(onSale('christmas', '2025-12-24')).toBe(true);
    expect(onSale('easter', '2025-04-18')).toBe(true);
    expect(onSale('easter', '2025-05-10')).toBe(false);
    expect(onSale('summer', '2025-07-20')).toBe(true);
    expect(onSale('summer', '2025-01-20')).toBe(false);
    expect(days.find((d) => d.isoDate === '2025-12-25')!.shopClosed).toBe(true);
  });

  it('makes demand grow gently over the period and names parts of the day', () => {
    const days = simulationDays(new Date('2026-01-01T00:00:00Z'), 365);
    const march = days.find((d) => d.isoDate === '2025-03-12')!;
    const october = days.find((d) => d.isoDate === '2025-10-15')!;
    expect(october.seasonDemand).toBeGreaterThan(march.seasonDemand);
    expect(daypartOf(8)).toBe('morning');
    expect(daypartOf(12)).toBe('lunch');
    expect(daypartOf(15)).toBe('afternoon');
    expect(daypartOf(20)).toBe('evening');
  });
});
