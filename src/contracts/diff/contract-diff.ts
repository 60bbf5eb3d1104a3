import { customProperty } from '../contract-model.js';

/**
 * Compares two ODCS v3 contracts as parsed documents and says what changed and whether each change can
 * break the people and programs that rely on the old contract.
 *
 * Lists are matched by identity rather than position (schema objects and properties by `name`, servers by
 * `server`, …), so reordering a file is not a change. Paths name list items by that identity, the way the
 * reference tool (datacontract-cli) prints them: `schema.orders.properties.order_date.logicalType`.
 */

export type ChangeKind = 'added' | 'removed' | 'updated';
export type Severity = 'breaking' | 'non-breaking';
/** A map key, a list item's identity (its name, server, …), or a list position when items have none. */
export type PathSegment = string | number;

/** One change at the level people review: an added or removed object/property, or an updated one. */
export interface ContractChange {
  readonly kind: ChangeKind;
  /** `schema.orders.properties.region`, `slaProperties.availability`, `version`. */
  readonly path: string;
  readonly segments: readonly PathSegment[];
  readonly severity: Severity;
  readonly reason: string;
}

/** One changed node: a leaf with its old and new value, or an added/removed container (no values). */
export interface ContractChangeDetail {
  readonly kind: ChangeKind;
  readonly path: string;
  readonly segments: readonly PathSegment[];
  /** Absent for additions and for containers (maps and lists of items). */
  readonly oldValue?: unknown;
  /** Absent for removals and for containers. */
  readonly newValue?: unknown;
  readonly severity: Severity;
  readonly reason: string;
}

export interface ContractDiff {
  /** Summary-level changes by kind. */
  readonly counts: { readonly added: number; readonly updated: number; readonly removed: number };
  /** Summary-level changes that are breaking. */
  readonly breakingCount: number;
  /** Summary-level changes in path order. */
  readonly changes: readonly ContractChange[];
  /** Every changed node in path order, parents before their children. */
  readonly details: readonly ContractChangeDetail[];
}

/**
 * Diffs two parsed ODCS documents (`readOdcsFile(file).value`).
 *
 * @example diffContracts(readOdcsFile('v1.yaml').value, readOdcsFile('v2.yaml').value).breakingCount
 */
export function diffContracts(oldValue: unknown, newValue: unknown): ContractDiff {
  const oldDocument = normalise(oldValue) ?? {};
  const newDocument = normalise(newValue) ?? {};
  const rows: Row[] = [];
  walk(oldDocument, newDocument, ROOT_PLACE, rows);
  classifyRows(rows, { oldDocument, newDocument });
  const changes = summarise(rows);
  return {
    counts: {
      added: changes.filter((change) => change.kind === 'added').length,
      updated: changes.filter((change) => change.kind === 'updated').length,
      removed: changes.filter((change) => change.kind === 'removed').length,
    },
    breakingCount: changes.filter((change) => change.severity === 'breaking').length,
    changes,
    details: rows.map(toDetail),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Phase 1: walk both documents in path order and record every changed node.

/** What a node is in ODCS terms; list items get a role from the list they sit in. */
type Role =
  | 'root'
  | 'object'
  | 'property'
  | 'server'
  | 'sla'
  | 'quality'
  | 'customProperty'
  | 'member'
  | 'item';

/** The nearest node whose role decides how changes below it are classified. */
interface Owner {
  readonly role: Role;
  /** The owner's identity within its list (a property's name, a custom property's `property`). */
  readonly id: string | null;
  readonly parentRole: Role | null;
  /** The schema object the owner belongs to, for per-object settings such as `refinery.mode`. */
  readonly objectName: string | null;
}

interface Place {
  readonly segments: readonly PathSegment[];
  readonly owner: Owner;
  /** Keys from the owner down to this node (`['logicalTypeOptions', 'minimum']`). */
  readonly relative: readonly string[];
  /** Set when the node is a list item matched by identity (or position). */
  readonly item: { readonly entity: boolean; readonly identityKey: string | null } | null;
  /** The nearest summary-level item (schema object, property, top-level list item) at or above this node. */
  readonly entity: readonly PathSegment[] | null;
}

interface Row {
  readonly kind: ChangeKind;
  readonly place: Place;
  readonly container: boolean;
  readonly oldValue?: unknown;
  readonly newValue?: unknown;
  /** For added/removed rows: the topmost added/removed node this row belongs to (possibly itself). */
  subtreeRoot: Row | null;
  /** For added/removed rows: the topmost added/removed list item at or above, whose verdict this row shares. */
  anchor: Row | null;
  /** For added/removed rows: the node itself, as found on its side. */
  readonly node?: unknown;
  severity?: Severity;
  reason?: string;
  /** The verdict only sums up the rows below (a container that is no list item). */
  aggregate?: boolean;
}

const ROOT_OWNER: Owner = { role: 'root', id: null, parentRole: null, objectName: null };
const ROOT_PLACE: Place = { segments: [], owner: ROOT_OWNER, relative: [], item: null, entity: null };

function walk(oldNode: unknown, newNode: unknown, place: Place, rows: Row[]): void {
  if (oldNode === undefined && newNode === undefined) return;
  if (oldNode === undefined) {
    emitSubtree('added', newNode, place, null, null, rows);
    return;
  }
  if (newNode === undefined) {
    emitSubtree('removed', oldNode, place, null, null, rows);
    return;
  }
  if (isRecord(oldNode) && isRecord(newNode)) {
    for (const key of sortedUnion(Object.keys(oldNode), Object.keys(newNode))) {
      walk(oldNode[key], newNode[key], mapChild(place, key), rows);
    }
    return;
  }
  if (isItemList(oldNode) && isItemList(newNode)) {
    const rule = listRule(place);
    const identityKey = chooseIdentity(rule.keys, [oldNode, newNode]);
    const oldItems = byIdentity(oldNode, identityKey);
    const newItems = byIdentity(newNode, identityKey);
    for (const id of sortedUnion([...oldItems.keys()], [...newItems.keys()])) {
      walk(oldItems.get(id), newItems.get(id), listChild(place, rule.role, identityKey, id), rows);
    }
    return;
  }
  if (!sameValue(oldNode, newNode, isSetLike(place))) {
    rows.push({
      kind: 'updated',
      place,
      container: false,
      oldValue: oldNode,
      newValue: newNode,
      subtreeRoot: null,
      anchor: null,
    });
  }
}

/** Records a node that exists on one side only, and everything below it. */
function emitSubtree(
  kind: 'added' | 'removed',
  value: unknown,
  place: Place,
  subtreeRoot: Row | null,
  anchor: Row | null,
  rows: Row[],
): void {
  const container = isRecord(value) || isItemList(value);
  const row: Row = {
    kind,
    place,
    container,
    ...(container ? {} : kind === 'added' ? { newValue: value } : { oldValue: value }),
    subtreeRoot,
    anchor,
    node: value,
  };
  row.subtreeRoot = subtreeRoot ?? row;
  // Everything inside an added object (its properties too) is part of that one addition.
  row.anchor = anchor ?? (place.item ? row : null);
  rows.push(row);
  if (isRecord(value)) {
    for (const key of Object.keys(value).sort(compareText)) {
      // The identity key is already in the path (`schema.customers`, not `schema.customers.name`).
      if (key === place.item?.identityKey) continue;
      emitSubtree(kind, value[key], mapChild(place, key), row.subtreeRoot, row.anchor, rows);
    }
  } else if (isItemList(value)) {
    const rule = listRule(place);
    const identityKey = chooseIdentity(rule.keys, [value]);
    const items = byIdentity(value, identityKey);
    for (const id of [...items.keys()].sort(compareSegment)) {
      emitSubtree(
        kind,
        items.get(id),
        listChild(place, rule.role, identityKey, id),
        row.subtreeRoot,
        row.anchor,
        rows,
      );
    }
  }
}

function mapChild(place: Place, key: string): Place {
  const segments = [...place.segments, key];
  // An array property's `items` describes its elements with the same vocabulary as a property.
  if (key === 'items' && place.owner.role === 'property' && place.relative.length === 0) {
    return {
      segments,
      owner: { ...place.owner, role: 'property', id: 'items', parentRole: 'property' },
      relative: [],
      item: null,
      entity: place.entity,
    };
  }
  return { ...place, segments, relative: [...place.relative, key], item: null };
}

function listChild(place: Place, role: Role, identityKey: string | null, id: PathSegment): Place {
  const segments = [...place.segments, id];
  const entity = role === 'object' || role === 'property' || place.owner.role === 'root';
  return {
    segments,
    owner: {
      role,
      id: String(id),
      parentRole: place.owner.role,
      objectName: role === 'object' ? String(id) : place.owner.objectName,
    },
    relative: [],
    item: { entity, identityKey },
    entity: entity ? segments : place.entity,
  };
}

const GENERIC_IDENTITY_KEYS = ['id', 'name', 'property', 'server', 'username', 'role', 'channel', 'url'];

/** What the items of the list at `place` are, and which of their fields may identify them. */
function listRule(place: Place): { role: Role; keys: readonly string[] } {
  const { owner, relative } = place;
  const path = relative.join('.');
  const last = relative[relative.length - 1];
  if (owner.role === 'root' && path === 'schema') return { role: 'object', keys: ['name'] };
  if ((owner.role === 'object' || owner.role === 'property') && path === 'properties') {
    return { role: 'property', keys: ['name'] };
  }
  if (owner.role === 'root' && path === 'servers') return { role: 'server', keys: ['server'] };
  if (owner.role === 'root' && path === 'slaProperties') return { role: 'sla', keys: ['property'] };
  if (last === 'quality') return { role: 'quality', keys: ['id', 'name'] };
  if (last === 'customProperties') return { role: 'customProperty', keys: ['property'] };
  if (owner.role === 'root' && (path === 'team' || path === 'team.members')) {
    return { role: 'member', keys: ['username', 'name'] };
  }
  return { role: 'item', keys: GENERIC_IDENTITY_KEYS };
}

/** The first candidate field that every item of every list has, uniquely within its list; else position. */
function chooseIdentity(candidates: readonly string[], lists: readonly unknown[][]): string | null {
  for (const key of candidates) {
    const usable = lists.every((list) => {
      const seen = new Set<string>();
      for (const item of list) {
        const value = (item as Record<string, unknown>)[key];
        if (typeof value !== 'string' && typeof value !== 'number') return false;
        if (seen.has(String(value))) return false;
        seen.add(String(value));
      }
      return true;
    });
    if (usable) return key;
  }
  return null;
}

function byIdentity(list: unknown[], identityKey: string | null): Map<PathSegment, unknown> {
  const items = new Map<PathSegment, unknown>();
  list.forEach((item, index) => {
    items.set(identityKey ? String((item as Record<string, unknown>)[identityKey]) : index, item);
  });
  return items;
}

/** Lists whose order carries no meaning: reordering their values is no change. */
const SET_LIKE_KEYS = new Set(['tags', 'validValues', 'enum', 'examples']);

function isSetLike(place: Place): boolean {
  const last = place.relative[place.relative.length - 1];
  return last !== undefined && SET_LIKE_KEYS.has(last);
}

function sameValue(a: unknown, b: unknown, ignoreOrder: boolean): boolean {
  if (ignoreOrder && Array.isArray(a) && Array.isArray(b)) {
    const sortedA = a.map(canonical).sort();
    const sortedB = b.map(canonical).sort();
    return sortedA.length === sortedB.length && sortedA.every((value, index) => value === sortedB[index]);
  }
  return canonical(a) === canonical(b);
}

/** JSON with sorted keys, so two equal values always print the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .sort(compareText)
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (typeof value === 'bigint') return value.toString();
  return JSON.stringify(value) ?? 'null';
}

/** Drops null values and empty maps and lists: `description:` with nothing after it says nothing. */
function normalise(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => (item === null ? null : (normalise(item) ?? {})));
    return items.length > 0 ? items : undefined;
  }
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const normalised = normalise(child);
      if (normalised !== undefined) out[key] = normalised;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Phase 2: classify each row as breaking or not, with a reason.

interface Documents {
  readonly oldDocument: unknown;
  readonly newDocument: unknown;
}

interface Verdict {
  readonly severity: Severity;
  readonly reason: string;
}

const breaking = (reason: string): Verdict => ({ severity: 'breaking', reason });
const compatible = (reason: string): Verdict => ({ severity: 'non-breaking', reason });

function classifyRows(rows: Row[], documents: Documents): void {
  for (const row of rows) {
    let verdict: Verdict | null;
    if (row.anchor && row.anchor !== row) {
      verdict = { severity: row.anchor.severity!, reason: row.anchor.reason! };
    } else if (row.place.item && row.kind !== 'updated') {
      verdict = classifyItem(row, documents);
    } else if (!row.container) {
      verdict = classifyLeaf(row, documents);
    } else {
      verdict = null;
    }
    if (verdict) {
      row.severity = verdict.severity;
      row.reason = verdict.reason;
    }
  }
  // Containers that are no list items (a new `logicalTypeOptions` map) sum up the rows below them.
  rows.forEach((row, index) => {
    if (row.severity) return;
    let severity: Severity = 'non-breaking';
    for (let next = index + 1; next < rows.length; next++) {
      const below = rows[next]!;
      if (!startsWith(below.place.segments, row.place.segments)) break;
      if (below.severity === 'breaking') severity = 'breaking';
    }
    row.severity = severity;
    row.reason = severity === 'breaking' ? 'holds breaking changes (see below)' : 'holds the changes below';
    row.aggregate = true;
  });
}

/** An added or removed list item: a schema object, a property, a server, a quality rule, … */
function classifyItem(row: Row, documents: Documents): Verdict {
  const { owner } = row.place;
  const added = row.kind === 'added';
  switch (owner.role) {
    case 'object':
      return added
        ? compatible('new schema object')
        : breaking('schema object removed: consumers of its data lose it');
    case 'property': {
      if (!added) return breaking('property removed: consumers that read it break');
      return isRecord(row.node) && row.node.required === true
        ? breaking('new required property: data without it is no longer valid')
        : compatible('new optional property');
    }
    case 'server':
      return added ? compatible('new server') : breaking('server removed: consumers reading from it break');
    case 'quality': {
      if (!added) return compatible('quality rule removed (loosened)');
      return isRecord(row.node) && row.node.type === 'text'
        ? compatible('new quality rule in prose (not checked)')
        : breaking('new quality rule: data that passed before may now fail');
    }
    case 'customProperty':
      if (owner.id === MODE_PROPERTY) return classifyMode(owner, documents);
      return compatible(`custom property ${added ? 'added' : 'removed'}`);
    case 'sla':
      return compatible(`SLA property ${added ? 'added' : 'removed'}`);
    case 'member':
      return compatible(`team member ${added ? 'added' : 'removed'}`);
    default:
      return compatible(`${added ? 'added' : 'removed'}; does not restrict which data is valid`);
  }
}

function classifyLeaf(row: Row, documents: Documents): Verdict {
  const { owner, relative } = row.place;
  const key = relative[relative.length - 1] ?? '';
  if (key === 'validValues' || key === 'enum') return classifyAllowedValues(row, key);
  switch (owner.role) {
    case 'root':
      return classifyRootLeaf(row, relative);
    case 'object':
      if (relative.length === 1 && (key === 'physicalName' || key === 'physicalType')) {
        return breaking(`${key} changed: the object now describes other data`);
      }
      if (relative.length === 1 && key === 'name') return breaking('schema object renamed');
      return describeOnly(row, key);
    case 'property':
      return classifyPropertyLeaf(row, relative);
    case 'server':
      if (relative.length === 1 && ['description', 'environment', 'roles'].includes(key)) {
        return describeOnly(row, key);
      }
      return breaking(`server ${key} changed: consumers reading from it must follow`);
    case 'quality':
      return classifyQualityLeaf(row, relative);
    case 'customProperty':
      if (owner.id === MODE_PROPERTY && key === 'value') return classifyMode(owner, documents);
      return compatible(`custom property ${owner.id ?? ''} changed`);
    case 'sla':
      return compatible(`SLA ${owner.id ?? 'property'} changed`);
    default:
      return describeOnly(row, key);
  }
}

function classifyRootLeaf(row: Row, relative: readonly string[]): Verdict {
  const key = relative[0] ?? '';
  if (relative.length === 1 && (key === 'apiVersion' || key === 'kind' || key === 'id')) {
    return breaking(`${key} changed: tools that identify the contract by it no longer find it`);
  }
  if (relative.length === 1 && key === 'version') return compatible('version changed');
  if (relative.length === 1 && key === 'status') return compatible('status changed');
  return describeOnly(row, relative.join('.'));
}

const LOWER_BOUNDS = new Set(['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties']);
const UPPER_BOUNDS = new Set(['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties']);

function classifyPropertyLeaf(row: Row, relative: readonly string[]): Verdict {
  const key = relative[relative.length - 1] ?? '';
  if (relative.length === 1) {
    switch (key) {
      case 'required':
        return flagChange(
          row,
          'property became required: data without it is no longer valid',
          'property no longer required (loosened)',
        );
      case 'unique':
        return flagChange(
          row,
          'property became unique: repeated values are no longer valid',
          'property no longer unique (loosened)',
        );
      case 'primaryKey':
        return flagChange(
          row,
          'property became a primary key: repeated or missing values are no longer valid',
          'property no longer a primary key (loosened)',
        );
      case 'logicalType':
        return classifyTypeChange(row);
      case 'physicalName':
      case 'physicalType':
        return breaking(`${key} changed: the property now maps to other data`);
      case 'name':
        return breaking('property renamed');
      default:
        return describeOnly(row, key);
    }
  }
  if (relative.length === 2 && relative[0] === 'logicalTypeOptions') return classifyOption(row, key);
  return describeOnly(row, relative.join('.'));
}

/** Types whose values the other type also accepts: changing from left to right is widening. */
const WIDENINGS = new Set(['integer→number']);

function classifyTypeChange(row: Row): Verdict {
  const from = row.oldValue;
  const to = row.newValue;
  if (row.kind === 'removed') return compatible('logicalType no longer declared (loosened)');
  if (row.kind === 'added')
    return breaking(`logicalType ${String(to)} now declared: values of other types fail`);
  const change = `${String(from)}→${String(to)}`;
  if (WIDENINGS.has(change)) return compatible(`logicalType widened from ${String(from)} to ${String(to)}`);
  const narrower =
    from === 'string' || change === 'number→integer' || change === 'timestamp→date' || change === 'date→time';
  return breaking(
    `logicalType ${narrower ? 'narrowed' : 'changed'} from ${String(from)} to ${String(to)}: ` +
      `values valid before ${narrower ? 'may' : 'will'} fail`,
  );
}

function classifyOption(row: Row, key: string): Verdict {
  const { oldValue, newValue, kind } = row;
  if (LOWER_BOUNDS.has(key) || UPPER_BOUNDS.has(key)) {
    const lower = LOWER_BOUNDS.has(key);
    if (kind === 'removed') return compatible(`${key} removed (loosened)`);
    if (kind === 'added') return breaking(`new ${key} ${String(newValue)}: values beyond it now fail`);
    const order = compareBounds(newValue, oldValue);
    if (order === null) return breaking(`${key} changed to a value not comparable with the old one`);
    const tightened = lower ? order > 0 : order < 0;
    const direction = order > 0 ? 'raised' : 'lowered';
    return tightened
      ? breaking(
          `${key} ${direction} from ${String(oldValue)} to ${String(newValue)}: values between now fail`,
        )
      : compatible(`${key} ${direction} from ${String(oldValue)} to ${String(newValue)} (loosened)`);
  }
  switch (key) {
    case 'pattern':
    case 'format':
      if (kind === 'removed') return compatible(`${key} removed (loosened)`);
      return breaking(`${kind === 'added' ? 'new' : 'changed'} ${key}: values valid before may fail`);
    case 'multipleOf': {
      if (kind === 'removed') return compatible('multipleOf removed (loosened)');
      const divides =
        typeof oldValue === 'number' &&
        typeof newValue === 'number' &&
        newValue !== 0 &&
        oldValue % newValue === 0;
      return kind === 'updated' && divides
        ? compatible(`multipleOf loosened from ${oldValue} to ${newValue}`)
        : breaking(`${kind === 'added' ? 'new' : 'changed'} multipleOf: values valid before may fail`);
    }
    case 'uniqueItems':
      return flagChange(row, 'items must now be unique', 'items no longer need to be unique (loosened)');
    default:
      return describeOnly(row, `logicalTypeOptions.${key}`);
  }
}

/** Comparison operators of quality rules, by the direction in which they tighten. */
const UPPER_THRESHOLDS = new Set(['mustBeLessThan', 'mustBeLessOrEqualTo']);
const LOWER_THRESHOLDS = new Set(['mustBeGreaterThan', 'mustBeGreaterOrEqualTo']);
const RULE_PROSE = new Set(['description', 'name', 'dimension', 'severity', 'businessImpact', 'tags']);

function classifyQualityLeaf(row: Row, relative: readonly string[]): Verdict {
  const key = relative[0] ?? '';
  if (relative.length === 1 && RULE_PROSE.has(key)) return describeOnly(row, key);
  if (relative.length === 1 && (UPPER_THRESHOLDS.has(key) || LOWER_THRESHOLDS.has(key))) {
    if (row.kind === 'removed') return compatible(`${key} removed (loosened)`);
    if (row.kind === 'added') return breaking(`new threshold ${key} ${String(row.newValue)}`);
    const order = compareBounds(row.newValue, row.oldValue);
    const tightened = order === null || (UPPER_THRESHOLDS.has(key) ? order < 0 : order > 0);
    return tightened
      ? breaking(`${key} tightened from ${String(row.oldValue)} to ${String(row.newValue)}`)
      : compatible(`${key} loosened from ${String(row.oldValue)} to ${String(row.newValue)}`);
  }
  if (relative.length === 1 && key === 'mustBeBetween' && row.kind === 'updated') {
    const [oldLow, oldHigh] = asRange(row.oldValue);
    const [newLow, newHigh] = asRange(row.newValue);
    const contains =
      newLow !== null && oldLow !== null && newLow <= oldLow && (newHigh ?? 0) >= (oldHigh ?? 0);
    return contains
      ? compatible('mustBeBetween widened (loosened)')
      : breaking('mustBeBetween narrowed or moved: measurements that passed may now fail');
  }
  if (row.kind === 'removed' && relative.length === 1 && key.startsWith('must')) {
    return compatible(`${key} removed (loosened)`);
  }
  return breaking(`quality rule ${relative.join('.')} changed: data that passed may now fail`);
}

function classifyAllowedValues(row: Row, key: string): Verdict {
  if (row.kind === 'removed') return compatible(`${key} removed: any value is allowed (loosened)`);
  if (row.kind === 'added') return breaking(`new ${key}: other values now fail`);
  const before = Array.isArray(row.oldValue) ? row.oldValue.map(canonical) : [canonical(row.oldValue)];
  const after = new Set(
    Array.isArray(row.newValue) ? row.newValue.map(canonical) : [canonical(row.newValue)],
  );
  const dropped = before.filter((value) => !after.has(value));
  return dropped.length > 0
    ? breaking(`${key} no longer allow ${dropped.join(', ')}`)
    : compatible(`${key} extended (loosened)`);
}

const MODE_PROPERTY = 'refinery.mode';

/** `refinery.mode` becoming `enforce` (the default when absent) quarantines data that was only warned about. */
function classifyMode(owner: Owner, documents: Documents): Verdict {
  const objectName = owner.parentRole === 'object' ? owner.objectName : null;
  const before = effectiveMode(documents.oldDocument, objectName);
  const after = effectiveMode(documents.newDocument, objectName);
  if (after === 'enforce' && before !== 'enforce') {
    return breaking(
      `refinery.mode becomes enforce (was ${before}): data that breaks the contract is now refused`,
    );
  }
  return compatible(`refinery.mode is now ${after} (was ${before})`);
}

function effectiveMode(document: unknown, objectName: string | null): string {
  const root = isRecord(document) ? document : {};
  const contractMode = customProperty(root.customProperties, MODE_PROPERTY);
  const base = typeof contractMode === 'string' ? contractMode : 'enforce';
  if (objectName === null) return base;
  const object = (Array.isArray(root.schema) ? root.schema : []).find(
    (candidate) => isRecord(candidate) && candidate.name === objectName,
  );
  const objectMode = isRecord(object) ? customProperty(object.customProperties, MODE_PROPERTY) : undefined;
  return typeof objectMode === 'string' ? objectMode : base;
}

function describeOnly(row: Row, key: string): Verdict {
  const verb = row.kind === 'updated' ? 'changed' : row.kind;
  return compatible(`${key} ${verb}; does not restrict which data is valid`);
}

/** A yes/no setting whose absence means false: only false→true tightens; `false` added or dropped is no change. */
function flagChange(row: Row, tightened: string, loosened: string): Verdict {
  const before = row.oldValue === true;
  const after = row.newValue === true;
  if (after && !before) return breaking(tightened);
  if (before && !after) return compatible(loosened);
  return compatible(
    `${row.place.relative.join('.')}: false ${row.kind === 'added' ? 'written out' : 'dropped'}; same meaning`,
  );
}

/** Compares numbers, or ISO dates/times given as text; null when the two cannot be ordered. */
function compareBounds(a: unknown, b: unknown): number | null {
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  if (typeof a === 'string' && typeof b === 'string') {
    const timeA = Date.parse(a);
    const timeB = Date.parse(b);
    if (!Number.isNaN(timeA) && !Number.isNaN(timeB)) return Math.sign(timeA - timeB);
  }
  return null;
}

function asRange(value: unknown): [number | null, number | null] {
  if (!Array.isArray(value)) return [null, null];
  const [low, high] = value;
  return [typeof low === 'number' ? low : null, typeof high === 'number' ? high : null];
}

// ---------------------------------------------------------------------------------------------------------
// Phase 3: group the rows into summary-level changes.

function summarise(rows: readonly Row[]): ContractChange[] {
  const groups = new Map<string, { kind: ChangeKind; segments: readonly PathSegment[]; rows: Row[] }>();
  for (const row of rows) {
    const unit = summaryUnit(row);
    const key = JSON.stringify(unit.segments);
    const group = groups.get(key) ?? { ...unit, rows: [] };
    group.rows.push(row);
    groups.set(key, group);
  }
  return [...groups.values()]
    .sort((a, b) => compareSegments(a.segments, b.segments))
    .map((group) => {
      const breakingReasons = uniqueReasons(group.rows.filter((row) => row.severity === 'breaking'));
      const severity: Severity = breakingReasons.length > 0 ? 'breaking' : 'non-breaking';
      const reasons = severity === 'breaking' ? breakingReasons : uniqueReasons(group.rows);
      return {
        kind: group.kind,
        path: formatSegments(group.segments),
        segments: group.segments,
        severity,
        reason: reasons.join('; ') || 'holds the changes below',
      };
    });
}

/**
 * The topmost changed node a row belongs to: an added or removed object/property/top-level item; else the
 * object or property holding the change (updated); else, at the top of the contract, the top-level field.
 */
function summaryUnit(row: Row): { kind: ChangeKind; segments: readonly PathSegment[] } {
  const root = row.subtreeRoot;
  if (root?.place.item?.entity) return { kind: root.kind, segments: root.place.segments };
  const top = root ?? row;
  if (top.place.entity) return { kind: 'updated', segments: top.place.entity };
  const kind = root && root.place.segments.length === 1 ? root.kind : 'updated';
  return { kind, segments: top.place.segments.slice(0, 1) };
}

function uniqueReasons(rows: readonly Row[]): string[] {
  return [...new Set(rows.filter((row) => !row.aggregate).map((row) => row.reason!))];
}

function toDetail(row: Row): ContractChangeDetail {
  return {
    kind: row.kind,
    path: formatSegments(row.place.segments),
    segments: row.place.segments,
    ...('oldValue' in row ? { oldValue: row.oldValue } : {}),
    ...('newValue' in row ? { newValue: row.newValue } : {}),
    severity: row.severity!,
    reason: row.reason!,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Helpers.

/** `['schema', 'orders', 'properties', 'order_date']` → `schema.orders.properties.order_date`. */
export function formatSegments(segments: readonly PathSegment[]): string {
  return segments.map(String).join('.');
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Positions in numeric order, before names; names by code unit (as the reference tool sorts them). */
function compareSegment(a: PathSegment, b: PathSegment): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return compareText(a, b);
}

function compareSegments(a: readonly PathSegment[], b: readonly PathSegment[]): number {
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    const order = compareSegment(a[index]!, b[index]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

function sortedUnion<T extends PathSegment>(a: readonly T[], b: readonly T[]): T[] {
  return [...new Set([...a, ...b])].sort(compareSegment);
}

function startsWith(path: readonly PathSegment[], prefix: readonly PathSegment[]): boolean {
  return path.length > prefix.length && prefix.every((segment, index) => path[index] === segment);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/** A list of maps, which is matched item by item; lists of plain values are compared whole. */
function isItemList(value: unknown): value is Record<string, unknown>[] {
  return Array.isArray(value) && value.length > 0 && value.every(isRecord);
}
