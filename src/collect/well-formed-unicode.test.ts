import { describe, expect, it } from 'vitest';
import {
  findIllFormedUnicode,
  isWellFormed,
  mayHoldLoneSurrogate,
  wellFormedCut,
  wellFormedViolations,
  withoutLoneSurrogateEscapes,
} from './well-formed-unicode.js';

const EMOJI = '\u{1F600}';

describe('well-formed unicode', () => {
  it('suspects JSON text only when it holds a \\uD escape', () => {
    expect(mayHoldLoneSurrogate(`{"a":"${EMOJI} é \\u00e9 \\n"}`)).toBe(false);
    expect(mayHoldLoneSurrogate('{"a":"\\ud800"}')).toBe(true);
    expect(mayHoldLoneSurrogate('{"a":"\\uDFFF"}')).toBe(true);
    // A paired escape is suspected too; the values then decide.
    expect(mayHoldLoneSurrogate('{"a":"\\ud83d\\ude00"}')).toBe(true);
  });

  it('finds the first string or key holding a lone surrogate, with a path that is itself well-formed', () => {
    expect(findIllFormedUnicode(JSON.parse('{"a":[1,{"b":"\\ud83d\\ude00"}]}'))).toBeUndefined();
    expect(findIllFormedUnicode(JSON.parse('{"a":[1,{"b":"x\\ud800"}]}'))).toBe('a[1].b');
    const path = findIllFormedUnicode(JSON.parse('{"purposes":{"k\\udc00":true}}'));
    expect(path).toBe('purposes.k\uFFFD');
    expect(findIllFormedUnicode('\udc00', 'body')).toBe('body');
  });

  it('cuts text without splitting a surrogate pair', () => {
    const text = `abc${EMOJI}def`;
    expect(wellFormedCut(text, 4)).toBe('abc');
    expect(wellFormedCut(text, 5)).toBe(`abc${EMOJI}`);
    expect(wellFormedCut(text, 100)).toBe(text);
    expect(isWellFormed(wellFormedCut('ab\ud800cd', 100))).toBe(true);
  });

  it('replaces the escapes JSON.stringify writes for lone surrogates, and nothing else', () => {
    const text = JSON.stringify({ 'k\ud800': ['\udfff', `ok ${EMOJI}`, '\\ud800 is text'] });
    const mended = withoutLoneSurrogateEscapes(text);
    expect(JSON.parse(mended)).toEqual({ 'k\uFFFD': ['\uFFFD', `ok ${EMOJI}`, '\\ud800 is text'] });
  });

  it('mends violation excerpts cut inside an emoji and leaves sound ones as they are', () => {
    const sound = [{ path: 'properties.a', rule: 'pattern', message: 'must match', value: '"abc"' }];
    expect(wellFormedViolations(sound)).toBe(sound);
    const cut = `"${'x'.repeat(78)}${EMOJI}`.slice(0, 80);
    const [mended] = wellFormedViolations([{ ...sound[0]!, value: cut }]);
    expect(mended!.value).toBe(`"${'x'.repeat(78)}\uFFFD`);
  });
});
