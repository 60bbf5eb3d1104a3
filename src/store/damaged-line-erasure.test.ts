import { describe, expect, it } from 'vitest';
import { damagedLineMentions, damagedLineNeedles } from './damaged-line-erasure.js';
import type { ErasureTarget } from './privacy-types.js';

const target: ErasureTarget = {
  personIds: ['p_1'],
  userIds: ['u7'],
  anonymousIds: ['anon-"quoted"-42'],
  identifierKeys: ['user_id:u7', 'anonymous_id:anon-"quoted"-42', 'email:h1:abc123'],
  emailHashes: ['h1:abc123'],
  phoneHashes: [],
  emailDigests: [],
  needles: ['anon-"quoted"-42', 'ada@example.org'],
};
const needles = damagedLineNeedles(target);
const stored = (text: string | Buffer) => Buffer.from(text).toString('base64');

describe('damaged line matching for erasure', () => {
  it('finds a short user id only as a whole JSON string, not inside other text', () => {
    expect(damagedLineMentions(stored('{"body":{"userId":"u7","event":"x"}}'), needles)).toBe(true);
    expect(damagedLineMentions(stored('{"body":{"userId":"u77","event":"u7x"}}'), needles)).toBe(false);
  });

  it('finds an id written with JSON escapes, and one cut off by a torn line', () => {
    expect(damagedLineMentions(stored('{"anonymousId":"anon-\\"quoted\\"-42"}'), needles)).toBe(true);
    expect(damagedLineMentions(stored('{"anonymousId":"anon-\\"quoted\\"-42'), needles)).toBe(true);
  });

  it('finds identity keys and keyed email hashes, and an email in a line that is not UTF-8', () => {
    expect(damagedLineMentions(stored('{"k":"i","ids":["email:h1:abc123"]}'), needles)).toBe(true);
    const notUtf8 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(' ada@example.org')]);
    expect(damagedLineMentions(stored(notUtf8), needles)).toBe(true);
  });

  it('matches nothing when the target names no one', () => {
    const empty = damagedLineNeedles({
      ...target,
      userIds: [],
      anonymousIds: [],
      identifierKeys: [],
      emailHashes: [],
      needles: [],
    });
    expect(empty).toEqual([]);
    expect(damagedLineMentions(stored('{"userId":"u7"}'), empty)).toBe(false);
  });
});
