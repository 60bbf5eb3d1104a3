import { describe, expect, it } from 'vitest';
import { isRefineryError } from '../core/errors.js';
import { assertSafeJson } from './object-safety.js';

function refusal(value: unknown, checkUnicode = true) {
  try {
    assertSafeJson(value, 'body', 4, checkUnicode);
  } catch (error) {
    if (isRefineryError(error)) return { code: error.code, field: error.details.field };
    throw error;
  }
  return undefined;
}

describe('assertSafeJson', () => {
  it('passes a plain message and bounds its size as JSON', () => {
    const message = { event: 'Order', properties: { items: [{ sku: 'a', n: 2 }], total: 2.5 } };
    const bound = assertSafeJson(message, 'body', 4);
    expect(bound).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(message)));
  });

  it('names the place of each kind of problem', () => {
    expect(refusal({ a: { b: { c: { d: { e: 1 } } } } })).toEqual({
      code: 'REFINERY_ERR_TOO_DEEP',
      field: 'body.a.b.c.d',
    });
    expect(refusal(JSON.parse('{"p":[{"__proto__":{"x":1}}]}'))).toEqual({
      code: 'REFINERY_ERR_HOSTILE_KEY',
      field: 'body.p[0].__proto__',
    });
    expect(refusal({ t: { constructor: { prototype: {} } } })).toEqual({
      code: 'REFINERY_ERR_HOSTILE_KEY',
      field: 'body.t.constructor',
    });
    expect(refusal(JSON.parse('{"n":[1,1e400]}'))).toEqual({
      code: 'REFINERY_ERR_INVALID_FIELD',
      field: 'body.n[1]',
    });
    expect(refusal({ s: ['ok', 'x\ud800'] })).toEqual({
      code: 'REFINERY_ERR_INVALID_UNICODE',
      field: 'body.s[1]',
    });
    expect(refusal({ 'k\udc00': 1 })).toEqual({
      code: 'REFINERY_ERR_INVALID_UNICODE',
      field: 'body.k\uFFFD',
    });
  });

  it('skips the per-string check only when told the text cannot hold a lone surrogate', () => {
    expect(refusal({ s: 'x\ud800' }, false)).toBeUndefined();
    expect(refusal('\ud800')).toEqual({ code: 'REFINERY_ERR_INVALID_UNICODE', field: 'body' });
  });

  it('keeps a constructor key that holds no prototype', () => {
    expect(refusal({ constructor: 'Ada', nested: { constructor: { name: 'x' } } })).toBeUndefined();
  });
});
