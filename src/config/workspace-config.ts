import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { isRefineryError, RefineryError } from '../core/errors.js';
import {
  DEFAULT_IDENTITY_RULES,
  type IdentityRules,
  validateIdentityRules,
} from '../identity/identity-rules.js';
import { type ConsentConfig, validateConsentConfig } from '../privacy/consent-purposes.js';
import { type PersonalFields, validatePersonalFieldsConfig } from '../privacy/vault/personal-fields.js';

export const CONFIG_FILE = 'refinery.yaml';

export type IpHandling = 'full' | 'truncate' | 'drop';

export type UndeclaredEventPolicy = 'allow' | 'flag' | 'quarantine';

export interface SourceConfig {
  readonly name: string;
  readonly type: 'browser' | 'server' | 'mobile' | 'file';
  readonly description?: string;
}

export interface WorkspaceConfig {
  readonly name: string;
  readonly store: { readonly url: string; readonly memoryLimit: string };
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly trustProxy: boolean | string;
    /** A request's headers must arrive within this (ms) of its first byte. */
    readonly headersTimeoutMs: number;
    /** The whole request, headers and body (an import upload too), must arrive within this (ms). */
    readonly requestTimeoutMs: number;
    /** A socket with nothing sent either way for this long (ms) is closed. */
    readonly connectionTimeoutMs: number;
    /** An idle kept-alive connection is closed after this (ms). */
    readonly keepAliveTimeoutMs: number;
    /** Sockets one client address may hold open at once; 0 = no cap. Addresses trustProxy trusts are not capped. */
    readonly maxConnectionsPerClient: number;
  };
  readonly sources: readonly SourceConfig[];
  readonly limits: {
    readonly maxEventBytes: number;
    readonly maxBatchBytes: number;
    readonly maxBatchEvents: number;
    readonly maxDepth: number;
    readonly maxWalBytes: number;
    readonly queryTimeoutMs: number;
    readonly queryMaxRows: number;
    /** A query answer is cut (`truncated`) once it holds about this many bytes of JSON. */
    readonly queryMaxBytes: number;
    /** The memory one query may take, as a size ('1GB'); past it the query is stopped (413). */
    readonly queryMaxMemory: string;
  };
  readonly collect: {
    readonly dedupeWindowHours: number;
    readonly ip: IpHandling;
    readonly loaderIntervalMs: number;
    readonly walSegmentBytes: number;
  };
  readonly contracts: {
    /** What happens to events no contract declares: stored, stored and flagged, or quarantined. */
    readonly undeclared: UndeclaredEventPolicy;
    /** Check `contracts/` for changes this often (ms) and apply a valid new set without a restart; 0 disables. */
    readonly reloadIntervalMs: number;
  };
  readonly retention: {
    /** Days to keep raw events; 0 keeps them forever. */
    readonly eventsDays: number;
    /** Days to keep rejected events and import rejects for inspection. */
    readonly rejectsDays: number;
    /**
     * Days to keep events of one call type (`page`, `identify`, …) or one track event name, instead of
     * `eventsDays`; 0 keeps them forever.
     */
    readonly events: Readonly<Record<string, number>>;
  };
  /** Which identifiers link people into one profile, their priority and limits (Segment-style merge rules). */
  readonly identity: IdentityRules;
  /** Consent-manager categories to purposes, and what applies to people who made no choice. */
  readonly consent: ConsentConfig;
  readonly privacy: {
    /** Field names sealed per person before anything is written (crypto-shredding on erasure). */
    readonly personalFields: PersonalFields;
    /** Days a data-subject request may stay open before it is overdue (GDPR: one month). */
    readonly requestDeadlineDays: number;
  };
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    store: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        url: { type: 'string', default: 'duckdb:data/refinery.duckdb', pattern: '^[a-z]+:' },
        memoryLimit: {
          type: 'string',
          default: '512MB',
          pattern: '^\\d+(\\.\\d+)?\\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$',
        },
      },
    },
    server: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 4000 },
        // Behind a reverse proxy, take the client IP from X-Forwarded-For: true, or the proxy's address/CIDR.
        trustProxy: { anyOf: [{ type: 'boolean' }, { type: 'string' }], default: false },
        // Slow clients are cut off: see src/server/connection-limits.ts and the comments in `refinery init`'s file.
        headersTimeoutMs: { type: 'integer', minimum: 500, default: 10_000 },
        requestTimeoutMs: { type: 'integer', minimum: 500, default: 120_000 },
        connectionTimeoutMs: { type: 'integer', minimum: 1000, default: 300_000 },
        keepAliveTimeoutMs: { type: 'integer', minimum: 1000, default: 72_000 },
        maxConnectionsPerClient: { type: 'integer', minimum: 0, default: 256 },
      },
    },
    sources: {
      type: 'array',
      default: [{ name: 'default', type: 'server' }],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' },
          type: { enum: ['browser', 'server', 'mobile', 'file'], default: 'server' },
          description: { type: 'string' },
        },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxEventBytes: { type: 'integer', minimum: 256, default: 32 * 1024 },
        // A WAL line holds one request body; the store's reader takes lines up to 32 MB.
        maxBatchBytes: { type: 'integer', minimum: 1024, maximum: 16 * 1024 * 1024, default: 500 * 1024 },
        maxBatchEvents: { type: 'integer', minimum: 1, default: 2500 },
        maxDepth: { type: 'integer', minimum: 2, maximum: 256, default: 32 },
        maxWalBytes: { type: 'integer', minimum: 1048576, default: 8 * 1024 * 1024 * 1024 },
        queryTimeoutMs: { type: 'integer', minimum: 100, default: 30_000 },
        queryMaxRows: { type: 'integer', minimum: 1, default: 100_000 },
        queryMaxBytes: { type: 'integer', minimum: 1024, default: 32 * 1024 * 1024 },
        queryMaxMemory: {
          type: 'string',
          default: '1GB',
          pattern: '^\\d+(\\.\\d+)?\\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$',
        },
      },
    },
    collect: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        dedupeWindowHours: { type: 'number', minimum: 0, default: 24 },
        // Truncated by default: a full address identifies a household, and analytics rarely needs more than /24.
        ip: { enum: ['full', 'truncate', 'drop'], default: 'truncate' },
        loaderIntervalMs: { type: 'integer', minimum: 10, default: 500 },
        walSegmentBytes: { type: 'integer', minimum: 65536, default: 16 * 1024 * 1024 },
      },
    },
    contracts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        undeclared: { enum: ['allow', 'flag', 'quarantine'], default: 'allow' },
        reloadIntervalMs: { type: 'integer', minimum: 0, default: 2000 },
      },
    },
    // Checked by the identity and privacy modules' own validators, which report every problem with its path.
    identity: { type: 'object' },
    consent: { type: 'object' },
    privacy: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        personalFields: { type: 'array', items: { type: 'string' } },
        requestDeadlineDays: { type: 'integer', minimum: 1, maximum: 365, default: 30 },
      },
    },
    retention: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        eventsDays: { type: 'integer', minimum: 0, default: 0 },
        rejectsDays: { type: 'integer', minimum: 1, default: 30 },
        events: {
          type: 'object',
          default: {},
          propertyNames: { minLength: 1 },
          additionalProperties: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: true });
const validateConfig = ajv.compile(configSchema);

/** Validates a parsed `refinery.yaml`, fills defaults and freezes it. `text` is used to point errors at a line. */
export function parseWorkspaceConfig(text: string, fileName = CONFIG_FILE): WorkspaceConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    const line = first.linePos?.[0].line;
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `${fileName}${line ? `:${line}` : ''}: ${first.message.split('\n')[0]}`,
      line ? { line } : {},
    );
  }
  // The line of the YAML node at a path, so every error can point at it.
  const lineAt = (path: readonly string[]): number | undefined => {
    const node = document.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
  };
  const value: unknown = document.toJS() ?? {};
  if (!validateConfig(value)) {
    const problems = (validateConfig.errors ?? []).map((error) => {
      const path = error.instancePath.split('/').filter(Boolean);
      const line = lineAt(path);
      const field = path.join('.') || '(root)';
      const extra =
        error.keyword === 'additionalProperties' ? ` '${String(error.params.additionalProperty)}'` : '';
      return { field, line, text: `${fileName}${line ? `:${line}` : ''}: ${field} ${error.message}${extra}` };
    });
    const first = problems[0]!;
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      problems.map((p) => p.text).join('\n'),
      first.line ? { field: first.field, line: first.line } : { field: first.field },
    );
  }
  const parsed = value as unknown as Record<string, unknown>;
  try {
    parsed.identity =
      parsed.identity === undefined
        ? DEFAULT_IDENTITY_RULES
        : validateIdentityRules(parsed.identity, 'identity');
    parsed.consent = validateConsentConfig(parsed.consent ?? {}, 'consent');
    checkServerTimeouts(parsed as unknown as Pick<WorkspaceConfig, 'server' | 'limits'>);
    const privacy = parsed.privacy as { personalFields?: unknown; requestDeadlineDays: number };
    parsed.privacy = {
      ...privacy,
      personalFields: validatePersonalFieldsConfig(privacy.personalFields, 'privacy.personalFields'),
    };
  } catch (error) {
    if (!isRefineryError(error)) throw error;
    const field = error.details.field;
    const path = typeof field === 'string' ? field.split(/[.[\]]+/).filter(Boolean) : [];
    const line = lineAt(path);
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `${fileName}${line ? `:${line}` : ''}: ${error.message}`,
      { ...(typeof field === 'string' ? { field } : {}), ...(line ? { line } : {}) },
    );
  }
  return deepFreeze(parsed as unknown as WorkspaceConfig);
}

/** The orderings between timeouts that the schema cannot express; the error names the setting to change. */
function checkServerTimeouts({ server, limits }: Pick<WorkspaceConfig, 'server' | 'limits'>): void {
  if (server.headersTimeoutMs > server.requestTimeoutMs) {
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      'server.headersTimeoutMs must not exceed server.requestTimeoutMs (the headers are part of the request).',
      { field: 'server.headersTimeoutMs' },
    );
  }
  // A query sends nothing until it finishes: a shorter idle timeout would cut it off without an answer.
  if (server.connectionTimeoutMs <= limits.queryTimeoutMs) {
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      'server.connectionTimeoutMs must be longer than limits.queryTimeoutMs, or queries are cut off before they answer.',
      { field: 'server.connectionTimeoutMs' },
    );
  }
}

/** Settings given on the command line (or by environment) that win over `refinery.yaml`. */
export interface ConfigOverrides {
  /** `--store URL`: run this workspace on another store engine, e.g. `clickhouse://127.0.0.1:8123/shop`. */
  readonly storeUrl?: string | undefined;
}

export function loadWorkspaceConfig(dir: string, overrides: ConfigOverrides = {}): WorkspaceConfig {
  const path = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new RefineryError(
      'REFINERY_ERR_WORKSPACE_NOT_FOUND',
      `No ${CONFIG_FILE} in ${dir}. Run \`refinery init ${dir}\` or pass --dir.`,
      {},
      { cause },
    );
  }
  const config = parseWorkspaceConfig(text, path);
  if (!overrides.storeUrl) return config;
  if (!/^[a-z]+:/.test(overrides.storeUrl)) {
    throw new RefineryError(
      'REFINERY_ERR_CONFIG_INVALID',
      `--store "${overrides.storeUrl}" is not a store URL.`,
      {
        field: 'store.url',
      },
    );
  }
  return deepFreeze({ ...config, store: { ...config.store, url: overrides.storeUrl } });
}

// Plain data only: validated settings objects (e.g. a FieldNameSet with its lookup tables) guard themselves.
function deepFreeze<T>(value: T): T {
  if (
    value &&
    typeof value === 'object' &&
    (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype)
  ) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
