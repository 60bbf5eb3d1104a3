import { describe, expect, it } from 'vitest';
import { deterministicUuid, hashSeed, Random } from './random.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function sample(seed: number, count: number): number[] {
  const rng = new Random(seed);
  return Array.from({ length: count }, () => rng.uint32());
}

describe('Random', () => {
  it('produces the same stream for the same seed and a different one for another seed', () => {
    expect(sample(7, 50)).toEqual(sample(7, 50));
    expect(sample(7, 50)).not.toEqual(sample(8, 50));
    expect(sample(0, 5).some((v) => v !== 0)).toBe(true);
  });

  it('derives independent streams from seed parts, including large and fractional seeds', () => {
    expect(hashSeed(1, 2, 3)).toBe(hashSeed(1, 2, 3));
    expect(hashSeed(1, 2, 3)).not.toBe(hashSeed(1, 3, 2));
    expect(hashSeed(2 ** 40)).not.toBe(hashSeed(0));
    expect(hashSeed(1.5)).not.toBe(hashSeed(1));
    expect(() => hashSeed(Number.NaN)).toThrow(RangeError);
  });

  it('keeps floats in [0, 1) and integers within their inclusive bounds, hitting both ends', () => {
    const rng = new Random(1);
    const seen = new Set<number>();
    let outside = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = rng.next();
      if (x < 0 || x >= 1) outside++;
      seen.add(rng.int(3, 6));
    }
    expect(outside).toBe(0);
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
  });

  it('draws Poisson and normal values with the requested mean and spread', () => {
    const rng = new Random(2);
    const n = 20_000;
    let poissonSum = 0;
    let normalSum = 0;
    let normalSquares = 0;
    for (let i = 0; i < n; i++) {
      poissonSum += rng.poisson(2.5);
      const x = rng.normal(10, 2);
      normalSum += x;
      normalSquares += x * x;
    }
    const mean = normalSum / n;
    expect(poissonSum / n).toBeCloseTo(2.5, 1);
    expect(mean).toBeCloseTo(10, 1);
    expect(Math.sqrt(normalSquares / n - mean * mean)).toBeCloseTo(2, 1);
    expect(rng.poisson(0)).toBe(0);
    expect(rng.poisson(100)).toBeGreaterThan(50);
  });

  it('picks by weight in proportion and never picks a zero weight', () => {
    const rng = new Random(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[rng.weightedIndex([1, 0, 3])]! += 1;
    expect(counts[1]).toBe(0);
    expect(counts[2]! / counts[0]!).toBeGreaterThan(2.7);
    expect(counts[2]! / counts[0]!).toBeLessThan(3.3);
    expect(rng.cumulativeIndex(new Float64Array([0, 0, 5, 5]))).toBe(2);
    expect(rng.cumulativeIndex(new Float64Array([0, 0]))).toBe(-1);
  });

  it('makes UUID-shaped identifiers that are reproducible and distinct', () => {
    const ids = new Set<string>();
    const rng = new Random(4);
    for (let i = 0; i < 5000; i++) ids.add(rng.uuid());
    expect([...ids].every((id) => UUID.test(id))).toBe(true);
    expect(ids.size).toBe(5000);
    expect(deterministicUuid(1, 2)).toBe(deterministicUuid(1, 2));
    expect(deterministicUuid(1, 2)).not.toBe(deterministicUuid(2, 1));
  });

  it('shuffles into a permutation of the input', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const shuffled = new Random(5).shuffle([...items]);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
  });
});
