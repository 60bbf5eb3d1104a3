/** True for a JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The value as a JSON object, or null when it is anything else. */
export function asJsonObject(value: unknown): Record<string, unknown> | null {
  return isJsonObject(value) ? value : null;
}
