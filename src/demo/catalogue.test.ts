import { describe, expect, it } from 'vitest';
import { buildCatalogue, PLANTED_RULES, slugify } from './catalogue.js';

describe('catalogue', () => {
  it('builds exactly the requested number of products with unique ids and names', () => {
    for (const count of [1, 60, 200, 400]) {
      const { products } = buildCatalogue(count);
      expect(products).toHaveLength(count);
      expect(new Set(products.map((p) => p.product_id)).size).toBe(count);
      expect(new Set(products.map((p) => p.name)).size).toBe(count);
      expect(products[0]!.product_id).toBe('p_0001');
    }
    expect(() => buildCatalogue(0)).toThrow(RangeError);
  });

  it('keeps every planted rule and every season even in a small catalogue', () => {
    const catalogue = buildCatalogue(60);
    for (const rule of PLANTED_RULES) {
      expect(catalogue.byTag.get(rule.antecedent)?.length, rule.antecedent).toBeGreaterThan(0);
      expect(catalogue.byTag.get(rule.consequent)?.length, rule.consequent).toBeGreaterThan(0);
    }
    const seasons = new Set(catalogue.products.map((p) => p.season));
    expect([...seasons].sort()).toEqual(['all', 'autumn', 'christmas', 'easter', 'summer', 'valentine']);
    const names = catalogue.products.map((p) => p.name);
    for (const name of [
      'Butter croissant',
      'Flat white',
      'Baguette',
      'Hot cross buns (4)',
      'Stollen',
      'Iced coffee',
    ]) {
      expect(names).toContain(name);
    }
  });

  it('prices products realistically in GBP', () => {
    for (const p of buildCatalogue(200).products) {
      expect(p.currency).toBe('GBP');
      expect(p.price).toBeGreaterThan(0.4);
      expect(p.price).toBeLessThan(60);
      expect(Math.round(p.price * 100) / 100).toBe(p.price);
      if (p.category === 'Hot drinks') expect(p.price).toBeLessThan(5);
      if (p.category === 'Celebration cakes') expect(p.price).toBeGreaterThan(10);
    }
  });

  it('turns names into URL slugs', () => {
    expect(slugify('Comté (200g)')).toBe('comte-200g');
    expect(slugify("Millionaire's shortbread")).toBe('millionaire-s-shortbread');
    expect(slugify('Ham & cheddar baguette')).toBe('ham-and-cheddar-baguette');
  });
});
