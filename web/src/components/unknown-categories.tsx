import type { CategoryCount } from '../api-types.js';
import { formatCount } from '../format.js';

/** Consent-manager categories no mapping knows: they decide nothing until refinery.yaml maps them. */
export function UnknownCategories({ items }: { items: CategoryCount[] }) {
  if (items.length === 0) {
    return (
      <p className="muted small" data-testid="unknown-categories-none">
        Every consent-manager category received so far is mapped to a purpose.
      </p>
    );
  }
  const example = items[0]?.category ?? 'C0002';
  return (
    <div className="stack stack-tight">
      <p className="notice small" data-testid="unknown-categories-hint">
        These categories arrived in <code>context.consent.categoryPreferences</code> but map to no purpose, so
        they decide nothing. Map each one in <code>refinery.yaml</code> under <code>consent.categories</code>{' '}
        (to a purpose, a list of purposes, or <code>[]</code> for none), then restart the server:
      </p>
      <pre className="code-block">{`consent:\n  categories:\n    ${yamlKey(example)}: analytics`}</pre>
      <div className="table-wrap">
        <table className="table" data-testid="unknown-categories">
          <thead>
            <tr>
              <th scope="col">Category</th>
              <th scope="col" className="num">
                Messages
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr
                key={item.category}
                data-testid="unknown-category"
                data-category={item.category}
                data-count={item.count}
              >
                <td>
                  <code>{item.category}</code>
                </td>
                <td className="num">{formatCount(item.count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** A YAML mapping key for the name: plain when it is safe, quoted otherwise. */
function yamlKey(name: string): string {
  return /^[A-Za-z0-9_-]+$/.test(name) ? name : JSON.stringify(name);
}
