import type { RequestRecord } from '../../src/store/wal-format.js';
import { requestLine } from './wal-fixtures.js';

const chrome = { browser: 'Chrome', browser_version: '120.0', os: 'Linux', device_type: 'desktop' };
const safari = { browser: 'Safari', browser_version: '17.0', os: 'iOS', device_type: 'mobile' };

/** Request lines that exercise every rule of the expansion: defaults, ids, skew, IPs, agents, extras, skips. */
export function parityLines(): RequestRecord[] {
  return [
    requestLine(
      [
        // No messageId: gets `${rid}-0`. Numeric userId. Batch-level context, sentAt and integrations apply.
        { type: 'track', event: 'Batch Defaults', userId: 12345, timestamp: '2026-03-02T11:00:00.000Z' },
        // Its own context wins over the batch's; clock an hour fast with its own sentAt.
        {
          type: 'identify',
          messageId: 'p-own-context',
          anonymousId: 'anon-1',
          userId: '',
          traits: { email: 'a@example.com', nested: { deep: [1, 2, { x: null }] } },
          timestamp: '2026-03-02T10:59:00.000Z',
          sentAt: '2026-03-02T11:00:00.000Z',
          context: { ip: '198.51.100.23', userAgent: 'UA-B', locale: 'en-GB' },
        },
        // Rejected by the collector: must not appear.
        { type: 'track', messageId: 'p-skipped', userId: 'x', event: 'Nope' },
        // Not an object: the collector rejects it, so it is always in skip.
        'garbage',
        // Extra top-level fields are kept; writeKey is not. originalTimestamp stands in for timestamp.
        {
          type: 'page',
          messageId: 'p-extra',
          anonymousId: 'anon-2',
          name: 'Home',
          category: 'Shop',
          originalTimestamp: '2026-03-02T09:00:00',
          channel: 'web',
          rudderId: 'r-1',
          writeKey: 'secret',
          properties: null,
          integrations: { All: false },
        },
        // Context without ip keeps no ip key; date-only timestamp.
        {
          type: 'group',
          messageId: 'p-group',
          userId: 'u2',
          groupId: 77,
          timestamp: '2026-03-01',
          context: { app: 'pos' },
        },
      ],
      {
        received_at: '2026-03-02T10:00:05.000Z',
        ip_of: ['203.0.113.0', '198.51.100.0', null, null, '203.0.113.0', '203.0.113.0'],
        agent_of: [0, 1, null, null, 0, 0],
        agents: [chrome, safari],
        skip: [2, 3],
        ua: 'UA-A',
        batchFields: {
          sentAt: '2026-03-02T11:00:05.000Z',
          context: { ip: '203.0.113.99', library: { name: 'analytics-node' } },
          integrations: { Mixpanel: true },
        },
      },
    ),
    // A single-call line: the endpoint implies the type; IP dropped by policy removes context.ip.
    requestLine(
      [
        {
          messageId: 'p-single',
          userId: 'u3',
          name: 'Checkout',
          context: { ip: '192.0.2.1', page: { path: '/c' } },
        },
      ],
      { implied_type: 'screen', ip_of: [null], agent_of: [null], agents: [], ua: null },
    ),
    // A retry of an earlier id inside the same segment is dropped; a message with no ids at all is kept as is.
    requestLine(
      [
        {
          type: 'alias',
          messageId: 'p-alias',
          userId: 'u4',
          previousId: 'anon-2',
          timestamp: '2026-03-02T10:00:00+02:00',
        },
        {
          type: 'track',
          messageId: 'p-unicode',
          userId: 'ü-ß',
          event: 'Ordered ☕ “quoted”',
          properties: { 'key with spaces': 'v\n' },
        },
        {
          type: 'track',
          messageId: 'p-numbers',
          userId: 'u5',
          event: 'Numbers',
          properties: { big: 12345678901234, float: 0.1, neg: -3 },
        },
        {
          type: 'track',
          messageId: 'p-empty-props',
          userId: 'u6',
          event: 'Empty',
          properties: {},
          context: {},
        },
        // RudderStack's browser SDK: identify traits only in context.traits; a track keeps its context as is.
        {
          type: 'identify',
          messageId: 'p-context-traits',
          userId: 'u7',
          context: { traits: { email: 'r@example.com' } },
        },
        {
          type: 'track',
          messageId: 'p-track-context-traits',
          userId: 'u7',
          event: 'T',
          context: { traits: { plan: 'x' } },
        },
      ],
      { ip_of: Array(6).fill('203.0.113.0'), agent_of: Array(6).fill(null) },
    ),
  ];
}

const JSON_COLUMNS = ['properties', 'traits', 'context', 'integrations', 'extra'];

/** A row as plain comparable values: JSON columns parsed, timestamps as ISO strings to the millisecond. */
export function normaliseRow(row: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === 'k') continue;
    if (JSON_COLUMNS.includes(key)) out[key] = typeof value === 'string' ? JSON.parse(value) : value;
    else if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value))
      out[key] = new Date(value).toISOString();
    else out[key] = value;
  }
  return out;
}
