/**
 * Whether a request carries the Global Privacy Control signal: a `Sec-GPC` header whose value is `1`.
 *
 * The GPC spec defines `1` as the only value; a browser without the preference sends no header at all, which
 * means "no decision", never a grant. So anything but `1` (after trimming whitespace) is read as no signal.
 * Header names are matched without regard to case. A header sent twice is not the spec's grammar (HTTP would
 * join it into `1, 1`) and is read as no signal too; a conforming browser sends it once.
 *
 * @example gpcFromHeaders({ 'sec-gpc': '1' }) // true
 */
export function gpcFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  const values: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'sec-gpc' || value === undefined) continue;
    if (Array.isArray(value)) values.push(...value);
    else values.push(value);
  }
  return values.length === 1 && values[0]!.trim() === '1';
}
