import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkspaceConfig } from '../../src/config/workspace-config.js';
import { basicAuth, startTestWorkspace, type TestWorkspace } from '../helpers/test-workspace.js';

// A full client IP is personal data; a new workspace keeps only its network (IPv4 /24, IPv6 /48).
describe('the default IP policy', () => {
  let ws: TestWorkspace;

  beforeAll(async () => {
    // The refinery.yaml `refinery init` writes, unchanged.
    ws = await startTestWorkspace();
  });
  afterAll(async () => {
    await ws?.close();
  });

  it('is truncate, in the schema and in the file refinery init writes', () => {
    expect(parseWorkspaceConfig('name: t\n').collect.ip).toBe('truncate');
    expect(readFileSync(join(ws.dir, 'refinery.yaml'), 'utf8')).toMatch(/^ {2}ip: truncate\b/m);
    expect(ws.server.config.collect.ip).toBe('truncate');
  });

  it('stores a truncated address for IPv4 and IPv6 clients of a fresh workspace', async () => {
    const batch = [
      {
        type: 'track',
        event: 'Viewed',
        anonymousId: 'v4',
        messageId: 'ip-v4',
        context: { ip: '203.0.113.77' },
      },
      {
        type: 'track',
        event: 'Viewed',
        anonymousId: 'v6',
        messageId: 'ip-v6',
        context: { ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348' },
      },
    ];
    const response = await ws.server.app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { authorization: basicAuth(ws.writeKey), 'content-type': 'application/json' },
      payload: JSON.stringify({ batch }),
    });
    expect(response.statusCode).toBe(200);
    await ws.drain();
    const rows = await ws.rows<{ message_id: string; ip: string; context: string }>(
      "SELECT message_id, ip, context FROM events WHERE message_id IN ('ip-v4', 'ip-v6') ORDER BY message_id",
    );
    expect(rows.map((row) => [row.message_id, row.ip, JSON.parse(row.context).ip])).toEqual([
      ['ip-v4', '203.0.113.0', '203.0.113.0'],
      ['ip-v6', '2001:db8:85a3::', '2001:db8:85a3::'],
    ]);
  });
});
