import type { ExpiryCutoffs } from './store.js';

/** How an engine writes a text literal and "received before this time" in its SQL. */
export interface ExpiryDialect {
  text(value: string): string;
  receivedBefore(cutoff: Date): string;
}

/**
 * The DELETE conditions retention runs on events, one per rule that has a cutoff, written with the
 * engine's literals. Each event falls under its most specific rule (its track event name, else its call type,
 * else the default), so a longer rule for some events is never cut short by a broader one.
 */
export function eventExpiryConditions(cutoffs: ExpiryCutoffs, dialect: ExpiryDialect): string[] {
  const rules = cutoffs.eventRules ?? [];
  const named = rules.filter((rule) => rule.event !== undefined).map((rule) => rule.event as string);
  const typed = rules.filter((rule) => rule.event === undefined).map((rule) => rule.type);
  const list = (values: readonly string[]) => values.map((value) => dialect.text(value)).join(', ');
  const notNamed =
    named.length > 0 ? `NOT (type = 'track' AND coalesce(event, '') IN (${list(named)}))` : '1 = 1';
  const conditions: string[] = [];
  for (const rule of rules) {
    if (!rule.before) continue;
    if (rule.event !== undefined) {
      conditions.push(
        // coalesce: a NULL in a ClickHouse 18.16 mutation's condition can delete the row.
        `type = 'track' AND coalesce(event, '') = ${dialect.text(rule.event)} AND ${dialect.receivedBefore(rule.before)}`,
      );
    } else {
      const exclude = rule.type === 'track' ? ` AND ${notNamed}` : '';
      conditions.push(
        `type = ${dialect.text(rule.type)}${exclude} AND ${dialect.receivedBefore(rule.before)}`,
      );
    }
  }
  if (cutoffs.eventsBefore) {
    const notTyped = typed.length > 0 ? `type NOT IN (${list(typed)})` : '1 = 1';
    conditions.push(`${notTyped} AND ${notNamed} AND ${dialect.receivedBefore(cutoffs.eventsBefore)}`);
  }
  return conditions;
}
