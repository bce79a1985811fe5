/** A plain JSON object (not null, not an array): the one test every parser of outside JSON starts with. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
