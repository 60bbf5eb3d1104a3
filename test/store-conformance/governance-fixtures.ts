import type {
  FlagRecord,
  ParsedAgent,
  QuarantineRecord,
  QuarantineStatus,
  QuarantineStatusRecord,
  StoredViolation,
  WalRecord,
} from '../../src/store/wal-format.js';
import { requestLine } from './wal-fixtures.js';

/** One contract violation as the collector stores it. */
export function violation(overrides: Partial<StoredViolation> = {}): StoredViolation {
  return {
    path: 'properties.total',
    rule: 'minimum',
    message: 'must be at least 0',
    value: '-1',
    ...overrides,
  };
}

/** What a contract decided for one message of a request. */
export interface Verdict {
  readonly outcome: 'flag' | 'quarantine';
  readonly contract?: string | null;
  readonly contract_version?: string | null;
  readonly violations: readonly StoredViolation[];
}

export interface GovernedRequestOptions {
  readonly received_at?: string;
  readonly source?: string;
  readonly ua?: string | null;
  /** The parsed user agent of every message (what the collector would have parsed from `ua`). */
  readonly agent?: ParsedAgent | null;
}

/**
 * The lines the collector writes for one request under contracts: a request line with the passing and
 * flagged messages (quarantined ones in `skip`; no request line when every message was held), then an `x`
 * line per quarantined message and an `f` line per flagged one. Ids are the messageId, else `${rid}-${index}`.
 */
export function governedRequest(
  messages: readonly Record<string, unknown>[],
  verdicts: Readonly<Record<number, Verdict>>,
  options: GovernedRequestOptions = {},
): WalRecord[] {
  const held = messages.flatMap((_, index) => (verdicts[index]?.outcome === 'quarantine' ? [index] : []));
  const agent = options.agent ?? null;
  const line = requestLine(messages, {
    skip: held,
    ua: options.ua ?? null,
    agents: agent ? [agent] : [],
    agent_of: messages.map(() => (agent ? 0 : null)),
    ...(options.received_at !== undefined ? { received_at: options.received_at } : {}),
    ...(options.source !== undefined ? { source: options.source } : {}),
  });
  const governance: WalRecord[] = [];
  messages.forEach((message, index) => {
    const verdict = verdicts[index];
    if (!verdict) return;
    const type = message.type as QuarantineRecord['type'];
    const name = type === 'track' ? message.event : message.name;
    const shared = {
      id: typeof message.messageId === 'string' ? message.messageId : `${line.rid}-${index}`,
      received_at: line.received_at,
      source: line.source,
      type,
      event: typeof name === 'string' ? name : null,
      contract: verdict.contract === undefined ? 'orders' : verdict.contract,
      contract_version: verdict.contract_version === undefined ? '1.0.0' : verdict.contract_version,
      violations: verdict.violations,
    };
    if (verdict.outcome === 'flag') {
      governance.push({ k: 'f', ...shared });
    } else {
      governance.push({
        k: 'x',
        ...shared,
        payload: message,
        ip: line.ip_of[index] ?? null,
        ua: line.ua,
        agent,
      });
    }
  });
  return held.length === messages.length ? governance : [line, ...governance];
}

/** A quarantine line on its own, described by its stored fields. */
export function quarantineRecord(overrides: Partial<Omit<QuarantineRecord, 'k'>> = {}): QuarantineRecord {
  const id = overrides.id ?? 'held-1';
  return {
    k: 'x',
    id,
    received_at: '2026-03-02T10:00:01.000Z',
    source: 'web',
    type: 'track',
    event: 'Order Completed',
    contract: 'orders',
    contract_version: '1.0.0',
    violations: [violation()],
    payload: {
      type: overrides.type ?? 'track',
      messageId: id,
      event: overrides.event ?? 'Order Completed',
      userId: 'u1',
      timestamp: '2026-03-02T10:00:00.000Z',
      properties: { total: -1 },
    },
    ip: '203.0.113.0',
    ua: null,
    agent: null,
    ...overrides,
  };
}

/** A flag line on its own: a stored event that broke a contract in warn mode. */
export function flagRecord(overrides: Partial<Omit<FlagRecord, 'k'>> = {}): FlagRecord {
  return {
    k: 'f',
    id: 'flagged-1',
    received_at: '2026-03-02T10:00:01.000Z',
    source: 'web',
    type: 'track',
    event: 'Order Completed',
    contract: 'orders',
    contract_version: '1.0.0',
    violations: [violation()],
    ...overrides,
  };
}

/** A decision on quarantined events, as a replay or discard writes it. */
export function statusRecord(
  ids: readonly string[],
  status: QuarantineStatus,
  at: string,
  by = 'admin',
): QuarantineStatusRecord {
  return { k: 's', ids, status, at, by };
}
