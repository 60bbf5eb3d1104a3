import { describe, expect, it } from 'vitest';
import { checksumLines, loneSurrogateAt, verifyLine, withoutChecksum } from './line-checksum.js';
import { checkSegmentLines } from './segment-lines.js';

const written = (...chunks: string[]) =>
  checksumLines(chunks.map((chunk) => Buffer.from(chunk))).toString('utf8');

describe('line checksums', () => {
  it('replaces the final brace of each line with a checksum member, keeping one JSON object per line', () => {
    const text = written('{"k":"q","body":{"a":"b"}}\n{"k":"r"}\n');
    const lines = text.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((line) => JSON.parse(line))).toEqual([
      { k: 'q', body: { a: 'b' }, '#': expect.stringMatching(/^[0-9a-f]{8}$/) },
      { k: 'r', '#': expect.stringMatching(/^[0-9a-f]{8}$/) },
    ]);
  });

  it('gives a line the same checksum however its bytes were split into chunks', () => {
    const whole = written('{"k":"q","n":1}\n{"k":"r"}\n');
    expect(written('{"k":"q",', '"n":1}', '\n{"k":"r"}\n')).toBe(whole);
    expect(written('{"k":"q","n":1}', '\n', '{"k":"r"}', '\n')).toBe(whole);
    expect(written('{"k":"q","n":1', '}\n{', '"k":"r"}\n')).toBe(whole);
  });

  it('ends an unterminated last line', () => {
    expect(
      written('{"k":"q"}\n{"k":"r"}')
        .split('\n')
        .map((line) => line && JSON.parse(line).k),
    ).toEqual(['q', 'r', '']);
  });

  it('leaves an empty object and a line that is not an object as they are', () => {
    expect(written('{}\n[1,2]\n')).toBe('{}\n[1,2]\n');
  });

  it('gives back the original bytes without the checksum', () => {
    const line = Buffer.from(written('{"k":"q","t":"é"}\n').trimEnd());
    expect(withoutChecksum(line).toString()).toBe('{"k":"q","t":"é"}');
    expect(withoutChecksum(Buffer.from('{"k":"q"}')).toString()).toBe('{"k":"q"}');
  });
});

describe('line verification', () => {
  const checksummed = (text: string) => Buffer.from(written(`${text}\n`).trimEnd());

  it('accepts a checksummed line and an unchecksummed JSON object from an older log', () => {
    expect(verifyLine(checksummed('{"k":"q","n":1}'))).toEqual({ ok: true, checksummed: true });
    expect(verifyLine(Buffer.from('{"k":"q","n":1}'))).toEqual({ ok: true, checksummed: false });
  });

  it('finds a flipped byte in a checksummed line', () => {
    const line = checksummed('{"k":"q","userId":"anna","n":12345}');
    line[line.indexOf('anna')] = 'A'.charCodeAt(0);
    expect(verifyLine(line)).toMatchObject({ ok: false, damage: 'checksum_mismatch' });
  });

  it('finds a changed checksum', () => {
    const line = checksummed('{"k":"q"}');
    const at = line.length - 3;
    line[at] = line[at] === 0x30 ? 0x31 : 0x30;
    expect(verifyLine(line)).toMatchObject({ ok: false, damage: 'checksum_mismatch' });
  });

  it('refuses a line without a checksum that is not a JSON object', () => {
    expect(verifyLine(Buffer.from('{"k":"q","body":{"a":'))).toMatchObject({ ok: false, damage: 'not_json' });
    expect(verifyLine(Buffer.from('[1,2]'))).toMatchObject({ ok: false, damage: 'not_json' });
    expect(verifyLine(Buffer.from('\u0000\u0001garbage'))).toMatchObject({ ok: false, damage: 'not_json' });
  });

  it('refuses bytes that are not UTF-8, checksummed or not', () => {
    const bad = Buffer.concat([Buffer.from('{"k":"q","s":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(verifyLine(bad)).toMatchObject({ ok: false, damage: 'invalid_utf8' });
    const sum = checksumLines([bad, Buffer.from('\n')]);
    expect(verifyLine(sum.subarray(0, -1))).toMatchObject({ ok: false, damage: 'invalid_utf8' });
  });

  it('refuses a lone surrogate escape anywhere in the line, checksummed or not', () => {
    for (const text of [
      '{"k":"q","body":{"event":"a\\ud800b"}}',
      '{"k":"q","body":{"properties":{"\\udc00":1}}}',
      '{"k":"q","body":{"x":"\\uD83D"}}',
      '{"k":"q","body":{"x":"\\ud83d\\u0041"}}',
    ]) {
      expect(verifyLine(Buffer.from(text))).toMatchObject({ ok: false, damage: 'lone_surrogate' });
      expect(verifyLine(checksummed(text))).toMatchObject({ ok: false, damage: 'lone_surrogate' });
    }
  });

  it('accepts surrogate pairs and an escaped backslash before "ud800"', () => {
    expect(loneSurrogateAt(Buffer.from('{"x":"\\ud83d\\ude00"}'))).toBeUndefined();
    expect(loneSurrogateAt(Buffer.from('{"x":"\\\\ud800"}'))).toBeUndefined();
    expect(loneSurrogateAt(Buffer.from('{"x":"\\\\\\ud800"}'))).toBe(8);
    expect(loneSurrogateAt(Buffer.from('{"x":"\\u00e9\\u4e2d"}'))).toBeUndefined();
  });
});

describe('segment lines', () => {
  it('sets aside the bad lines of a segment by line number and keeps the good ones', () => {
    const good = written('{"k":"q","n":1}\n');
    const flipped = Buffer.from(written('{"k":"q","n":2}\n'));
    flipped[flipped.indexOf('2')] = '3'.charCodeAt(0);
    const segment = Buffer.concat([
      Buffer.from(good),
      flipped,
      Buffer.from('{"k":"q","e":"\\ud800"}\n'),
      Buffer.from('\n'),
      Buffer.from(written('{"k":"q","n":4}\n')),
      Buffer.from('{"k":"q","n":'),
    ]);
    const checked = checkSegmentLines(segment);
    expect(checked.good.map((line) => line.lineNo)).toEqual([1, 5]);
    expect(checked.damaged.map((line) => [line.lineNo, line.damage])).toEqual([
      [2, 'checksum_mismatch'],
      [3, 'lone_surrogate'],
      [6, 'not_json'],
    ]);
    expect(checked.damaged[0]!.bytes.toString()).toContain('"n":3');
  });

  it('finds nothing in an empty segment', () => {
    expect(checkSegmentLines(Buffer.alloc(0))).toEqual({ good: [], damaged: [] });
  });
});
