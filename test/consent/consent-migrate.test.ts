import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateWorkspace } from '../../src/migrate/migrate-workspace.js';
import { CONSENT_PURPOSES } from '../../src/privacy/consent-purposes.js';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import type { Store } from '../../src/store/store.js';
import { type ClickHouseProcess, hasClickHouse, startClickHouse } from '../helpers/clickhouse-server.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

const QUERY = { timeoutMs: 10_000, maxRows: 1000 };

async function visible(store: Store): Promise<Record<string, unknown[]>> {
  const seen: Record<string, unknown[]> = {};
  for (const purpose of CONSENT_PURPOSES) {
    const reader = store.consent.forPurpose(purpose);
    const { rows } = await reader.query(
      `SELECT DISTINCT user_id FROM ${reader.relation} ORDER BY user_id`,
      QUERY,
    );
    seen[purpose] = rows.map((row) => row.user_id);
  }
  return seen;
}

describe.skipIf(!hasClickHouse)('refinery migrate carries consent over (needs clickhouse-server)', () => {
  let clickHouse: ClickHouseProcess;
  let workspace: TestWorkspace;
  let before: Record<string, unknown[]>;

  beforeAll(async () => {
    clickHouse = await startClickHouse();
    workspace = await startTestWorkspace();
    const response = await fetch(`${workspace.server.url}/v1/batch`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: basicAuth(workspace.writeKey),
        'sec-gpc': '1',
      },
      body: JSON.stringify({
        batch: [
          {
            type: 'track',
            event: 'Viewed',
            userId: 'u1',
            timestamp: '2026-03-01T10:00:00Z',
            context: { consent: { categoryPreferences: { analytics: false, marketing: true, C0009: true } } },
          },
          { type: 'track', event: 'Viewed', userId: 'u2', timestamp: '2026-03-01T11:00:00Z' },
        ],
      }),
    });
    expect(response.status).toBe(200);
    await workspace.drain();
    before = await visible(workspace.server.store);
    await workspace.server.close();
  }, 60_000);

  afterAll(async () => {
    await clickHouse?.stop();
    if (workspace) rmSync(workspace.dir, { recursive: true, force: true });
  });

  it('copies the history and the flags, so every purpose view shows the same people after the move', async () => {
    const url = `clickhouse://127.0.0.1:${clickHouse.httpPort}/migrated_consent`;
    const report = await migrateWorkspace({ dir: workspace.dir, url });
    expect(report.ok).toBe(true);
    expect(report.checks.find((check) => check.relation === 'consents')).toMatchObject({ target: 4 });
    const store = await ClickHouseStore.open({ url });
    try {
      expect(before).toEqual({
        analytics: ['u2'],
        personalisation: ['u1', 'u2'],
        advertising: ['u1'],
        sale_sharing: [],
      });
      expect(await visible(store)).toEqual(before);
      const unknown = await store.consent.overview(
        { fromMs: 0, toMs: 86_400_000, stepMs: 86_400_000, count: 1 },
        {
          analytics: 'granted',
          personalisation: 'granted',
          advertising: 'denied',
          sale_sharing: 'denied',
        },
      );
      expect(unknown.unknownCategories).toEqual([{ category: 'C0009', count: 1 }]);
    } finally {
      await store.close();
    }
  });
});
