// bench:protect — what sealing personal fields costs the collector per message, against `structuredClone` of the
// same message measured in the same run, so the ratio is comparable on any machine.
// Usage: npm run bench:vault -- [--rounds 7 --track 200000 --identify 50000] (runs the built dist/)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PERSONAL_FIELDS, protectMessage } from '../dist/privacy/vault/personal-fields.js';
import { SubjectKeyVault } from '../dist/privacy/vault/subject-key-vault.js';
import { SuppressionList } from '../dist/privacy/vault/suppression-list.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    track: { type: 'string', default: '200000' },
    identify: { type: 'string', default: '50000' },
  },
});
const rounds = Number(values.rounds);
const trackCount = Number(values.track);
const identifyCount = Number(values.identify);
for (const [flag, value] of Object.entries({ rounds, track: trackCount, identify: identifyCount })) {
  if (!Number.isSafeInteger(value) || value < 1) {
    console.error(`bench:protect: --${flag} must be a positive integer`);
    process.exit(2);
  }
}
/** A typical analytics.js track call: e-commerce properties, no personal field. */
const track = {
  type: 'track',
  event: 'Product Viewed',
  messageId: 'ajs-next-0f3c8d2e9a7b4c1d',
  anonymousId: '6f1c2b7e-3d4a-4e5f-9a8b-7c6d5e4f3a2b',
  userId: 'user-1815',
  timestamp: '2026-03-10T12:00:00.000Z',
  properties: {
    product_id: 'p-507',
    sku: 'SOUR-800',
    category: 'Bread',
    name: 'Sourdough loaf',
    brand: 'Refinery Bakery',
    price: 4.5,
    currency: 'GBP',
    quantity: 1,
    url: 'https://bakery.example/loaves/sourdough',
  },
  context: {
    ip: '203.0.113.9',
    locale: 'en-GB',
    page: {
      path: '/loaves/sourdough',
      referrer: '',
      title: 'Sourdough',
      url: 'https://bakery.example/loaves',
    },
    library: { name: 'analytics.js', version: 'npm:next-1.84.3' },
    userAgent:
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36',
  },
};
/** An identify call with an email and a name, and traits that are not personal. */
const identify = {
  type: 'identify',
  messageId: 'ajs-next-1a2b3c4d5e6f7a8b',
  anonymousId: '6f1c2b7e-3d4a-4e5f-9a8b-7c6d5e4f3a2b',
  userId: 'user-1815',
  timestamp: '2026-03-10T12:00:00.000Z',
  traits: { email: 'ada@example.com', name: 'Ada Lovelace', plan: 'pro', logins: 12 },
  context: track.context,
};
/** Nanoseconds per call: the median over rounds, after one warm-up round. */
async function measure(work, iterations) {
  await work(Math.min(iterations, 20_000));
  const perCall = [];
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    await work(iterations);
    perCall.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(perCall.length / 2)];
}
const dataDir = mkdtempSync(join(tmpdir(), 'refinery-bench-protect-'));
const vault = await SubjectKeyVault.open({ dataDir, masterKey: randomBytes(32) });
const suppression = await SuppressionList.open({ dataDir });
await suppression.suppress([{ type: 'user_id', value: 'someone-erased' }]);
let sink = 0;
function cloning(message) {
  return async (iterations) => {
    for (let i = 0; i < iterations; i++) sink += Object.keys(structuredClone(message)).length;
    return sink;
  };
}
function protecting(message) {
  return async (iterations) => {
    for (let i = 0; i < iterations; i++) {
      const result = await protectMessage(message, vault, DEFAULT_PERSONAL_FIELDS);
      if (result.changed) sink++;
    }
    return sink;
  };
}
const suppressing = async (iterations) => {
  for (let i = 0; i < iterations; i++) if (suppression.isSuppressed(track)) sink++;
  return sink;
};
try {
  const rows = [
    ['track, no personal field', trackCount, protecting(track), cloning(track)],
    ['identify, email + name', identifyCount, protecting(identify), cloning(identify)],
    ['suppression check (track)', trackCount, suppressing, cloning(track)],
  ];
  console.log(`bench:protect — node ${process.version}, median of ${rounds} rounds`);
  console.log('case                          ns/message   structuredClone ns   ratio');
  for (const [name, iterations, work, baseline] of rows) {
    const cost = await measure(work, iterations);
    const clone = await measure(baseline, iterations);
    console.log(
      `${name.padEnd(30)}${cost.toFixed(0).padStart(10)}${clone.toFixed(0).padStart(21)}${(cost / clone)
        .toFixed(2)
        .padStart(8)}`,
    );
  }
  if (sink < 0) console.log(sink);
} finally {
  await vault.close();
  await suppression.close();
  rmSync(dataDir, { recursive: true, force: true });
}
