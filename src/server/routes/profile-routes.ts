import type { FastifyInstance } from 'fastify';
import { rolesWith, seesPersonalData } from '../../access/roles.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { RefineryError } from '../../core/errors.js';
import type { IdentifierHasher } from '../../identity/identifier-hashing.js';
import type { ConsentDefaults } from '../../privacy/consent-purposes.js';
import type { PersonalFields } from '../../privacy/vault/personal-fields.js';
import type { SubjectKeyVault } from '../../privacy/vault/subject-key-vault.js';
import {
  findPerson,
  readProfile,
  referenceNeedsPersonalAccess,
  searchProfiles,
} from '../../profiles/profile-reader.js';
import type { Store } from '../../store/store.js';
import { audit } from '../audit-trail.js';
import { API_KEY_SECURITY, getApiKeyOrThrow } from '../authorise.js';
import { limitOf } from './query-params.js';

export interface ProfileRouteDeps {
  readonly store: Store;
  /** Which field names are personal (hidden from keys without read:personal). */
  readonly personalFields: PersonalFields;
  /** Records reads of personal fields. */
  readonly audit?: AuditLog;
  /** Opens sealed personal fields for keys that may read personal data. */
  readonly vault?: SubjectKeyVault;
  /** The workspace's consent defaults, for purposes a person made no choice about. */
  readonly consentDefaults: ConsentDefaults;
  /** Hashes an email or phone the way the identity graph holds it; without it, such lookups are refused. */
  readonly identifiers?: IdentifierHasher;
}

/** The 360° view: one person's identities, traits, computed traits and recent events; search by trait. */
export function registerProfileRoutes(app: FastifyInstance, deps: ProfileRouteDeps): void {
  app.get(
    '/v1/profiles/:id',
    {
      config: { permission: 'read:profiles' },
      schema: {
        tags: ['profiles'],
        summary: 'One person: identities, traits, computed traits and recent events',
        description:
          'The id is a person id (p_…), or type:value of any identifier: user_id:42, anonymous_id:…, ' +
          'email:ada@example.com (normalised and hashed as the identity graph holds it). A bare value is a user id. ' +
          'Personal fields are hidden unless the key may read personal data, and a lookup by anything but a ' +
          'person id, user id or anonymous id (an email, a phone, an external id) needs read:personal.',
        security: API_KEY_SECURITY,
        params: { type: 'object', properties: { id: { type: 'string' } } },
        querystring: {
          type: 'object',
          properties: { events: { type: 'integer', minimum: 0, maximum: 200 } },
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const { events } = request.query as { events?: string };
      const key = getApiKeyOrThrow(request);
      const personal = seesPersonalData(key.kind);
      // Checked before anything is looked up: the answer to a key that may not ask is the same whether or not
      // the person exists, so an email cannot be tested for being a customer's.
      if (!personal && referenceNeedsPersonalAccess(id)) {
        throw new RefineryError(
          'REFINERY_ERR_FORBIDDEN',
          `Looking a person up by ${identifierTypeOf(id)} is reading personal data; it needs a key with the ` +
            `"read:personal" permission (${rolesWith('read:personal').join(', ')} keys hold it).`,
          { field: 'id', permission: 'read:personal' },
        );
      }
      const person = await findPerson(deps.store, id, deps.identifiers);
      if (!person) {
        throw new RefineryError('REFINERY_ERR_PROFILE_NOT_FOUND', `No person is known by "${id}".`, {
          field: 'id',
        });
      }
      const profile = await readProfile(deps.store, person, {
        personal,
        personalFields: deps.personalFields,
        recentEvents: recentEventsOf(events),
        consentDefaults: deps.consentDefaults,
        ...(deps.vault ? { vault: deps.vault } : {}),
      });
      if (personal) {
        await audit(deps.audit, request, 'personal_data.read', person.personId, { via: 'profile' });
      }
      return profile;
    },
  );

  app.get(
    '/v1/profiles',
    {
      config: { permission: 'read:profiles' },
      schema: {
        tags: ['profiles'],
        summary: 'Find people by a trait value (trait=plan&value=premium; email and phone match hashed)',
        security: API_KEY_SECURITY,
        querystring: {
          type: 'object',
          required: ['trait', 'value'],
          properties: {
            trait: { type: 'string' },
            value: { type: 'string' },
            limit: { type: 'integer', minimum: 1, maximum: 100 },
          },
        },
      },
    },
    async (request) => {
      const query = request.query as { trait?: string; value?: string; limit?: string };
      if (!query.trait || !/^[A-Za-z0-9_.$-]{1,128}$/.test(query.trait)) {
        throw new RefineryError(
          'REFINERY_ERR_INVALID_FIELD',
          'Name a trait (letters, digits, _ . $ -) to search by: ?trait=plan&value=premium.',
          { field: 'trait' },
        );
      }
      if (query.value === undefined || query.value === '') {
        throw new RefineryError('REFINERY_ERR_MISSING_FIELD', 'Give the trait value to look for: &value=…', {
          field: 'value',
        });
      }
      const key = getApiKeyOrThrow(request);
      const personal = seesPersonalData(key.kind);
      // Searching by a personal trait is reading it: only keys that may see personal data can.
      if (!personal && deps.personalFields.traits.has(query.trait)) {
        throw new RefineryError(
          'REFINERY_ERR_FORBIDDEN',
          `"${query.trait}" is a personal field; searching by it needs a key with the "read:personal" permission.`,
          { field: 'trait', permission: 'read:personal' },
        );
      }
      const profiles = await searchProfiles(
        deps.store,
        { trait: query.trait, value: query.value, limit: limitOf(request, 20, 100) },
        {
          personal,
          personalFields: deps.personalFields,
          consentDefaults: deps.consentDefaults,
          ...(deps.vault ? { vault: deps.vault } : {}),
        },
        deps.identifiers,
      );
      if (personal) {
        for (const profile of profiles) {
          await audit(deps.audit, request, 'personal_data.read', profile.personId, {
            via: 'profile search',
            trait: query.trait,
          });
        }
      }
      return { items: profiles };
    },
  );
}

/** `email` of `email:ada@example.com`: what a refusal may name without repeating the value. */
function identifierTypeOf(reference: string): string {
  const type = reference.trim().split(':', 1)[0] ?? '';
  return /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(type) ? type : 'that identifier';
}

function recentEventsOf(raw: string | undefined): number {
  const count = Number(raw ?? 20);
  return Number.isInteger(count) && count >= 0 ? Math.min(count, 200) : 20;
}
