import type { WorkspaceConfig } from '../config/workspace-config.js';
import { IdentifierHasher } from '../identity/identifier-hashing.js';
import { deriveKey } from './vault/derived-keys.js';
import { loadMasterKey } from './vault/master-key.js';
import type { PersonalFields } from './vault/personal-fields.js';
import { SubjectKeyVault } from './vault/subject-key-vault.js';
import { SuppressionList } from './vault/suppression-list.js';

/** A workspace's personal-data protection, opened once per process that writes or reveals personal data. */
export interface WorkspacePrivacy {
  /** Per-person keys that seal personal fields; shredding one makes that person's values unreadable. */
  readonly vault: SubjectKeyVault;
  /** Hashes of erased people's identifiers, dropped when they arrive again. */
  readonly suppression: SuppressionList;
  /** Which field names are personal (`privacy.personalFields` plus Segment's reserved identifying traits). */
  readonly fields: PersonalFields;
  /**
   * The key person ids are derived with (an HMAC of the person's leading identifier). Derived from the master
   * key, so a person id reveals nothing and cannot be recomputed from a user id by someone without the key.
   */
  readonly personIdKey: string;
  /**
   * Hashes emails and phones (and the identifiers the suppression list and privacy requests remember) with keys
   * derived from the master key, so no hash the workspace keeps can be tested against a guessed address.
   */
  readonly identifiers: IdentifierHasher;
  close(): Promise<void>;
}

export interface WorkspacePrivacyOptions {
  readonly dataDir: string;
  readonly config: WorkspaceConfig;
  /** REFINERY_MASTER_KEY, as `readEnvironment()` found it. */
  readonly masterKey?: string | undefined;
}

/** Loads (or on first start creates) the master key, then opens the key vault and the suppression list. */
export async function openWorkspacePrivacy(options: WorkspacePrivacyOptions): Promise<WorkspacePrivacy> {
  const master = loadMasterKey({ dataDir: options.dataDir, fromEnvironment: options.masterKey });
  const vault = await SubjectKeyVault.open({ dataDir: options.dataDir, masterKey: master.key });
  const identifiers = IdentifierHasher.fromMasterKey(master.key);
  const suppression = await SuppressionList.open({ dataDir: options.dataDir, hasher: identifiers }).catch(
    async (error: unknown) => {
      await vault.close();
      throw error;
    },
  );
  return {
    vault,
    suppression,
    fields: options.config.privacy.personalFields,
    personIdKey: deriveKey(master.key, 'personIds').toString('hex'),
    identifiers,
    async close() {
      await Promise.all([vault.close(), suppression.close()]);
    },
  };
}
