import type { UndeclaredEventPolicy } from '../config/workspace-config.js';
import { RefineryError } from '../core/errors.js';
import {
  type Contract,
  type ContractMode,
  EVENT_OBJECT_TYPES,
  type EventObjectType,
  type SchemaObject,
} from './contract-model.js';
import { compileRecordValidator, type RecordValidator, type Violation } from './record-validator.js';

/** What governance decides for one event. */
export type GovernanceAction = 'accept' | 'flag' | 'quarantine';

export interface EventVerdict {
  readonly action: GovernanceAction;
  /** `id` of the governing contract, or null for an undeclared event. */
  readonly contract: string | null;
  readonly contractVersion: string | null;
  /** The schema object's name inside the contract. */
  readonly object: string | null;
  readonly violations: readonly Violation[];
}

/** The fields of a message governance looks at. */
export interface GovernedMessage {
  readonly type: EventObjectType;
  readonly event: string | null;
  readonly name: string | null;
  readonly properties: Record<string, unknown> | null;
  readonly traits: Record<string, unknown> | null;
  readonly context: Record<string, unknown> | null;
}

/** A schema object bound to the events it governs, with its compiled validator. */
export interface EventBinding {
  readonly key: string;
  readonly type: EventObjectType;
  /** The event name (track) or page/screen name; null means every call of the type. */
  readonly eventName: string | null;
  readonly contract: Contract;
  readonly object: SchemaObject;
  readonly mode: ContractMode;
  /** Where the object's properties live in a message: `properties`, `traits`, or the message itself. */
  readonly payload: 'properties' | 'traits' | 'message';
  readonly validate: RecordValidator;
}

/** A schema object describing a stored dataset (orders, customers, products …). */
export interface DatasetBinding {
  readonly dataset: string;
  readonly contract: Contract;
  readonly object: SchemaObject;
  readonly mode: ContractMode;
  readonly validate: RecordValidator;
}

const ACCEPT: EventVerdict = {
  action: 'accept',
  contract: null,
  contractVersion: null,
  object: null,
  violations: [],
};

/**
 * The workspace's contracts, compiled. Built once per (re)load and then only read, so the collector can
 * check every event against it without locks. Two contracts may not govern the same event: a conflict
 * is refused at build time, naming both files, so an event's mode is never ambiguous.
 */
export class ContractSet {
  private readonly events = new Map<string, EventBinding>();
  // Per call type: bindings by event/page name, and the one for every call of the type. Looked up on every
  // event, so without building a key string.
  private readonly byType = new Map<string, { named: Map<string, EventBinding>; all?: EventBinding }>();
  private readonly datasets = new Map<string, DatasetBinding>();

  constructor(
    readonly contracts: readonly Contract[],
    readonly undeclared: UndeclaredEventPolicy,
  ) {
    for (const contract of contracts) {
      for (const object of contract.objects) this.bind(contract, object);
    }
  }

  static empty(undeclared: UndeclaredEventPolicy = 'allow'): ContractSet {
    return new ContractSet([], undeclared);
  }

  get eventBindings(): readonly EventBinding[] {
    return [...this.events.values()];
  }

  get datasetBindings(): readonly DatasetBinding[] {
    return [...this.datasets.values()];
  }

  findEventBinding(type: EventObjectType, name: string | null): EventBinding | undefined {
    const bindings = this.byType.get(type);
    if (!bindings) return undefined;
    return (name !== null ? bindings.named.get(name) : undefined) ?? bindings.all;
  }

  findDatasetBinding(dataset: string): DatasetBinding | undefined {
    return this.datasets.get(dataset);
  }

  /**
   * Decides what happens to one event that already passed the Segment Spec checks. `raw` is the message as
   * sent: a contract for a call without properties or traits (alias) describes its top-level fields.
   */
  check(message: GovernedMessage, raw?: Readonly<Record<string, unknown>>): EventVerdict {
    const name = message.type === 'track' ? message.event : message.name;
    const binding = this.findEventBinding(message.type, name);
    if (!binding) return this.undeclaredVerdict(message.type, name);
    if (binding.mode === 'off') return ACCEPT;
    const violations = binding.validate(payloadOf(message, binding.payload, raw));
    if (violations.length === 0) return ACCEPT;
    return {
      action: binding.mode === 'enforce' ? 'quarantine' : 'flag',
      contract: binding.contract.id,
      contractVersion: binding.contract.version,
      object: binding.object.name,
      violations,
    };
  }

  private undeclaredVerdict(type: EventObjectType, name: string | null): EventVerdict {
    if (this.undeclared === 'allow') return ACCEPT;
    const what = type === 'track' ? `event "${name}"` : name ? `${type} "${name}"` : `${type} calls`;
    return {
      action: this.undeclared === 'quarantine' ? 'quarantine' : 'flag',
      contract: null,
      contractVersion: null,
      object: null,
      violations: [
        {
          path: type === 'track' ? 'event' : 'type',
          rule: 'undeclared',
          message: `${what} is not declared by any contract (contracts.undeclared: ${this.undeclared})`,
        },
      ],
    };
  }

  private bind(contract: Contract, object: SchemaObject): void {
    const mode = object.mode ?? contract.mode;
    const type = object.physicalType as EventObjectType | null;
    if (type && (EVENT_OBJECT_TYPES as readonly string[]).includes(type)) {
      const eventName = type === 'track' ? (object.physicalName ?? object.name) : namedOrAll(object);
      const key = keyOf(type, eventName);
      this.refuseConflict(this.events.get(key)?.contract, contract, object, describeKey(type, eventName));
      const payload =
        type === 'identify' || type === 'group' ? 'traits' : type === 'alias' ? 'message' : 'properties';
      const binding: EventBinding = {
        key,
        type,
        eventName,
        contract,
        object,
        mode,
        payload,
        validate: compileRecordValidator(object.properties, payload === 'message' ? '' : payload),
      };
      this.events.set(key, binding);
      let bindings = this.byType.get(type);
      if (!bindings) {
        bindings = { named: new Map() };
        this.byType.set(type, bindings);
      }
      if (eventName === null) bindings.all = binding;
      else bindings.named.set(eventName, binding);
      return;
    }
    const dataset = object.physicalName ?? object.name;
    this.refuseConflict(this.datasets.get(dataset)?.contract, contract, object, `dataset "${dataset}"`);
    this.datasets.set(dataset, {
      dataset,
      contract,
      object,
      mode,
      validate: compileRecordValidator(object.properties, ''),
    });
  }

  private refuseConflict(
    existing: Contract | undefined,
    contract: Contract,
    object: SchemaObject,
    what: string,
  ): void {
    if (!existing) return;
    const line = contract.source.lineOf(object.path);
    throw new RefineryError(
      'REFINERY_ERR_CONTRACT_CONFLICT',
      existing === contract
        ? `${contract.file}:${line}: ${what} is declared twice in this contract.`
        : `${what} is governed by two contracts: ${existing.file} (id ${existing.id}, mode ${existing.mode}) and ${contract.file}:${line} (id ${contract.id}, mode ${contract.mode}). An event may have one contract only.`,
      { field: what, files: [existing.file, contract.file] },
    );
  }
}

function namedOrAll(object: SchemaObject): string | null {
  return object.physicalName && object.physicalName !== '*' ? object.physicalName : null;
}

function keyOf(type: string, name: string | null): string {
  return name === null ? `${type}:*` : `${type}:${name}`;
}

function describeKey(type: string, name: string | null): string {
  if (type === 'track') return `event "${name}"`;
  return name === null ? `every ${type} call` : `${type} "${name}"`;
}

function payloadOf(
  message: GovernedMessage,
  payload: EventBinding['payload'],
  raw: Readonly<Record<string, unknown>> | undefined,
): unknown {
  if (payload === 'properties') return message.properties ?? {};
  if (payload === 'traits') {
    // Some SDKs (RudderStack) send identify traits in context.traits; storage falls back the same way.
    const fallback = message.context?.traits;
    return message.traits ?? (fallback && typeof fallback === 'object' ? fallback : {});
  }
  return raw ?? message;
}
