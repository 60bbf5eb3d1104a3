import { RefineryError } from '../../core/errors.js';
import type { IdentifierHasher } from '../../identity/identifier-hashing.js';
import type { Identifier } from '../../identity/identity-rules.js';
import type {
  ErasureOptions,
  ErasureReport,
  ErasureTarget,
  PrivacyRequestRow,
  PrivacyRequestStatus,
} from '../../store/privacy-types.js';
import type { Store } from '../../store/store.js';
import type { ConsentDefaults } from '../consent-purposes.js';
import type { PersonalFields } from '../vault/personal-fields.js';
import type { Subject, SubjectKeyVault } from '../vault/subject-key-vault.js';
import type { SuppressionList } from '../vault/suppression-list.js';
import { type AccessBundle, BUNDLE_PARTS, buildAccessBundle, bundlePartRows } from './access-bundle.js';
import { erasureTarget, type ResolvedPerson, resolvePerson, resolvePersonById } from './person-target.js';
import {
  dueDate,
  maskedSubject,
  type NewPrivacyRequest,
  newRequestId,
  type PrivacyRequest,
  type SubjectReference,
  subjectHashesOf,
  toPrivacyRequest,
} from './privacy-request.js';

export interface PrivacyRequestDeps {
  readonly store: Store;
  /** Days a request may stay open (`privacy.requestDeadlineDays`). */
  readonly deadlineDays: number;
  /** The workspace's consent defaults, for the person's standing in an access bundle (`consent.default`). */
  readonly consentDefaults: ConsentDefaults;
  /** Which field names are personal (`privacy.personalFields`). */
  readonly personalFields: PersonalFields;
  /** Reveals sealed fields for access bundles and shreds keys on erasure; absent, neither happens. */
  readonly vault?: SubjectKeyVault;
  /** Remembers erased ids (hashed) so the collector drops them when they come back. */
  readonly suppression?: SuppressionList;
  /**
   * The workspace's keyed hashes: emails as the graph holds them, and how a request remembers its subject.
   * Requests cannot be taken without it.
   */
  readonly identifiers?: IdentifierHasher;
  /** Loads what the write-ahead log still holds, so an erasure finds every event of the person. */
  readonly drainLoader?: () => Promise<void>;
  /** Brings the identity graph up to date with what was loaded. */
  readonly resolveIdentities?: () => Promise<unknown>;
  /** Makes the in-memory identity graph re-read the store after an erasure (`IdentityResolution.reload`). */
  readonly reloadIdentities?: () => Promise<unknown>;
  /** Records a denial of `purpose` for the identifier (`type:value`); resolves once durable. */
  readonly recordObjection?: (decision: { identifier: string; purpose: string; at: Date }) => Promise<void>;
  /** Forgets the person's events held in memory (the live tail). */
  readonly forgetInMemory?: (target: ErasureTarget) => void;
  readonly erasure?: ErasureOptions;
  readonly now?: () => Date;
}

/** What running a request did, for the audit trail (no ids but the person id). */
export interface RunOutcome {
  readonly request: PrivacyRequest;
  readonly erasure?: ErasureReport & { keysShredded: number; suppressed: number };
}

/**
 * The data-subject request log and its execution: access (a bundle of everything held), erasure (rows deleted
 * physically, keys shredded, ids suppressed) and objection (a consent denial). Requests are kept with their
 * deadline; open ones can wait in a queue and be run or refused later.
 */
export class PrivacyRequests {
  /** Erasures run one at a time: each rewrites storage. */
  private erasing: Promise<unknown> = Promise.resolve();
  /** Named ids of requests received in this process, for queued requests run later (never stored in clear). */
  private readonly subjects = new Map<string, SubjectReference>();

  constructor(private readonly deps: PrivacyRequestDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async create(input: NewPrivacyRequest, actor: string): Promise<RunOutcome> {
    const receivedAt = this.now();
    // The person is looked up now: a queued erasure run later may no longer find them by a clear id.
    const resolved = await resolvePerson(this.deps.store, input.subject, this.hasher());
    const row: PrivacyRequestRow = {
      id: newRequestId(),
      kind: input.kind,
      subject: maskedSubject(input.subject),
      subjectHashes: subjectHashesOf(input.subject, this.hasher()),
      personId: resolved.person?.personId ?? null,
      purpose: input.purpose ?? null,
      status: 'open',
      receivedAt: receivedAt.toISOString(),
      dueAt: dueDate(receivedAt, this.deps.deadlineDays).toISOString(),
      completedAt: null,
      actor,
      result: null,
    };
    await this.deps.store.privacy.insert(row);
    this.subjects.set(row.id, input.subject);
    if (!input.run) return { request: toPrivacyRequest(row, this.now()) };
    return this.execute(row, input.subject);
  }

  async getOrThrow(id: string): Promise<PrivacyRequest> {
    return toPrivacyRequest(await this.rowOrThrow(id), this.now());
  }

  async list(status?: PrivacyRequestStatus): Promise<PrivacyRequest[]> {
    const rows = await this.deps.store.privacy.list({ ...(status ? { status } : {}), limit: 1000 });
    const now = this.now();
    return rows.map((row) => toPrivacyRequest(row, now));
  }

  /** Carries out an open request. */
  async run(id: string): Promise<RunOutcome> {
    const row = await this.rowOrThrow(id);
    this.assertOpen(row);
    return this.execute(row, this.subjects.get(id));
  }

  async refuse(id: string, reason: string): Promise<PrivacyRequest> {
    const row = await this.rowOrThrow(id);
    this.assertOpen(row);
    const refused: PrivacyRequestRow = {
      ...row,
      status: 'refused',
      completedAt: this.now().toISOString(),
      result: { reason },
    };
    await this.deps.store.privacy.update(refused);
    this.subjects.delete(id);
    return toPrivacyRequest(refused, this.now());
  }

  /** The access bundle of a done access request. */
  async bundle(id: string): Promise<AccessBundle> {
    const row = await this.rowOrThrow(id);
    if (row.kind !== 'access' || row.status !== 'done') {
      throw new RefineryError(
        'REFINERY_ERR_PRIVACY_REQUEST_STATE',
        `Request ${id} (${row.kind}) is ${row.status}; only a done access request has a bundle.`,
        { field: 'id' },
      );
    }
    return this.buildBundle(row, await resolvePersonById(this.deps.store, row.personId));
  }

  private async buildBundle(row: PrivacyRequestRow, resolved: ResolvedPerson): Promise<AccessBundle> {
    const { store, vault } = this.deps;
    const identifiers = this.hasher();
    const target = await erasureTarget(store, resolved, {}, vault, identifiers);
    const hashes = resolved.identifiers.map((identifier) => identifiers.index(identifier));
    const requests = await store.privacy.listBySubject([...new Set([...hashes, ...row.subjectHashes])]);
    const now = this.now();
    return buildAccessBundle({
      store,
      request: toPrivacyRequest(row, now),
      resolved,
      target,
      requests: requests.map((r) => toPrivacyRequest(r, now)),
      vault,
      now,
      consentDefaults: this.deps.consentDefaults,
      personalFields: this.deps.personalFields,
    });
  }

  private async execute(row: PrivacyRequestRow, subject: SubjectReference | undefined): Promise<RunOutcome> {
    switch (row.kind) {
      case 'access':
        return this.runAccess(row, subject);
      case 'erase':
        return this.runErase(row, subject);
      case 'object':
        return this.runObjection(row, subject);
    }
  }

  private async runAccess(
    row: PrivacyRequestRow,
    subject: SubjectReference | undefined,
  ): Promise<RunOutcome> {
    await this.deps.resolveIdentities?.();
    const resolved = subject
      ? await resolvePerson(this.deps.store, subject, this.hasher())
      : await resolvePersonById(this.deps.store, row.personId);
    const done: PrivacyRequestRow = {
      ...row,
      personId: resolved.person?.personId ?? row.personId,
      status: 'done',
      completedAt: this.now().toISOString(),
      result: {},
    };
    const bundle = await this.buildBundle(done, resolved);
    const parts = Object.fromEntries(BUNDLE_PARTS.map((part) => [part, bundlePartRows(bundle, part).length]));
    const finished = { ...done, result: { parts } };
    await this.deps.store.privacy.update(finished);
    this.subjects.delete(row.id);
    return { request: toPrivacyRequest(finished, this.now()) };
  }

  private runErase(row: PrivacyRequestRow, subject: SubjectReference | undefined): Promise<RunOutcome> {
    const work = this.erasing.then(() => this.erase(row, subject));
    this.erasing = work.catch(() => undefined);
    return work;
  }

  private async erase(row: PrivacyRequestRow, subject: SubjectReference | undefined): Promise<RunOutcome> {
    const { store, vault, suppression } = this.deps;
    const identifiers = this.hasher();
    const find = async () =>
      subject ? resolvePerson(store, subject, identifiers) : resolvePersonById(store, row.personId);
    // Suppress what is known first, so nothing more of the person is accepted while the log drains; then look
    // again, since the drained events may have taught the graph more ids.
    let resolved = await find();
    await suppression?.suppress(suppressionIdentifiers(resolved.identifiers));
    await this.deps.drainLoader?.();
    await this.deps.resolveIdentities?.();
    resolved = await find();
    const suppressed = (await suppression?.suppress(suppressionIdentifiers(resolved.identifiers))) ?? 0;
    const target = await erasureTarget(store, resolved, subject ?? {}, vault, identifiers);
    if (target.userIds.length === 0 && target.anonymousIds.length === 0 && target.personIds.length === 0) {
      throw new RefineryError(
        'REFINERY_ERR_PRIVACY_REQUEST_STATE',
        `Request ${row.id} no longer names anyone Refinery can find (queued requests keep only hashes of the ids); ` +
          'create it again with the ids.',
        { field: 'id' },
      );
    }
    const report = await store.privacy.erase(target, this.deps.erasure ?? {});
    const subjects: Subject[] = [
      ...target.userIds.map((value): Subject => ({ type: 'user_id', value })),
      ...target.anonymousIds.map((value): Subject => ({ type: 'anonymous_id', value })),
      // An imported order line known only by its email was sealed for the subject its email's keyed hash names.
      ...target.emailHashes.map((value): Subject => ({ type: 'anonymous_id', value })),
    ];
    const keysShredded = vault ? await vault.shred(subjects) : 0;
    await this.deps.reloadIdentities?.();
    this.deps.forgetInMemory?.(target);
    const erasure = { ...report, keysShredded, suppressed };
    const finished: PrivacyRequestRow = {
      ...row,
      personId: resolved.person?.personId ?? row.personId,
      status: 'done',
      completedAt: this.now().toISOString(),
      result: { deleted: report.deleted, physical: report.physical, keysShredded },
    };
    await store.privacy.update(finished);
    this.subjects.delete(row.id);
    return { request: toPrivacyRequest(finished, this.now()), erasure };
  }

  private async runObjection(
    row: PrivacyRequestRow,
    subject: SubjectReference | undefined,
  ): Promise<RunOutcome> {
    const record = this.deps.recordObjection;
    if (!record) {
      throw new RefineryError(
        'REFINERY_ERR_NOT_SUPPORTED',
        'Objections are recorded through the consent log, which this server does not run; the request stays open.',
        { field: 'kind' },
      );
    }
    const resolved = subject
      ? await resolvePerson(this.deps.store, subject, this.hasher())
      : await resolvePersonById(this.deps.store, row.personId);
    const identifier = primaryIdentifier(resolved.identifiers);
    if (!identifier || row.purpose === null) {
      throw new RefineryError(
        'REFINERY_ERR_PRIVACY_REQUEST_STATE',
        `Request ${row.id} no longer names anyone Refinery can find; create it again with the ids.`,
        { field: 'id' },
      );
    }
    await record({
      identifier: `${identifier.type}:${identifier.value}`,
      purpose: row.purpose,
      at: this.now(),
    });
    const finished: PrivacyRequestRow = {
      ...row,
      personId: resolved.person?.personId ?? row.personId,
      status: 'done',
      completedAt: this.now().toISOString(),
      result: { purpose: row.purpose, granted: false },
    };
    await this.deps.store.privacy.update(finished);
    this.subjects.delete(row.id);
    return { request: toPrivacyRequest(finished, this.now()) };
  }

  private hasher(): IdentifierHasher {
    if (!this.deps.identifiers) {
      throw new RefineryError(
        'REFINERY_ERR_NOT_SUPPORTED',
        'Privacy requests need the workspace’s keys (its master key), which this process has not opened.',
      );
    }
    return this.deps.identifiers;
  }

  private async rowOrThrow(id: string): Promise<PrivacyRequestRow> {
    const row = await this.deps.store.privacy.get(id);
    if (!row) {
      throw new RefineryError('REFINERY_ERR_PRIVACY_REQUEST_NOT_FOUND', `No privacy request ${id}.`, {
        field: 'id',
      });
    }
    return row;
  }

  private assertOpen(row: PrivacyRequestRow): void {
    if (row.status !== 'open') {
      throw new RefineryError(
        'REFINERY_ERR_PRIVACY_REQUEST_STATE',
        `Request ${row.id} is already ${row.status}; only an open request can be run or refused.`,
        { field: 'id' },
      );
    }
  }
}

/** A user id first, else an anonymous id, else anything: the identifier an objection is recorded for. */
function primaryIdentifier(identifiers: readonly Identifier[]): Identifier | undefined {
  return (
    identifiers.find((i) => i.type === 'user_id') ??
    identifiers.find((i) => i.type === 'anonymous_id') ??
    identifiers[0]
  );
}

/** The identifiers the collector can recognise: ids, emails and phones (as the graph hashes them). */
function suppressionIdentifiers(identifiers: readonly Identifier[]): Identifier[] {
  return identifiers.filter((i) => ['user_id', 'anonymous_id', 'email', 'phone'].includes(i.type));
}
