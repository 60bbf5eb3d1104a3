import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Consent is enforced in one place: the store's purpose views, read through `store.consent.forPurpose(…)` (or
 * a query with a `purpose`). This test keeps it that way. Outside `src/store/`, code that reads event data any
 * other way must be on the list below, with the reason it may see events whatever the person's consent — so a
 * new feature that bypasses consent fails here until someone reviews and justifies it.
 */
const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** Ways to read event data that are not scoped to a purpose. */
const EVENT_READS: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: 'an unscoped SQL query (readOnlyQuery)', pattern: /\breadOnlyQuery\s*\(/ },
  { name: "a person's events (store.profiles)", pattern: /\.profiles\.\w+\s*\(/ },
  {
    name: 'individual or counted events (store.events reads)',
    pattern: /\.events\.(recent|recentRejects|timeline|countsByType|topEventNames|countsBySource|count)\s*\(/,
  },
  {
    name: 'stored events per bucket (governance.eventTimeline)',
    pattern: /\.governance\.eventTimeline\s*\(/,
  },
  { name: "a person's records (privacy.personRecords)", pattern: /\.privacy\.personRecords\s*\(/ },
  {
    name: 'SQL naming an event relation',
    pattern: /\b(FROM|JOIN)\s+(events|consents)\b/,
  },
  { name: 'the raw event table', pattern: /\bevent_log\b/ },
];

/** Files allowed to read events without a purpose, and why. Keep each reason honest; review every addition. */
const ALLOWED: Readonly<Record<string, string>> = {
  'server/routes/admin-routes.ts':
    'operational ingest monitoring (stats, live tail, rejects) and POST /v1/query for roles holding `query` ' +
    '(admin, privacy officer), which may also scope a query to a purpose',
  'cli/workspace-access.ts':
    'the command line as the workspace administrator: `refinery query` and `refinery stats`, as the admin routes',
  'profiles/profile-reader.ts':
    "profiles: one person's own data, for roles holding read:profiles (personal fields masked without read:personal)",
  'privacy/requests/person-target.ts':
    'privacy requests: finding everything held about one person to erase it',
  'privacy/requests/access-bundle.ts': 'privacy requests: the access bundle of one person, their own data',
  'migrate/migrate-workspace.ts':
    'refinery migrate: copies the store between engines, consent history included',
  'cli/commands/contract-infer-command.ts':
    'contract inference: payload shapes of stored events, to propose data contracts (ingest governance, admins)',
  'demo/run-demo.ts': 'the demo: counts over the synthetic workspace it just generated',
  'contracts/violation-rates.ts':
    'violation rates: stored events counted per event name beside contract outcomes (ingest governance, counts only)',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

function eventReadsIn(text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, index) => {
    // Prose in comments may mention events; code cannot hide in a comment.
    if (/^\s*(\/\/|\/\*|\*)/.test(line)) return;
    for (const read of EVENT_READS) {
      if (read.pattern.test(line)) found.push(`line ${index + 1}: ${read.name}`);
    }
  });
  return found;
}

describe('consent cannot be bypassed', () => {
  const files = sourceFiles(SRC)
    .map((path) => relative(SRC, path).split('\\').join('/'))
    .filter((path) => !path.startsWith('store/'));

  it('finds event reads outside the store only in files allowed to make them, each with its reason', () => {
    const offenders = files.flatMap((path) => {
      if (Object.hasOwn(ALLOWED, path)) return [];
      return eventReadsIn(readFileSync(join(SRC, path), 'utf8')).map((read) => `src/${path} ${read}`);
    });
    expect(
      offenders,
      'Read events through store.consent.forPurpose(purpose) (see docs/consent.md), or justify the file in ALLOWED',
    ).toEqual([]);
    for (const reason of Object.values(ALLOWED)) expect(reason.length).toBeGreaterThan(20);
  });

  it('lists no allowed file that no longer reads events, so the list cannot grow stale', () => {
    const stale = Object.keys(ALLOWED).filter(
      (path) => !files.includes(path) || eventReadsIn(readFileSync(join(SRC, path), 'utf8')).length === 0,
    );
    expect(stale).toEqual([]);
  });

  it('recognises each way of reading events it is meant to catch', () => {
    const samples = [
      'await store.readOnlyQuery(sql, options)',
      'store.profiles.events(keys, {})',
      'store.events.recent({ limit: 5 })',
      'store.governance.eventTimeline({ interval })',
      'store.privacy.personRecords(target)',
      '`SELECT count(*) FROM events WHERE type = 1`',
      'SELECT * FROM x JOIN event_log USING (message_id)',
    ];
    for (const sample of samples) expect(eventReadsIn(sample), sample).toHaveLength(1);
    expect(
      eventReadsIn("store.consent.forPurpose('analytics').query('SELECT 1 FROM events_for_analytics')"),
    ).toEqual([]);
  });
});
