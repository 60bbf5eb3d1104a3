import { describe, expect, it } from 'vitest';
import { isRefineryError } from '../core/errors.js';
import { readContract } from './contract-model.js';
import { ContractSet, type GovernedMessage } from './contract-set.js';
import { parseOdcsText } from './odcs-source.js';

function contract(file: string, body: string, mode?: string) {
  const text = `apiVersion: v3.1.0
kind: DataContract
id: ${file.replace(/\W/g, '-')}
version: 1.0.0
status: active
${mode ? `customProperties:\n  - property: refinery.mode\n    value: ${mode}\n` : ''}schema:
${body}`;
  return readContract(parseOdcsText(text, file));
}

const checkout = `  - name: checkout_started
    physicalType: track
    physicalName: Checkout Started
    properties:
      - name: cart_id
        logicalType: string
        required: true
`;

function track(event: string, properties: Record<string, unknown> | null = {}): GovernedMessage {
  return { type: 'track', event, name: null, properties, traits: null, context: null };
}

describe('ContractSet', () => {
  it('quarantines in enforce mode, flags in warn mode and passes in off mode', () => {
    for (const [mode, action] of [
      ['enforce', 'quarantine'],
      ['warn', 'flag'],
      ['off', 'accept'],
    ] as const) {
      const set = new ContractSet([contract('a.yaml', checkout, mode)], 'allow');
      expect(set.check(track('Checkout Started')).action).toBe(action);
      expect(set.check(track('Checkout Started', { cart_id: 'c1' })).action).toBe('accept');
    }
  });

  it('lets a schema object override its contract mode', () => {
    const body = checkout.replace(
      '    properties:',
      '    customProperties:\n      - property: refinery.mode\n        value: warn\n    properties:',
    );
    const set = new ContractSet([contract('a.yaml', body, 'enforce')], 'allow');
    expect(set.check(track('Checkout Started')).action).toBe('flag');
  });

  it('refuses two contracts governing the same event, naming both files and modes', () => {
    let error: unknown;
    try {
      new ContractSet(
        [contract('a.yaml', checkout, 'enforce'), contract('b.yaml', checkout, 'warn')],
        'allow',
      );
    } catch (caught) {
      error = caught;
    }
    expect(isRefineryError(error) && error.code).toBe('REFINERY_ERR_CONTRACT_CONFLICT');
    expect((error as Error).message).toMatch(/a\.yaml.*enforce.*b\.yaml.*warn/);
  });

  it('refuses an event declared twice in one contract, with the line', () => {
    expect(() => new ContractSet([contract('a.yaml', checkout + checkout)], 'allow')).toThrow(
      /a\.yaml:\d+: event "Checkout Started" is declared twice/,
    );
  });

  it('applies the undeclared-event policy', () => {
    const contracts = [contract('a.yaml', checkout)];
    expect(new ContractSet(contracts, 'allow').check(track('Other')).action).toBe('accept');
    const flagged = new ContractSet(contracts, 'flag').check(track('Other'));
    expect(flagged).toMatchObject({ action: 'flag', contract: null });
    expect(flagged.violations[0]).toMatchObject({ rule: 'undeclared', path: 'event' });
    expect(new ContractSet(contracts, 'quarantine').check(track('Other')).action).toBe('quarantine');
  });

  it('matches a named page before the contract for every page', () => {
    const body = `  - name: pages
    physicalType: page
    properties:
      - name: path
        logicalType: string
        required: true
  - name: checkout_page
    physicalType: page
    physicalName: Checkout
    properties:
      - name: step
        logicalType: integer
        required: true
`;
    const set = new ContractSet([contract('p.yaml', body)], 'quarantine');
    const page = (name: string | null, properties: Record<string, unknown>): GovernedMessage => ({
      type: 'page',
      event: null,
      name,
      properties,
      traits: null,
      context: null,
    });
    expect(set.check(page('Checkout', { step: 2 })).action).toBe('accept');
    expect(set.check(page('Checkout', { path: '/x' })).violations[0]?.path).toBe('properties.step');
    expect(set.check(page('Home', { path: '/' })).action).toBe('accept');
    expect(set.check(page(null, {})).violations[0]?.path).toBe('properties.path');
  });

  it('checks identify traits, also when an SDK sends them in context.traits', () => {
    const body = `  - name: identify
    physicalType: identify
    properties:
      - name: email
        logicalType: string
        required: true
        logicalTypeOptions:
          format: email
`;
    const set = new ContractSet([contract('i.yaml', body)], 'allow');
    const identify = (traits: Record<string, unknown> | null, context: Record<string, unknown> | null) => ({
      type: 'identify' as const,
      event: null,
      name: null,
      properties: null,
      traits,
      context,
    });
    expect(set.check(identify({ email: 'a@b.co' }, null)).action).toBe('accept');
    expect(set.check(identify(null, { traits: { email: 'a@b.co' } })).action).toBe('accept');
    expect(set.check(identify({ email: 'nope' }, null)).violations[0]).toMatchObject({
      path: 'traits.email',
      rule: 'format',
    });
  });

  it('checks the top-level fields of an alias call as sent', () => {
    const body = `  - name: alias
    physicalType: alias
    properties:
      - name: previousId
        logicalType: string
        required: true
        logicalTypeOptions:
          pattern: "^anon-"
      - name: timestamp
        logicalType: timestamp
`;
    const set = new ContractSet([contract('a.yaml', body)], 'allow');
    const alias = {
      type: 'alias' as const,
      event: null,
      name: null,
      properties: null,
      traits: null,
      context: null,
    };
    const raw = { type: 'alias', userId: 'u1', previousId: 'anon-7', timestamp: '2026-03-01T10:00:00Z' };
    expect(set.check(alias, raw).action).toBe('accept');
    expect(set.check(alias, { ...raw, previousId: 'u0' }).violations[0]).toMatchObject({
      path: 'previousId',
      rule: 'pattern',
    });
  });

  it('binds other schema objects to stored datasets', () => {
    const body = `  - name: orders
    physicalType: table
    properties:
      - name: order_id
        logicalType: string
        required: true
`;
    const set = new ContractSet([contract('d.yaml', body)], 'allow');
    expect(set.findDatasetBinding('orders')?.validate({ order_id: null })[0]?.rule).toBe('type');
  });
});
