import type { Migration } from '../migration.js';
import { CONSENT_MIGRATION } from './duckdb-consent.js';
import { PRIVACY_MIGRATION } from './duckdb-privacy.js';

/**
 * Schema history for the DuckDB engine, applied in order and recorded in `schema_migrations`.
 * Physical tables hold the data; the public names (`events`, …) are views over them, so later work
 * (consent, erasure) can change what a view shows without touching what callers write.
 */
export const DUCKDB_MIGRATIONS: readonly Migration[] = [
  {
    id: '001-events',
    statements: [
      `CREATE TABLE event_log (
        message_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        event VARCHAR,
        name VARCHAR,
        category VARCHAR,
        user_id VARCHAR,
        anonymous_id VARCHAR,
        group_id VARCHAR,
        previous_id VARCHAR,
        timestamp TIMESTAMPTZ NOT NULL,
        original_timestamp TIMESTAMPTZ,
        sent_at TIMESTAMPTZ,
        received_at TIMESTAMPTZ NOT NULL,
        properties JSON,
        traits JSON,
        context JSON,
        integrations JSON,
        extra JSON,
        source VARCHAR NOT NULL,
        ip VARCHAR,
        user_agent VARCHAR,
        browser VARCHAR,
        browser_version VARCHAR,
        os VARCHAR,
        device_type VARCHAR,
        load_seq BIGINT NOT NULL
      )`,
      `CREATE TABLE rejected_events (
        received_at TIMESTAMPTZ NOT NULL,
        source VARCHAR,
        message_id VARCHAR,
        type VARCHAR,
        reason_code VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        field VARCHAR,
        payload VARCHAR NOT NULL,
        load_seq BIGINT NOT NULL
      )`,
      `CREATE TABLE loader_state (stream VARCHAR PRIMARY KEY, last_sequence BIGINT NOT NULL, loaded_at TIMESTAMPTZ)`,
      `CREATE VIEW events AS SELECT
        message_id, type, event, name, category, user_id, anonymous_id, group_id, previous_id,
        timestamp, original_timestamp, sent_at, received_at, properties, traits, context, integrations,
        extra, source, ip, user_agent, browser, browser_version, os, device_type
      FROM event_log`,
    ],
  },
  {
    id: '002-keys-and-metadata',
    statements: [
      `CREATE TABLE api_keys (
        id VARCHAR PRIMARY KEY,
        kind VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        source VARCHAR,
        hash VARCHAR NOT NULL UNIQUE,
        prefix VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        revoked_at TIMESTAMPTZ
      )`,
      'CREATE TABLE metadata (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)',
    ],
  },
  {
    // Contract outcomes. Held events keep their whole payload until replayed or discarded; violations are
    // one row each so "top violations" and rates are plain GROUP BYs. Public views leave the payload out.
    id: '005-governance',
    statements: [
      `CREATE TABLE quarantine_log (
        id VARCHAR PRIMARY KEY,
        received_at TIMESTAMPTZ NOT NULL,
        source VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        event VARCHAR,
        contract VARCHAR,
        contract_version VARCHAR,
        violations JSON NOT NULL,
        payload JSON NOT NULL,
        ip VARCHAR,
        user_agent VARCHAR,
        agent JSON,
        status VARCHAR NOT NULL,
        status_at TIMESTAMPTZ,
        status_by VARCHAR,
        load_seq BIGINT NOT NULL
      )`,
      `CREATE TABLE contract_violation_log (
        message_id VARCHAR NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        source VARCHAR,
        type VARCHAR,
        event VARCHAR,
        contract VARCHAR,
        outcome VARCHAR NOT NULL,
        path VARCHAR NOT NULL,
        rule VARCHAR NOT NULL,
        message VARCHAR NOT NULL,
        value VARCHAR,
        load_seq BIGINT NOT NULL
      )`,
      `CREATE VIEW quarantined_events AS SELECT
        id, received_at, source, type, event, contract, contract_version, violations, status, status_at, status_by
      FROM quarantine_log`,
      `CREATE VIEW contract_violations AS SELECT
        message_id, received_at, source, type, event, contract, outcome, path, rule, message, value
      FROM contract_violation_log`,
    ],
  },
  {
    // Identity: observations as loaded (the graph's input, replayable), the graph's persisted state (persons,
    // identifier links, merges, refusals) and how far resolution has read. No primary keys: rows are replaced
    // by DELETE + INSERT inside one transaction, which DuckDB's eager unique checks would refuse.
    // `events` gains person_id through one join on the event's user id, else its anonymous id.
    id: '006-identity',
    statements: [
      `CREATE TABLE identity_observation_log (
        stream VARCHAR NOT NULL, load_seq BIGINT NOT NULL, line_no BIGINT NOT NULL,
        message_id VARCHAR NOT NULL, "at" TIMESTAMPTZ NOT NULL, identifiers VARCHAR[] NOT NULL
      )`,
      `CREATE TABLE identity_persons (
        person_id VARCHAR NOT NULL, seq BIGINT NOT NULL, first_seen_at TIMESTAMPTZ NOT NULL,
        merged_into VARCHAR, version BIGINT NOT NULL
      )`,
      `CREATE TABLE identity_links (
        identifier VARCHAR NOT NULL, identifier_type VARCHAR NOT NULL, identifier_value VARCHAR NOT NULL,
        person_id VARCHAR NOT NULL, version BIGINT NOT NULL
      )`,
      `CREATE TABLE identity_merge_log (
        from_id VARCHAR NOT NULL, into_id VARCHAR NOT NULL, via_type VARCHAR NOT NULL, via_value VARCHAR NOT NULL,
        "at" TIMESTAMPTZ NOT NULL, message_id VARCHAR, version BIGINT NOT NULL
      )`,
      `CREATE TABLE identity_refusal_log (
        refusal_key VARCHAR NOT NULL, reason VARCHAR NOT NULL, identifier_type VARCHAR NOT NULL,
        identifier_value VARCHAR NOT NULL, held_by VARCHAR, person_id VARCHAR NOT NULL,
        limit_type VARCHAR, limit_value BIGINT, would_hold BIGINT, count BIGINT NOT NULL,
        first_at TIMESTAMPTZ NOT NULL, first_message_id VARCHAR, last_at TIMESTAMPTZ NOT NULL,
        last_message_id VARCHAR, version BIGINT NOT NULL
      )`,
      'CREATE TABLE identity_cursors (stream VARCHAR NOT NULL, load_seq BIGINT NOT NULL)',
      'DROP VIEW events',
      `CREATE VIEW events AS SELECT
        e.message_id, e.type, e.event, e.name, e.category, e.user_id, e.anonymous_id, e.group_id, e.previous_id,
        e.timestamp, e.original_timestamp, e.sent_at, e.received_at, e.properties, e.traits, e.context,
        e.integrations, e.extra, e.source, e.ip, e.user_agent, e.browser, e.browser_version, e.os, e.device_type,
        l.person_id
      FROM event_log e LEFT JOIN identity_links l ON l.identifier =
        CASE WHEN e.user_id IS NOT NULL THEN 'user_id:' || e.user_id ELSE 'anonymous_id:' || e.anonymous_id END`,
      `CREATE VIEW persons AS SELECT
        p.person_id, p.first_seen_at, count(l.identifier) AS identifier_count
      FROM identity_persons p LEFT JOIN identity_links l ON l.person_id = p.person_id
      WHERE p.merged_into IS NULL GROUP BY p.person_id, p.first_seen_at`,
      `CREATE VIEW identities AS SELECT person_id, identifier_type, identifier_value FROM identity_links`,
      `CREATE VIEW identity_merges AS SELECT
        from_id AS merged_person_id, into_id AS person_id, via_type, via_value, "at", message_id
      FROM identity_merge_log`,
      `CREATE VIEW identity_refusals AS SELECT
        reason, identifier_type, identifier_value, held_by, person_id, limit_type, limit_value, would_hold,
        count, first_at, first_message_id, last_at, last_message_id
      FROM identity_refusal_log`,
    ],
  },
  CONSENT_MIGRATION,
  PRIVACY_MIGRATION,
  {
    // Write-ahead-log lines the loader set aside (bad checksum, not JSON, ill-formed Unicode, refused by the
    // engine) instead of failing their segment: kept byte for byte (base64, since they may not be UTF-8) with
    // where they came from and why, until replayed or discarded. Internal: no public view, since a raw line
    // may hold anything a request held.
    id: '020-wal-damaged-lines',
    statements: [
      `CREATE TABLE wal_damaged_lines (
        id VARCHAR NOT NULL, stream VARCHAR NOT NULL, load_seq BIGINT NOT NULL, line_no BIGINT NOT NULL,
        damage VARCHAR NOT NULL, reason VARCHAR NOT NULL, bytes BIGINT NOT NULL, raw VARCHAR NOT NULL,
        found_at TIMESTAMPTZ NOT NULL, status VARCHAR NOT NULL, status_at TIMESTAMPTZ, status_by VARCHAR
      )`,
    ],
  },
];
