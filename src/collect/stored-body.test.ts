import { describe, expect, it } from 'vitest';
import { storedBody } from './stored-body.js';

const track = (id: string, extra: Record<string, unknown> = {}) => ({
  type: 'track',
  event: 'E',
  userId: 'u',
  messageId: id,
  ...extra,
});

describe('the stored body of a request', () => {
  it('stores the parsed messages as they are when nothing is left out or replaced', () => {
    const messages = [track('a'), track('b')];
    const body = storedBody({ messages, skip: [], replaced: [], batchContextCopied: false }, undefined, {
      sentAt: '2026-01-01T00:00:00Z',
      context: { locale: 'fr' },
    });
    expect((body.value as { batch: unknown }).batch).toBe(messages);
    expect(JSON.parse(body.json)).toEqual({
      batch: messages,
      sentAt: '2026-01-01T00:00:00Z',
      context: { locale: 'fr' },
    });
  });

  it('puts null where a message is left out, the replacement where one is replaced, and no write key', () => {
    const messages = [track('a', { writeKey: 'wk' }), track('b'), track('c')];
    const sealed = track('c', { traits: { email: 'rfy1:sealed' } });
    const body = storedBody(
      {
        messages,
        skip: [1],
        replaced: [undefined, undefined, { ...sealed, writeKey: 'wk' }],
        batchContextCopied: true,
      },
      undefined,
      { context: { traits: { email: 'clear@example.org' } }, integrations: { All: true } },
    );
    expect(JSON.parse(body.json)).toEqual({
      batch: [track('a'), null, sealed],
      integrations: { All: true },
    });
    expect(messages[0]).toHaveProperty('writeKey', 'wk');
  });

  it('stores a single call as the message itself', () => {
    const body = storedBody(
      { messages: [track('a', { writeKey: 'wk' })], skip: [], replaced: [], batchContextCopied: false },
      'track',
      {},
    );
    expect(body.value).toEqual(track('a'));
    expect(body.json).toBe(JSON.stringify(track('a')));
  });
});
