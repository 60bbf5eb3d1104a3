import { describe, expect, it } from 'vitest';
import { gpcFromHeaders } from './gpc.js';

describe('the Global Privacy Control signal', () => {
  it('is on when the request sends Sec-GPC: 1', () => {
    expect(gpcFromHeaders({ 'sec-gpc': '1' })).toBe(true);
  });

  it('matches the header name whatever its case', () => {
    expect(gpcFromHeaders({ 'Sec-GPC': '1' })).toBe(true);
    expect(gpcFromHeaders({ 'SEC-GPC': '1' })).toBe(true);
  });

  it('trims whitespace around the value', () => {
    expect(gpcFromHeaders({ 'sec-gpc': ' 1\t' })).toBe(true);
  });

  it('is off when the header is absent, because absence means no decision', () => {
    expect(gpcFromHeaders({})).toBe(false);
    expect(gpcFromHeaders({ 'sec-gpc': undefined, 'content-type': 'application/json' })).toBe(false);
  });

  it('is off for any value other than 1', () => {
    for (const value of ['0', '', 'true', 'yes', '1.0', '01', '1, 1', '2']) {
      expect(gpcFromHeaders({ 'sec-gpc': value }), value).toBe(false);
    }
  });

  it('reads a header given once as a one-element list', () => {
    expect(gpcFromHeaders({ 'sec-gpc': ['1'] })).toBe(true);
  });

  it('is off when the header is sent more than once, which is not the spec grammar', () => {
    expect(gpcFromHeaders({ 'sec-gpc': ['1', '1'] })).toBe(false);
    expect(gpcFromHeaders({ 'sec-gpc': '1', 'Sec-GPC': '1' })).toBe(false);
    expect(gpcFromHeaders({ 'sec-gpc': [] })).toBe(false);
  });

  it('does not mistake a header with a similar name for the signal', () => {
    expect(gpcFromHeaders({ 'x-sec-gpc': '1', dnt: '1' })).toBe(false);
  });
});
