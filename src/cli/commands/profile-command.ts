import type { Command } from 'commander';
import type { Profile } from '../../profiles/profile-reader.js';
import { workspaceTarget } from '../main.js';
import { printJson, printTable } from '../output.js';
import { withWorkspaceAccess } from '../workspace-access.js';

export function registerProfileCommand(program: Command): void {
  const profile = program
    .command('profile')
    .description('one person: identities, traits, computed traits and recent events')
    .argument(
      '[id]',
      'a person id (p_…), or type:value of an identifier (user_id:42, email:ada@example.com); a bare value is a user id',
    )
    .option('--events <n>', 'how many recent events to show', '10')
    .option('--json', 'print as JSON')
    .action(async (id: string | undefined, options: { events: string; json?: boolean }) => {
      if (!id) {
        profile.help({ error: true });
        return;
      }
      const recent = Number(options.events);
      if (!Number.isInteger(recent) || recent < 0 || recent > 200) {
        profile.error(`--events must be a whole number from 0 to 200, not "${options.events}"`, {
          exitCode: 2,
        });
      }
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const found = await access.profile(id, recent);
        if (options.json) printJson(found);
        else printProfile(found);
      });
    });

  profile
    .command('search')
    .description('find people by a trait value (email and phone are matched through their hashes)')
    .requiredOption('--trait <name=value>', 'e.g. plan=premium or email=ada@example.com')
    .option('--limit <n>', 'at most this many people', '20')
    .option('--json', 'print as JSON')
    .action(async (options: { trait: string; limit: string; json?: boolean }) => {
      const equals = options.trait.indexOf('=');
      if (equals <= 0) {
        profile.error(`--trait takes name=value, not "${options.trait}"`, { exitCode: 2 });
      }
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        profile.error(`--limit must be a whole number from 1 to 100, not "${options.limit}"`, {
          exitCode: 2,
        });
      }
      const search = { trait: options.trait.slice(0, equals), value: options.trait.slice(equals + 1), limit };
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const found = await access.searchProfiles(search);
        // `--json` may land on `profile` itself, which takes the same option.
        if (options.json || profile.opts().json) {
          printJson({ items: found });
          return;
        }
        if (found.length === 0) {
          console.error(`Nobody has ${search.trait} = ${search.value}.`);
          process.exitCode = 1;
          return;
        }
        printTable(
          found.map((person) => ({
            personId: person.personId,
            [search.trait]: display(person.traits[search.trait]),
            orders: person.computed.orderCount,
            revenue: person.computed.revenue ?? '',
            lastSeen: person.lastSeen ?? '',
          })),
        );
      });
    });
}

function printProfile(profile: Profile): void {
  console.log(
    `${profile.personId}  (${profile.eventCount} events, ${profile.firstSeen ?? '?'} – ${profile.lastSeen ?? '?'})`,
  );
  console.log('\nIdentities');
  for (const identity of profile.identities) console.log(`  ${identity.type.padEnd(14)} ${identity.value}`);
  console.log('\nTraits');
  const names = Object.keys(profile.traits).sort();
  if (names.length === 0) console.log('  (none)');
  for (const name of names) console.log(`  ${name.padEnd(14)} ${display(profile.traits[name])}`);
  const computed = profile.computed;
  console.log('\nComputed');
  console.log(`  orders         ${computed.orderCount}`);
  console.log(`  revenue        ${computed.revenue ?? '—'}`);
  console.log(`  average order  ${computed.averageOrderValue ?? '—'}`);
  console.log(`  last order     ${computed.lastOrderAt ?? '—'}`);
  console.log(`  favourite      ${computed.favouriteCategory ?? '—'}`);
  console.log('\nConsent');
  for (const consent of profile.consents) {
    const standing = consent.granted ? 'granted' : 'denied';
    const why = consent.source === 'default' ? 'default' : `${consent.source}, ${consent.since}`;
    console.log(`  ${consent.purpose.padEnd(14)} ${standing.padEnd(8)} (${why})`);
  }
  if (profile.recentEvents.length > 0) {
    console.log('\nRecent events');
    printTable(
      profile.recentEvents.map((event) => ({
        timestamp: event.timestamp,
        type: event.type,
        name: event.name ?? '',
        source: event.source,
      })),
    );
  }
}

function display(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
