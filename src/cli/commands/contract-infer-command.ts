import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { EventObjectType } from '../../contracts/contract-model.js';
import { inferSchemaObject, renderInferredContract } from '../../contracts/infer/infer-contract.js';
import { RefineryError } from '../../core/errors.js';
import { asJsonObject } from '../../core/json-object.js';
import { workspaceTarget } from '../main.js';
import { printJson } from '../output.js';
import { withWorkspaceAccess } from '../workspace-access.js';

const INFER_TYPES = [
  'track',
  'identify',
  'page',
  'screen',
  'group',
] as const satisfies readonly EventObjectType[];
type InferType = (typeof INFER_TYPES)[number];

interface InferCommandOptions {
  readonly event?: string;
  readonly type: InferType;
  readonly page?: string;
  readonly limit: number;
  readonly output?: string;
  readonly force?: boolean;
  readonly json?: boolean;
}

/** `refinery contract infer`: drafts a contract from the events the workspace already holds. */
export function registerContractInferCommand(contract: Command, program: Command): void {
  const infer = contract
    .command('infer')
    .description('draft an ODCS contract (in warn mode) from the most recent events of one kind')
    .option('--event <name>', 'the track event to describe, e.g. "Order Completed"')
    .addOption(
      new Option('--type <type>', 'the call type; identify and group describe traits')
        .choices(INFER_TYPES)
        .default('track'),
    )
    .option('--page <name>', 'the page (or screen) name to describe; every page call when left out')
    .option('--limit <n>', 'how many of the most recent events to read', parsePositiveInteger, 10_000)
    .option('--output <file>', 'write the contract to this file instead of printing it')
    .option('--force', 'overwrite the --output file when it exists')
    .option('--json', 'print the inferred structure as JSON instead of YAML');
  infer.action(async (options: InferCommandOptions) => {
    const target = selectEvents(options, (message) => infer.error(message, { exitCode: 2 }));
    if (options.output && existsSync(options.output) && !options.force) {
      infer.error(`${options.output} already exists; pass --force to overwrite it`, { exitCode: 2 });
    }
    const rows = await withWorkspaceAccess(workspaceTarget(program.opts()), async (access) => {
      const result = await access.query(selectSql(target, options.limit));
      return result.rows.filter((row) => target.name === null || row.matched_name === target.name);
    });
    if (rows.length === 0) {
      throw new RefineryError('REFINERY_ERR_NOT_FOUND', `No stored events match ${target.description}.`, {
        field: target.type === 'track' ? '--event' : target.name !== null ? '--page' : '--type',
      });
    }
    // A call without properties still counts: it makes every field optional.
    const samples = rows.map(
      (row) => asJsonObject(typeof row.payload === 'string' ? parseJson(row.payload) : row.payload) ?? {},
    );
    const object = inferSchemaObject(samples, {
      physicalType: target.type,
      physicalName: target.name,
      receivedAt: rows.map((row) => (typeof row.received_at === 'string' ? row.received_at : null)),
    });
    const text = options.json ? `${JSON.stringify(object, null, 2)}\n` : renderInferredContract(object);
    if (options.output) {
      writeFileSync(options.output, text, { flag: options.force ? 'w' : 'wx' });
      console.error(
        `Wrote ${resolve(options.output)}: ${object.properties.length} fields from ${rows.length} events (${target.description}).`,
      );
    } else if (options.json) {
      printJson(object);
    } else {
      process.stdout.write(text);
    }
  });
}

interface EventSelection {
  readonly type: InferType;
  /** The event name (track) or page/screen name; null for every call of the type. */
  readonly name: string | null;
  readonly description: string;
}

function selectEvents(options: InferCommandOptions, usage: (message: string) => never): EventSelection {
  const { type } = options;
  if (type === 'track') {
    if (!options.event) usage('--event <name> is required for track events, e.g. --event "Order Completed"');
    if (options.page) usage('--page applies to page and screen calls; use --event for track events');
    return { type, name: options.event, description: `track event "${options.event}"` };
  }
  if (options.event) usage(`--event applies to track events; use --type track (not ${type})`);
  if (options.page && type !== 'page' && type !== 'screen')
    usage(`--page applies to page and screen calls, not ${type}`);
  const name = options.page ?? null;
  return { type, name, description: name === null ? `${type} calls` : `${type} calls named "${name}"` };
}

/**
 * The most recent calls of one kind, with the object that holds their fields. Written to run unchanged on
 * DuckDB and on ClickHouse (18.16 and later): JSON comes back as text and is parsed here, not in SQL.
 */
function selectSql(target: EventSelection, limit: number): string {
  const payload = target.type === 'identify' || target.type === 'group' ? 'traits' : 'properties';
  const column = target.type === 'track' ? 'event' : 'name';
  const where = [`type = ${sqlText(target.type)}`];
  if (target.name !== null) where.push(nameCondition(column, target.name));
  return [
    `SELECT ${payload} AS payload, ${column} AS matched_name, received_at FROM events`,
    `WHERE ${where.join(' AND ')} ORDER BY received_at DESC LIMIT ${limit}`,
  ].join(' ');
}

/**
 * `column = 'name'`. A backslash means different things in the two engines' string literals (ClickHouse
 * reads it as an escape, DuckDB does not), so a name holding one is matched on the part before it with
 * LIKE, and the caller keeps only rows whose name is exactly the one asked for. (Then fewer than `limit`
 * samples may remain; such names are rare.)
 */
function nameCondition(column: string, name: string): string {
  if (!name.includes('\\')) return `${column} = ${sqlText(name)}`;
  const prefix = name.slice(0, name.indexOf('\\'));
  return `${column} LIKE ${sqlText(`${prefix}%`)}`;
}

function sqlText(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function parsePositiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError('It must be a whole number of 1 or more.');
  return parsed;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
