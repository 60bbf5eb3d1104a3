import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readContract } from '../../src/contracts/contract-model.js';
import { ContractSet } from '../../src/contracts/contract-set.js';
import { lintContractSource } from '../../src/contracts/lint/lint-contract.js';
import { parseOdcsText } from '../../src/contracts/odcs-source.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The README's example contract: the YAML block that starts with its file name comment. */
function readmeContract(): string {
  const markdown = readFileSync(README, 'utf8');
  const match = /```yaml\n# contracts\/shop-events\.odcs\.yaml\n([\s\S]*?)```/.exec(markdown);
  if (!match?.[1]) throw new Error('README has no example contract block');
  return match[1];
}

describe('the README example contract', () => {
  it('lints clean and does what the README says', () => {
    const source = parseOdcsText(readmeContract(), 'shop-events.odcs.yaml');
    const report = lintContractSource(source);
    expect(report.errors).toEqual([]);
    const set = new ContractSet([readContract(source)], 'allow');
    const order = (properties: Record<string, unknown>) => ({
      type: 'track' as const,
      event: 'Order Completed',
      name: null,
      properties,
      traits: null,
      context: null,
    });
    expect(set.check(order({ order_id: 'A-1', total: 3, currency: 'EUR' })).action).toBe('accept');
    expect(set.check(order({ order_id: 'A-1', total: -3 })).action).toBe('quarantine');
    const viewed = set.check({ ...order({}), event: 'Product Viewed' });
    expect(viewed.action).toBe('flag');
  });
});
