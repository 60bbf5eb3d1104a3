import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { describeConsentConformance } from './consent-conformance.js';
import { describeGovernanceConformance } from './governance-conformance.js';
import { describeIdentityConformance } from './identity-conformance.js';
import { describeStoreConformance } from './store-conformance.js';

const openFresh = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-duckdb-'));
  const store = await DuckDbStore.open({ path: join(dir, 'refinery.duckdb') });
  await store.migrate();
  return {
    store,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

describeStoreConformance('duckdb', openFresh, {
  slowQuery: 'SELECT count(*) AS n FROM range(100000000000) a',
});
describeGovernanceConformance('duckdb', openFresh);
describeIdentityConformance('duckdb', openFresh);
describeConsentConformance('duckdb', openFresh);
