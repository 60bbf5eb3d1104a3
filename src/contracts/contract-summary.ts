import type { ContractSet } from './contract-set.js';
import type { ContractLoadState } from './live-contracts.js';

export interface GovernedItemSummary {
  /** Schema object name inside the contract. */
  readonly object: string;
  /** `track`, `identify`, … for events; `dataset` for stored datasets. */
  readonly kind: string;
  /** The event name, page/screen name or dataset it governs; null = every call of the type. */
  readonly target: string | null;
  readonly mode: string;
  readonly properties: number;
  readonly requiredProperties: number;
  readonly qualityRules: number;
}

export interface ContractSummary {
  readonly file: string;
  readonly id: string;
  readonly name: string | null;
  readonly version: string;
  readonly status: string;
  readonly mode: string;
  readonly owner: string | null;
  readonly governs: readonly GovernedItemSummary[];
}

export interface ContractsOverview {
  readonly undeclared: string;
  readonly contracts: readonly ContractSummary[];
  readonly load?: ContractLoadState;
}

/** What `GET /v1/contracts` and `refinery contract list` show. */
export function summariseContracts(set: ContractSet, load?: ContractLoadState): ContractsOverview {
  const contracts = set.contracts.map((contract): ContractSummary => {
    const governs: GovernedItemSummary[] = [];
    for (const binding of set.eventBindings.filter((b) => b.contract === contract)) {
      governs.push({
        object: binding.object.name,
        kind: binding.type,
        target: binding.eventName,
        mode: binding.mode,
        ...counts(binding.object),
      });
    }
    for (const binding of set.datasetBindings.filter((b) => b.contract === contract)) {
      governs.push({
        object: binding.object.name,
        kind: 'dataset',
        target: binding.dataset,
        mode: binding.mode,
        ...counts(binding.object),
      });
    }
    return {
      file: contract.file,
      id: contract.id,
      name: contract.name,
      version: contract.version,
      status: contract.status,
      mode: contract.mode,
      owner: contract.owner,
      governs,
    };
  });
  return { undeclared: set.undeclared, contracts, ...(load ? { load } : {}) };
}

function counts(object: {
  properties: readonly { required: boolean; quality: readonly unknown[] }[];
  quality: readonly unknown[];
}) {
  return {
    properties: object.properties.length,
    requiredProperties: object.properties.filter((p) => p.required).length,
    qualityRules: object.quality.length + object.properties.reduce((n, p) => n + p.quality.length, 0),
  };
}
