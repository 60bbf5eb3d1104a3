import { join } from 'node:path';
import type { UndeclaredEventPolicy } from '../config/workspace-config.js';
import { isRefineryError } from '../core/errors.js';
import type { ContractSet } from './contract-set.js';
import { contractFolderFingerprint, loadContractSet } from './load-contracts.js';

export interface ContractLoadState {
  readonly loadedAt: string;
  readonly contracts: number;
  /** Why the newest files were not applied (the previous set stays in force), or null. */
  readonly error: { readonly code: string; readonly message: string } | null;
}

/**
 * The contracts a running server enforces. Polls the folder and swaps in a new compiled set only when it
 * loads cleanly; a broken edit leaves the last good set in force and is reported, never half-applied.
 */
export class LiveContracts {
  private fingerprint: string;
  private set: ContractSet;
  private state: ContractLoadState;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly workspaceRoot: string,
    private readonly undeclared: UndeclaredEventPolicy,
  ) {
    this.fingerprint = contractFolderFingerprint(this.folder);
    // The first load must succeed: starting a server with contracts it cannot read would be a silent gap.
    this.set = loadContractSet(workspaceRoot, undeclared);
    this.state = { loadedAt: new Date().toISOString(), contracts: this.set.contracts.length, error: null };
  }

  get current(): ContractSet {
    return this.set;
  }

  get status(): ContractLoadState {
    return this.state;
  }

  /** Reloads when the files changed. Returns true when a new set is now in force. */
  reloadIfChanged(force = false): boolean {
    const fingerprint = contractFolderFingerprint(this.folder);
    if (!force && fingerprint === this.fingerprint) return false;
    this.fingerprint = fingerprint;
    try {
      this.set = loadContractSet(this.workspaceRoot, this.undeclared);
      this.state = { loadedAt: new Date().toISOString(), contracts: this.set.contracts.length, error: null };
      return true;
    } catch (error) {
      const reason = isRefineryError(error)
        ? { code: error.code, message: error.message }
        : { code: 'REFINERY_ERR_CONTRACT_INVALID', message: String(error) };
      this.state = { ...this.state, error: reason };
      return false;
    }
  }

  watch(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => this.reloadIfChanged(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private get folder(): string {
    return join(this.workspaceRoot, 'contracts');
  }
}
