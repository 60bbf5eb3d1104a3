import { describe, expect, it } from 'vitest';
import { canonicalJson, entryHash, GENESIS_HASH, parseEntryLine } from './audit-entry.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth, keeps array order and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: 'x', z: undefined } })).toBe(
      '{"a":{"c":"x","d":[3,{"e":2,"f":1}]},"b":1}',
    );
  });

  it('writes strings and numbers as JSON.stringify does (RFC 8785)', () => {
    expect(canonicalJson({ n: 1e21, m: 0.1, s: 'é"\u2028', t: null, u: true })).toBe(
      '{"m":0.1,"n":1e+21,"s":"é\\"\u2028","t":null,"u":true}',
    );
  });
});

describe('parseEntryLine', () => {
  const unsealed = {
    seq: 1,
    at: '2025-01-01T00:00:00.000Z',
    actor: { cli: 'anna' },
    action: 'key.create' as const,
    target: 'key_1',
    detail: {},
    prev: GENESIS_HASH,
  };
  const entry = { ...unsealed, hash: entryHash(unsealed) };

  it('accepts an entry whatever the order of its keys on the line', () => {
    const { seq, ...rest } = unsealed;
    const reordered = JSON.stringify({ hash: entry.hash, ...rest, seq });
    expect(parseEntryLine(reordered)).toEqual({ entry });
  });

  it('says what is wrong with a line that is not an entry', () => {
    expect(parseEntryLine('[1]')).toEqual({ problem: 'not a JSON object' });
    expect(parseEntryLine(JSON.stringify({ ...entry, seq: 0 }))).toMatchObject({
      problem: '"seq" is not a positive integer',
    });
    expect(parseEntryLine(JSON.stringify({ ...entry, prev: 'abc' }))).toMatchObject({
      problem: expect.stringMatching(/prev/),
    });
    expect(parseEntryLine(JSON.stringify({ ...entry, target: 'key_2' }))).toEqual({
      problem: 'hash mismatch: the entry was changed after it was written',
      seq: 1,
    });
  });
});
