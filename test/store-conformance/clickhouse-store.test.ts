import { afterAll, beforeAll, describe, it } from 'vitest';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import { type ClickHouseProcess, hasClickHouse, startClickHouse } from '../helpers/clickhouse-server.js';
import { describeConsentConformance } from './consent-conformance.js';
import { describeGovernanceConformance } from './governance-conformance.js';
import { describeIdentityConformance } from './identity-conformance.js';
import { CLICKHOUSE_FACTS, describeStoreConformance } from './store-conformance.js';

// The same suite as DuckDB, on a real clickhouse-server (Debian's 18.16) on loopback; each test gets a
// database of its own on one server.
let server: ClickHouseProcess | undefined;
let databases = 0;

if (hasClickHouse) {
  beforeAll(async () => {
    server = await startClickHouse();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const openFresh = async () => {
    const url = `clickhouse://127.0.0.1:${server!.httpPort}/conformance_${++databases}`;
    const store = await ClickHouseStore.open({ url });
    await store.migrate();
    return { store, close: () => store.close() };
  };
  describeStoreConformance('clickhouse', openFresh, CLICKHOUSE_FACTS);
  describeGovernanceConformance('clickhouse', openFresh);
  describeIdentityConformance('clickhouse', openFresh);
  describeConsentConformance('clickhouse', openFresh);
} else {
  describe.skip('store conformance: clickhouse (skipped: clickhouse-server is not installed; bash .ci/run installs it)', () => {
    it('runs the conformance suite on ClickHouse', () => undefined);
  });
}
