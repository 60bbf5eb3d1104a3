import type { DuckDBConnection } from '@duckdb/node-api';
import type { ConsentSource } from '../../privacy/consent-capture.js';
import {
  CONSENT_PURPOSES,
  type ConsentDefaults,
  type ConsentPurpose,
} from '../../privacy/consent-purposes.js';
import {
  CONSENT_DEFAULTS_KEY,
  type ConsentHistoryRow,
  type ConsentRepository,
  consentFlagColumn,
  defaultsText,
  MIGRATION_DEFAULTS,
  type OverviewAxis,
  type OverviewIncrements,
  type PurposeReader,
  purposeView,
  SOURCE_STRENGTH,
} from '../consent-types.js';
import type { IdentityCursors } from '../identity-types.js';
import type { Migration } from '../migration.js';
import type { QueryResult } from '../query-result.js';
import type { ReadQueryOptions } from '../store.js';
import { type DuckDbSession, runOn } from './duckdb-session.js';

const EVENT_COLUMNS = `message_id, type, event, name, category, user_id, anonymous_id, group_id, previous_id,
  timestamp, original_timestamp, sent_at, received_at, properties, traits, context, integrations,
  extra, source, ip, user_agent, browser, browser_version, os, device_type`;

const FLAG_LIST = CONSENT_PURPOSES.map(consentFlagColumn);

/** A purpose's view: the events of people whose flag allows it, or whose missing flag the default allows. */
function purposeViewSql(purpose: ConsentPurpose, defaults: ConsentDefaults): string {
  const fallback = defaults[purpose] === 'granted' ? 'true' : 'false';
  return `CREATE OR REPLACE VIEW ${purposeView(purpose)} AS SELECT ${EVENT_COLUMNS}, person_id
    FROM events WHERE coalesce(${consentFlagColumn(purpose)}, ${fallback})`;
}

/**
 * Consent: the history as loaded (`consent_log`, one row per identifier and decision), category names the
 * mapping did not know (`consent_unknown_log`), per-purpose flags on `identity_links`, and views over them.
 * `events` gains the flags through its one join; the purpose views filter on them.
 */
export const CONSENT_MIGRATION: Migration = {
  id: '007-consent',
  statements: [
    `CREATE TABLE consent_log (
      identifier VARCHAR NOT NULL, purpose VARCHAR NOT NULL, granted BOOLEAN NOT NULL, source VARCHAR NOT NULL,
      category VARCHAR, "at" TIMESTAMPTZ NOT NULL, received_at TIMESTAMPTZ NOT NULL, message_id VARCHAR NOT NULL,
      stream VARCHAR NOT NULL, load_seq BIGINT NOT NULL, line_no BIGINT NOT NULL
    )`,
    `CREATE TABLE consent_unknown_log (
      category VARCHAR NOT NULL, message_id VARCHAR NOT NULL, received_at TIMESTAMPTZ NOT NULL,
      stream VARCHAR NOT NULL, load_seq BIGINT NOT NULL
    )`,
    ...FLAG_LIST.map((column) => `ALTER TABLE identity_links ADD COLUMN ${column} BOOLEAN`),
    'DROP VIEW events',
    `CREATE VIEW events AS SELECT
      e.message_id, e.type, e.event, e.name, e.category, e.user_id, e.anonymous_id, e.group_id, e.previous_id,
      e.timestamp, e.original_timestamp, e.sent_at, e.received_at, e.properties, e.traits, e.context,
      e.integrations, e.extra, e.source, e.ip, e.user_agent, e.browser, e.browser_version, e.os, e.device_type,
      l.person_id, ${FLAG_LIST.map((column) => `l.${column}`).join(', ')}
    FROM event_log e LEFT JOIN identity_links l ON l.identifier =
      CASE WHEN e.user_id IS NOT NULL THEN 'user_id:' || e.user_id ELSE 'anonymous_id:' || e.anonymous_id END`,
    `CREATE VIEW consents AS SELECT
      l.person_id, substr(c.identifier, 1, strpos(c.identifier, ':') - 1) AS identifier_type,
      substr(c.identifier, strpos(c.identifier, ':') + 1) AS identifier_value,
      c.purpose, c.granted, c.source, c.category, c."at", c.received_at, c.message_id
    FROM consent_log c LEFT JOIN identity_links l ON l.identifier = c.identifier`,
    ...CONSENT_PURPOSES.map((purpose) => purposeViewSql(purpose, MIGRATION_DEFAULTS)),
  ],
};

/** Writes the consent lines of the segment in `wal_lines` inside the loader's transaction. */
export async function loadConsentLines(c: DuckDBConnection, stream: string, sequence: number): Promise<void> {
  const purposes = CONSENT_PURPOSES.map((purpose) => `'${purpose}'`).join(', ');
  await runOn(
    c,
    `INSERT INTO consent_log
     WITH lines AS (
       SELECT row_number() OVER () AS line_no, id, received_at, ids, consent FROM wal_lines WHERE k = 'c'
     ),
     per_subject AS (SELECT line_no, id, received_at, consent, unnest(ids) AS identifier FROM lines),
     per_decision AS (SELECT line_no, id, received_at, identifier, unnest(consent) AS o FROM per_subject)
     SELECT identifier, o.purpose, o.granted, o.source, o.category, o."at", received_at, id, $1, $2, line_no
     FROM per_decision WHERE o.purpose IN (${purposes}) AND o.granted IS NOT NULL AND o."at" IS NOT NULL`,
    [stream, sequence],
  );
  await runOn(
    c,
    `INSERT INTO consent_unknown_log
     SELECT category, id, received_at, $1, $2
     FROM (SELECT unnest(unknown) AS category, id, received_at FROM wal_lines WHERE k = 'c' AND unknown IS NOT NULL)
     WHERE category IS NOT NULL`,
    [stream, sequence],
  );
}

export class DuckDbConsent implements ConsentRepository {
  constructor(
    private readonly writer: DuckDbSession,
    private readonly reader: DuckDbSession,
    private readonly query: (sql: string, options: ReadQueryOptions) => Promise<QueryResult>,
  ) {}

  async changedAfter(
    cursors: IdentityCursors,
  ): Promise<{ identifiers: string[]; cursors: Map<string, number> }> {
    const rows = await this.reader.all<{ stream: string; seq: number; identifiers: string[] }>(
      `SELECT o.stream, max(o.load_seq) AS seq, list(DISTINCT o.identifier) AS identifiers
       FROM consent_log o
       LEFT JOIN (SELECT unnest(json_transform($1::JSON, '[{"stream":"VARCHAR","seq":"BIGINT"}]'), recursive := true)) c
         ON c.stream = o.stream
       WHERE o.load_seq > coalesce(c.seq, 0)
       GROUP BY o.stream`,
      [JSON.stringify([...cursors].map(([stream, seq]) => ({ stream, seq })))],
    );
    const identifiers = new Set<string>();
    for (const row of rows) for (const identifier of row.identifiers) identifiers.add(identifier);
    return {
      identifiers: [...identifiers],
      cursors: new Map(rows.map((row) => [row.stream, row.seq])),
    };
  }

  async historyOf(identifiers: readonly string[]): Promise<ConsentHistoryRow[]> {
    if (identifiers.length === 0) return [];
    const rows = await this.reader.all<{
      identifier: string;
      purpose: ConsentPurpose;
      granted: boolean;
      source: ConsentSource;
      category: string | null;
      at: string;
      message_id: string;
    }>(
      `SELECT identifier, purpose, granted, source, category, "at", message_id FROM consent_log
       WHERE identifier IN (SELECT unnest(json_transform($1::JSON, '["VARCHAR"]')))
       ORDER BY "at", load_seq, line_no, identifier, purpose`,
      [JSON.stringify(identifiers)],
    );
    return rows.map((row) => ({
      identifier: row.identifier,
      purpose: row.purpose,
      granted: row.granted,
      source: row.source,
      category: row.category,
      at: row.at,
      messageId: row.message_id,
    }));
  }

  async identifiersWithHistory(): Promise<string[]> {
    const rows = await this.reader.all<{ identifier: string }>('SELECT DISTINCT identifier FROM consent_log');
    return rows.map((row) => row.identifier);
  }

  async overview(axis: OverviewAxis, defaults: ConsentDefaults): Promise<OverviewIncrements> {
    const bucketOf = (ms: string) =>
      `CASE WHEN ${ms} < ${axis.fromMs} THEN -1 ELSE (${ms} - ${axis.fromMs}) // ${axis.stepMs} END`;
    const defaultOf = `CASE purpose ${CONSENT_PURPOSES.map(
      (purpose) => `WHEN '${purpose}' THEN ${defaults[purpose] === 'granted' ? 1 : 0}`,
    ).join(' ')} END`;
    const strength = `CASE c.source ${Object.entries(SOURCE_STRENGTH)
      .map(([source, rank]) => `WHEN '${source}' THEN ${rank}`)
      .join(' ')} ELSE 0 END`;
    const [people, granted, unknown] = await Promise.all([
      this.reader.all<{ bucket: number; count: number }>(
        `SELECT ${bucketOf('first_ms')} AS bucket, count(*) AS count
         FROM (SELECT epoch_ms(first_seen_at) AS first_ms FROM identity_persons WHERE merged_into IS NULL)
         WHERE first_ms < ${axis.toMs} GROUP BY ALL`,
      ),
      this.reader.all<{ bucket: number; purpose: ConsentPurpose; delta: number }>(
        // One sorting key per decision (time, source strength, denial last): the last of a person's
        // decisions up to a moment is their standing then, and each step counts its change.
        `WITH decisions AS (
           SELECT l.person_id, c.purpose, epoch_ms(c."at") * 8 + ${strength} * 2 + CASE WHEN c.granted THEN 0 ELSE 1 END AS k
           FROM consent_log c JOIN identity_links l ON l.identifier = c.identifier
         ),
         steps AS (
           SELECT d.purpose, p.first_ms, d.k, 1 - d.k % 2 AS g,
             lag(1 - d.k % 2) OVER (PARTITION BY d.person_id, d.purpose ORDER BY d.k) AS previous
           FROM decisions d
           JOIN (SELECT person_id, epoch_ms(first_seen_at) AS first_ms FROM identity_persons WHERE merged_into IS NULL) p
             ON p.person_id = d.person_id
         ),
         timed AS (
           SELECT purpose, greatest(k // 8, first_ms) AS t, g - coalesce(previous, ${defaultOf}) AS delta FROM steps
         )
         SELECT ${bucketOf('t')} AS bucket, purpose, sum(delta) AS delta
         FROM timed WHERE delta <> 0 AND t < ${axis.toMs}
         GROUP BY ALL`,
      ),
      this.reader.all<{ category: string; count: number }>(
        `SELECT category, count(*) AS count FROM consent_unknown_log
         GROUP BY category ORDER BY count DESC, category LIMIT 100`,
      ),
    ]);
    return {
      people: people.map((row) => ({ bucket: Number(row.bucket), count: Number(row.count) })),
      granted: granted.map((row) => ({
        bucket: Number(row.bucket),
        purpose: row.purpose,
        delta: Number(row.delta),
      })),
      unknownCategories: unknown.map((row) => ({ category: row.category, count: Number(row.count) })),
    };
  }

  async applyDefaults(defaults: ConsentDefaults): Promise<boolean> {
    const wanted = defaultsText(defaults);
    const rows = await this.reader.all<{ value: string }>('SELECT value FROM metadata WHERE key = $1', [
      CONSENT_DEFAULTS_KEY,
    ]);
    const applied = rows[0]?.value ?? defaultsText(MIGRATION_DEFAULTS);
    if (applied === wanted) return false;
    await this.writer.exclusive(async (c) => {
      await runOn(c, 'BEGIN TRANSACTION');
      try {
        for (const purpose of CONSENT_PURPOSES) await runOn(c, purposeViewSql(purpose, defaults));
        await runOn(
          c,
          'INSERT INTO metadata VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
          [CONSENT_DEFAULTS_KEY, wanted],
        );
        await runOn(c, 'COMMIT');
      } catch (error) {
        await runOn(c, 'ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
    return true;
  }

  forPurpose(purpose: ConsentPurpose): PurposeReader {
    return {
      purpose,
      relation: purposeView(purpose),
      query: (sql, options) => this.query(sql, { ...options, purpose }),
    };
  }
}
