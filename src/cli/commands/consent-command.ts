import type { Command } from 'commander';
import { CONSENT_PURPOSES, isConsentPurpose } from '../../privacy/consent-purposes.js';
import type { ConsentOverview, PersonConsent } from '../../privacy/consent-reader.js';
import { workspaceTarget } from '../main.js';
import { printJson, printTable } from '../output.js';
import { withWorkspaceAccess } from '../workspace-access.js';

export function registerConsentCommand(program: Command): void {
  const consent = program
    .command('consent')
    .description('consent per purpose: the overview, one person, and recording a decision');

  consent
    .command('overview')
    .description('people known and how many stand granted per purpose, per day or week')
    .option('--interval <day|week>', 'bucket size', 'day')
    .option('--json', 'print as JSON')
    .action(async (options: { interval: string; json?: boolean }) => {
      if (options.interval !== 'day' && options.interval !== 'week') {
        consent.error(`--interval must be day or week, not "${options.interval}"`, { exitCode: 2 });
      }
      const interval = options.interval as 'day' | 'week';
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const overview = await access.consentOverview(interval);
        if (options.json) printJson(overview);
        else printOverview(overview);
      });
    });

  consent
    .command('show')
    .description("one person's standing per purpose and the history behind it")
    .argument('<id>', 'a person id (p_…), or type:value of an identifier; a bare value is a user id')
    .option('--json', 'print as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
        const found = await access.consent(id);
        if (options.json) printJson(found);
        else printPerson(found);
      });
    });

  consent
    .command('set')
    .description('record a decision for a user id or anonymous id (outranks a banner of the same moment)')
    .argument('<id>', 'user_id:…, anonymous_id:…, or a bare user id')
    .requiredOption('--purpose <purpose>', `one of ${CONSENT_PURPOSES.join(', ')}`)
    .option('--granted', 'the person allows the purpose')
    .option('--denied', 'the person refuses the purpose')
    .option('--json', 'print as JSON')
    .action(
      async (
        id: string,
        options: { purpose: string; granted?: boolean; denied?: boolean; json?: boolean },
      ) => {
        if (!isConsentPurpose(options.purpose)) {
          consent.error(`--purpose must be one of ${CONSENT_PURPOSES.join(', ')}, not "${options.purpose}"`, {
            exitCode: 2,
          });
        }
        if (options.granted === options.denied) {
          consent.error('give exactly one of --granted or --denied', { exitCode: 2 });
        }
        const purpose = options.purpose as (typeof CONSENT_PURPOSES)[number];
        await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
          const result = await access.setConsent(id, { [purpose]: options.granted === true });
          if (options.json) printJson(result);
          else
            console.log(
              `Recorded: ${purpose} ${options.granted ? 'granted' : 'denied'} for ${id}` +
                (access.via === 'server' ? ' (applies to their events after the next load).' : '.'),
            );
        });
      },
    );
}

function printOverview(overview: ConsentOverview): void {
  const defaults = CONSENT_PURPOSES.map((purpose) => `${purpose} ${overview.defaults[purpose]}`).join(', ');
  console.log(`Defaults: ${defaults}`);
  printTable(
    overview.points.map((point) => ({
      [overview.interval]: point.bucket.slice(0, 10),
      people: point.people,
      ...Object.fromEntries(
        CONSENT_PURPOSES.map((purpose) => [purpose, shareOf(point.granted[purpose], point.people)]),
      ),
    })),
  );
  if (overview.unknownCategories.length > 0) {
    const names = overview.unknownCategories.map((entry) => `${entry.category} (${entry.count})`).join(', ');
    console.log(`Categories not mapped to a purpose (consent.categories in refinery.yaml): ${names}`);
  }
}

function shareOf(granted: number, people: number): string {
  return people === 0 ? '0' : `${granted} (${Math.round((granted / people) * 100)}%)`;
}

function printPerson(found: PersonConsent): void {
  console.log(found.personId);
  printTable(
    found.state.map((standing) => ({
      purpose: standing.purpose,
      granted: standing.granted ? 'yes' : 'no',
      since: standing.since ?? '',
      source: standing.source,
    })),
  );
  if (found.history.length > 0) {
    console.log('History:');
    printTable(
      found.history.map((entry) => ({
        at: entry.at,
        purpose: entry.purpose,
        granted: entry.granted ? 'yes' : 'no',
        source: entry.source,
        category: entry.category ?? '',
      })),
    );
  }
}
