import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../store/wal-format.js';
import { TailBuffer } from './tail-buffer.js';

function request(rid: string, batch: Record<string, unknown>[]): RequestRecord {
  return {
    k: 'q',
    rid,
    received_at: '2026-11-24T10:00:00.000Z',
    source: 'web',
    implied_type: null,
    ua: null,
    ip_of: batch.map(() => null),
    agent_of: batch.map(() => null),
    agents: [],
    skip: [],
    extra_of: [],
    body: { batch },
  };
}

const track = (ids: Record<string, string>, event: string) => ({ type: 'track', event, ...ids });

describe('the live tail buffer', () => {
  it('forgets every request that mentions an erased id and keeps the others with their cursors', () => {
    const tail = new TailBuffer();
    tail.push(request('a', [track({ userId: 'keep' }, 'One')]), 1);
    tail.push(
      request('b', [track({ userId: 'keep' }, 'Two'), track({ anonymousId: 'anon-gone' }, 'Three')]),
      2,
    );
    tail.push(request('c', [{ type: 'alias', userId: 'other', previousId: 'user-gone' }]), 1);
    tail.push(request('d', [track({ userId: 'keep' }, 'Four')]), 1);

    expect(tail.forget(['user-gone', 'anon-gone'])).toBe(2);

    const left = tail.since(0, 100);
    expect(left.map((entry) => entry.record.event)).toEqual(['One', 'Four']);
    expect(left.map((entry) => entry.cursor)).toEqual([1, 5]);
    expect(tail.cursor).toBe(5);
  });

  it('forgets nothing when no request mentions the ids', () => {
    const tail = new TailBuffer();
    tail.push(request('a', [track({ userId: 'keep' }, 'One')]), 1);
    expect(tail.forget(['nobody'])).toBe(0);
    expect(tail.since(0, 10)).toHaveLength(1);
  });
});
