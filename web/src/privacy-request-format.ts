import { parseTime } from './format.js';

const DAY_MS = 86_400_000;

/** How a request's deadline reads now: "due in 29 days", "due today", "3 days overdue". */
export function deadlineText(dueAt: string, overdue: boolean, now: number): string {
  const due = parseTime(dueAt);
  if (Number.isNaN(due)) return overdue ? 'overdue' : '';
  const days = Math.floor(Math.abs(due - now) / DAY_MS);
  if (overdue || due < now)
    return days === 0 ? 'less than a day overdue' : `${days} ${days === 1 ? 'day' : 'days'} overdue`;
  if (days === 0) return 'due today';
  return `due in ${days} ${days === 1 ? 'day' : 'days'}`;
}

/** Numbers in a request's result, flattened to `name: count` (nested objects as `outer.inner`). */
export function resultCounts(result: Record<string, unknown> | null): { name: string; count: number }[] {
  const counts: { name: string; count: number }[] = [];
  const walk = (node: unknown, path: string) => {
    if (typeof node === 'number') counts.push({ name: path, count: node });
    else if (node && typeof node === 'object' && !Array.isArray(node)) {
      for (const [key, child] of Object.entries(node)) walk(child, path ? `${path}.${key}` : key);
    }
  };
  walk(result, '');
  return counts;
}

/** A CSV part of an access bundle and how many rows it holds. */
export interface BundlePart {
  name: string;
  rows: number | undefined;
}

/**
 * The CSV parts a done access request offers, from its result: `parts` as the server writes it (part name to row
 * count), or as a plain list of names.
 */
export function bundleParts(result: Record<string, unknown> | null): BundlePart[] {
  const parts = result?.parts;
  if (Array.isArray(parts)) {
    return parts
      .filter((part): part is string => typeof part === 'string')
      .map((name) => ({ name, rows: undefined }));
  }
  if (parts && typeof parts === 'object') {
    return Object.entries(parts).map(([name, rows]) => ({
      name,
      rows: typeof rows === 'number' ? rows : undefined,
    }));
  }
  return [];
}
