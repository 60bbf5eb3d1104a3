import type { Migration } from '../migration.js';

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
];
