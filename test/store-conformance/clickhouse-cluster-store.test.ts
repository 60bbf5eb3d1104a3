import { afterAll, beforeAll, describe, it } from 'vitest';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import {
  type ClickHouseCluster,
  hasClickHouse,
  startClickHouseCluster,
} from '../helpers/clickhouse-server.js';
import { describeConsentConformance } from './consent-conformance.js';
import { describeGovernanceConformance } from './governance-conformance.js';
import { describeIdentityConformance } from './identity-conformance.js';
import { CLICKHOUSE_FACTS, describeStoreConformance } from './store-conformance.js';

// The whole conformance suite again, on two ClickHouse shards behind Distributed tables, reading through
// the second node: every answer must be what one node gives.
let cluster: ClickHouseCluster | undefined;
let databases = 0;

if (hasClickHouse) {
  beforeAll(async () => {
    cluster = await startClickHouseCluster(2, { clusterName: 'refinery' });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  const openFresh = async () => {
    const [first, second] = cluster!.nodes;
    const nodes = `${first!.httpUrl.replace('http://', '')},${second!.httpUrl.replace('http://', '')}`;
    const url = `clickhouse://127.0.0.1:${second!.httpPort}/sharded_${++databases}?cluster=refinery&nodes=${nodes}`;
    const store = await ClickHouseStore.open({ url });
    await store.migrate();
    return { store, close: () => store.close() };
  };
  describeStoreConformance('clickhouse, two shards', openFresh, CLICKHOUSE_FACTS);
  describeGovernanceConformance('clickhouse, two shards', openFresh);
  describeIdentityConformance('clickhouse, two shards', openFresh);
  describeConsentConformance('clickhouse, two shards', openFresh);
} else {
  describe.skip('store conformance: clickhouse, two shards (skipped: clickhouse-server is not installed)', () => {
    it('runs the conformance suite on a two-shard ClickHouse cluster', () => undefined);
  });
}
