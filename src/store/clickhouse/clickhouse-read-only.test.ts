import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClickHouseProcess,
  hasClickHouse,
  startClickHouse,
} from '../../../test/helpers/clickhouse-server.js';
import { type ClickHouseQueryRunner, runClickHouseReadOnly } from './clickhouse-read-only.js';
import { ClickHouseStore } from './clickhouse-store.js';

const OPTIONS = { timeoutMs: 10_000, maxRows: 1000 };

// The engine's own walls, without the parse-tree check in front of them: what the query user cannot do
// whatever text reaches it.
describe.skipIf(!hasClickHouse)('user SQL on ClickHouse (needs clickhouse-server)', () => {
  let server: ClickHouseProcess;
  let admin: ClickHouseClient;
  let reader: ClickHouseClient;
  let runner: ClickHouseQueryRunner;

  beforeAll(async () => {
    server = await startClickHouse();
    admin = createClient({ url: server.httpUrl });
    await admin.command({ query: 'CREATE DATABASE q' });
    await admin.command({ query: 'CREATE TABLE q.t (id String) ENGINE = MergeTree ORDER BY id' });
    await admin.command({ query: "INSERT INTO q.t VALUES ('a'), ('b\\nc')" });
    reader = createClient({
      url: server.httpUrl,
      username: server.readerUser,
      password: server.readerPassword,
      database: 'q',
    });
    runner = { client: reader, killer: admin, settings: () => ({}) };
  });

  afterAll(async () => {
    await reader?.close();
    await admin?.close();
    await server?.stop();
  });

  it('streams an answer with its types, values with line breaks intact', async () => {
    const answer = await runClickHouseReadOnly(
      runner,
      'SELECT id, toUInt64(1) AS n FROM t ORDER BY id;',
      OPTIONS,
    );
    expect(answer).toEqual({
      columns: [
        { name: 'id', type: 'String' },
        { name: 'n', type: 'UInt64' },
      ],
      rows: [
        { id: 'a', n: 1 },
        { id: 'b\nc', n: 1 },
      ],
      truncated: false,
    });
  });

  it.each([
    ["INSERT INTO t VALUES ('x')", 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION'],
    ["SELECT * FROM file('x.csv', 'CSV', 'a String')", 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION'],
    ["SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'a String')", 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION'],
    ['SELECT * FROM numbers(10)', 'REFINERY_ERR_QUERY_FORBIDDEN_FUNCTION'],
    // 1.6 GB of UInt64: past the test query user's 1 GiB profile.
    ['SELECT length(arrayConcat(range(100000000), range(100000000))) AS n', 'REFINERY_ERR_QUERY_TOO_LARGE'],
  ])('has ClickHouse refuse %s for the read-only query user', async (sql, code) => {
    await expect(runClickHouseReadOnly(runner, sql, OPTIONS)).rejects.toMatchObject({ code });
    expect((await runClickHouseReadOnly(runner, 'SELECT count() AS n FROM t', OPTIONS)).rows).toEqual([
      { n: 2 },
    ]);
  });

  it('refuses to open a store whose query user may write', async () => {
    const url = `clickhouse://127.0.0.1:${server.httpPort}/q2?queryUser=default`;
    await expect(ClickHouseStore.open({ url })).rejects.toMatchObject({
      code: 'REFINERY_ERR_CONFIG_INVALID',
      message: expect.stringContaining('readonly=1'),
    });
  });

  it('refuses a store URL with a password but no query user, or an odd user name', async () => {
    for (const url of [
      `clickhouse://127.0.0.1:${server.httpPort}/q2?queryPassword=x`,
      `clickhouse://127.0.0.1:${server.httpPort}/q2?queryUser=a%20b`,
    ]) {
      await expect(ClickHouseStore.open({ url })).rejects.toMatchObject({
        code: 'REFINERY_ERR_CONFIG_INVALID',
      });
    }
  });
});
