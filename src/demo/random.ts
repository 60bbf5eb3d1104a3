/**
 * A small seeded pseudo-random generator for the demo business.
 *
 * The core is xoshiro128** (Blackman and Vigna), seeded through splitmix32 so that any 32-bit seed,
 * including 0, gives a well-mixed starting state. Nothing here is cryptographic; the only goals are
 * speed and exact reproducibility from a numeric seed on every platform.
 */

const TWO_POW_32 = 4294967296;

/** Finalising mix of MurmurHash3: spreads every input bit over the whole 32-bit word. */
function fmix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Splits any finite number into two 32-bit words so that large or fractional seeds still count fully. */
function numberWords(value: number): [number, number] {
  if (!Number.isFinite(value)) throw new RangeError(`A seed part must be a finite number, got ${value}`);
  const whole = Math.floor(value);
  const fraction = value - whole;
  const low = whole >>> 0;
  const high = (Math.floor(whole / TWO_POW_32) >>> 0) ^ Math.floor(fraction * TWO_POW_32);
  return [low, high >>> 0];
}

/**
 * Hashes a list of numbers into one 32-bit seed. Used to derive independent streams,
 * e.g. `hashSeed(seed, STREAM_RENDER, sessionId)`, so lazily generated parts never depend on call order.
 */
export function hashSeed(...parts: readonly number[]): number {
  let h = 0x2545f491;
  for (const part of parts) {
    const [low, high] = numberWords(part);
    h = fmix32(Math.imul(h ^ low, 0x9e3779b1) + 0x7f4a7c15);
    h = fmix32(Math.imul(h ^ high, 0x85ebca77) + 0x165667b1);
  }
  return h;
}

function rotl(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}

const HEX_BYTES: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex8(value: number): string {
  return (
    HEX_BYTES[value >>> 24]! +
    HEX_BYTES[(value >>> 16) & 255]! +
    HEX_BYTES[(value >>> 8) & 255]! +
    HEX_BYTES[value & 255]!
  );
}

/** A reproducible random stream. Every method consumes a fixed, documented amount of the stream. */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    let state = hashSeed(seed);
    const next = (): number => {
      state = (state + 0x9e3779b9) | 0;
      return fmix32(state);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A stream that depends only on the given numbers, e.g. `Random.derive(seed, 7, day)`. */
  static derive(...parts: readonly number[]): Random {
    return new Random(hashSeed(...parts));
  }

  /** The next unsigned 32-bit integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / TWO_POW_32;
  }

  /** An integer in [min, max], both ends included. */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`int(${min}, ${max}): max is below min`);
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A float in [min, max). */
  float(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One item, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** An index chosen in proportion to `weights` (non-negative, at least one positive). */
  weightedIndex(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    if (!(total > 0)) throw new RangeError('weightedIndex() needs a positive total weight');
    let target = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      target -= weights[i]!;
      if (target < 0) return i;
    }
    // Rounding can leave a sliver at the end: return the last index with weight.
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
    return weights.length - 1;
  }

  /** One item chosen in proportion to its weight. */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    if (items.length !== weights.length)
      throw new RangeError('weighted(): items and weights differ in length');
    return items[this.weightedIndex(weights)]!;
  }

  /**
   * An index from a cumulative weight table (`cumulative[i]` = sum of weights 0..i), by binary search.
   * Returns -1 when the table has no weight at all.
   */
  cumulativeIndex(cumulative: ArrayLike<number>): number {
    const n = cumulative.length;
    const total = n === 0 ? 0 : cumulative[n - 1]!;
    if (!(total > 0)) return -1;
    const target = this.next() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** A Poisson-distributed count with mean `lambda` (Knuth for small means, a rounded normal above 30). */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda > 30) return Math.max(0, Math.round(this.normal(lambda, Math.sqrt(lambda))));
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** A normally distributed value (Box-Muller, caching the second value of each pair). */
  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return mean + sd * spare;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = radius * Math.sin(2 * Math.PI * v);
    return mean + sd * radius * Math.cos(2 * Math.PI * v);
  }

  /** A log-normal multiplier with median 1, handy for per-person variation. */
  spread(sigma: number): number {
    return Math.exp(this.normal(0, sigma));
  }

  /** An exponentially distributed value with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** A random identifier shaped like a version-4 UUID (lower-case hex). */
  uuid(): string {
    const a = this.uint32();
    const b = this.uint32();
    const c = this.uint32();
    const d = this.uint32();
    const bHex = hex8((b & 0xffff0fff) | 0x00004000);
    const cHex = hex8((c & 0x3fffffff) | 0x80000000);
    return `${hex8(a)}-${bHex.slice(0, 4)}-${bHex.slice(4)}-${cHex.slice(0, 4)}-${cHex.slice(4)}${hex8(d)}`;
  }

  /** Shuffles in place (Fisher-Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }
}

/** A UUID-shaped id that depends only on the given numbers (for message ids that must not depend on order). */
export function deterministicUuid(...parts: readonly number[]): string {
  return Random.derive(...parts).uuid();
}
