/** A column value as text, or null for SQL NULL (either engine's driver gives null or undefined for it). */
export function textOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}
