/** Stable colors per event type so every chart agrees. */
const KNOWN: Record<string, string> = {
  track: '#4f46e5',
  page: '#0891b2',
  screen: '#059669',
  identify: '#d97706',
  group: '#db2777',
  alias: '#7c3aed',
};

const EXTRA = ['#2563eb', '#65a30d', '#dc2626', '#0d9488', '#9333ea', '#ca8a04'];

export function colorForType(type: string): string {
  const known = KNOWN[type];
  if (known) return known;
  let hash = 0;
  for (const char of type) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return EXTRA[hash % EXTRA.length] ?? '#64748b';
}
