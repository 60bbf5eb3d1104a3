import { describe, expect, it } from 'vitest';
import { readContract } from '../contracts/contract-model.js';
import { ContractSet } from '../contracts/contract-set.js';
import { lintContractSource } from '../contracts/lint/lint-contract.js';
import { parseOdcsText } from '../contracts/odcs-source.js';
import { generateBakery } from './bakery-generator.js';
import { demoContractText } from './demo-contract.js';

describe('the demo bakery contract', () => {
  const source = parseOdcsText(demoContractText(), 'bakery-web-events.odcs.yaml');

  it('lints clean against the ODCS schema', () => {
    expect(lintContractSource(source).errors).toEqual([]);
  });

  it('accepts every event the demo shop sends, and would catch a broken order', () => {
    const set = new ContractSet([readContract(source)], 'allow');
    const business = generateBakery({
      customers: 60,
      products: 40,
      days: 30,
      seed: 7,
      end: new Date('2026-06-01T00:00:00Z'),
    });
    const events = [...business.events()];
    const verdicts = events.map((message) =>
      set.check({
        type: message.type,
        event: message.event ?? null,
        name: message.name ?? null,
        properties: message.properties ?? null,
        traits: message.traits ?? null,
        context: message.context ?? null,
      } as never),
    );
    expect(verdicts.filter((v) => v.action !== 'accept')).toEqual([]);
    const order = events.find((m) => m.event === 'Order Completed');
    expect(order).toBeDefined();
    const broken = set.check({
      type: 'track',
      event: 'Order Completed',
      name: null,
      properties: { ...order!.properties, currency: 'EUR', products: [] },
      traits: null,
      context: null,
    });
    expect(broken.action).toBe('quarantine');
    expect(broken.violations.map((v) => v.rule).sort()).toEqual(['minItems', 'validValues']);
  });
});
