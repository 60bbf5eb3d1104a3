import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/access/api-keys.js';
import { readCsvCellText } from '../../src/core/csv-writer.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// Formulas a spreadsheet would run, each placed where a client controls the text.
const HYPERLINK = '=HYPERLINK("http://x")';
const DDE = "+cmd|' /C calc'!A0";
const AT = '@SUM(1)';
const MINUS = '-2+3';
const userId = 'formula-person';

const EVENTS: Record<string, unknown>[] = [
  {
    type: 'identify',
    userId,
    messageId: 'm-identify',
    traits: { nickname: HYPERLINK, plan: MINUS, motto: DDE },
    timestamp: '2026-03-01T09:00:00.000Z',
  },
  {
    type: 'track',
    userId,
    messageId: DDE,
    event: HYPERLINK,
    properties: { note: AT, total: -5 },
    timestamp: '2026-03-01T09:01:00.000Z',
  },
  {
    type: 'track',
    userId,
    messageId: AT,
    event: MINUS,
    properties: { note: DDE },
    timestamp: '2026-03-01T09:02:00.000Z',
  },
  {
    type: 'track',
    userId,
    messageId: HYPERLINK,
    event: DDE,
    timestamp: '2026-03-01T09:03:00.000Z',
  },
];

/** Reads CSV text with DuckDB's reader, an implementation independent of the writer; every cell as text. */
async function parseCsv(text: string): Promise<Record<string, string | null>[]> {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-csv-'));
  const file = join(dir, 'part.csv');
  writeFileSync(file, text);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT * FROM read_csv('${file}', header = true, all_varchar = true, quote = '"', escape = '"', delim = ',')`,
    );
    return reader.getRowObjectsJson() as Record<string, string | null>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A cell a spreadsheet would evaluate: a formula character first, unless the cell is a plain number. */
function runsAsFormula(cell: string): boolean {
  return /^[=+\-@\t\r\n]/.test(cell) && !/^-\d+(\.\d+)?(e[+-]?\d+)?$/i.test(cell);
}

describe('access bundle CSV', () => {
  let workspace: TestWorkspace;
  let privacyKey: string;
  let requestId: string;

  beforeAll(async () => {
    workspace = await startTestWorkspace({ engine: 'duckdb' });
    privacyKey = (await createApiKey(workspace.server.store, { kind: 'privacy', name: 'dpo' })).key;
    const sent = await workspace.server.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { authorization: basicAuth(workspace.writeKey), 'content-type': 'application/json' },
      payload: JSON.stringify({ batch: EVENTS }),
    });
    expect(sent.statusCode, sent.body).toBe(200);
    await workspace.drain();
    const created = await call('POST', '/v1/privacy/requests', { kind: 'access', userId });
    expect(created.statusCode, created.body).toBe(201);
    requestId = created.json().request.id;
  }, 120_000);
  afterAll(async () => {
    await workspace?.close();
  });

  function call(method: 'GET' | 'POST', url: string, body?: unknown) {
    return workspace.server.app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${privacyKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
  }

  async function part(name: string): Promise<Record<string, string | null>[]> {
    const response = await call('GET', `/v1/privacy/requests/${requestId}/bundle?format=csv&part=${name}`);
    expect(response.statusCode, response.body).toBe(200);
    return parseCsv(response.body);
  }

  function expectNoFormulaCell(rows: Record<string, string | null>[]): void {
    for (const row of rows) {
      for (const [column, cell] of Object.entries(row)) {
        if (cell !== null) expect(runsAsFormula(cell), `${column}: ${cell}`).toBe(false);
      }
    }
  }

  it('writes no event name, message id or property as a cell a spreadsheet would run, and each reads back', async () => {
    const events = await part('events');
    expect(events).toHaveLength(EVENTS.length);
    expectNoFormulaCell(events);
    const read = events.map((row) => ({
      messageId: readCsvCellText(row.messageId!),
      event: row.event ? readCsvCellText(row.event) : null,
      properties: row.properties ? JSON.parse(readCsvCellText(row.properties)) : null,
    }));
    expect(read).toEqual(
      expect.arrayContaining([
        { messageId: DDE, event: HYPERLINK, properties: { note: AT, total: -5 } },
        { messageId: AT, event: MINUS, properties: { note: DDE } },
        { messageId: HYPERLINK, event: DDE, properties: null },
      ]),
    );
  });

  it('writes no trait value as a formula in the profile part, and each reads back', async () => {
    const profile = await part('profile');
    expectNoFormulaCell(profile);
    const traits = Object.fromEntries(profile.map((row) => [row.trait, readCsvCellText(row.value ?? '')]));
    expect(traits).toMatchObject({ nickname: HYPERLINK, plan: MINUS, motto: DDE });
  });
});
