// Reading SQLite rows into typed records (both drivers answer plain objects).
export type Row = Record<string, unknown>;

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
export const json = (v: unknown): unknown => (typeof v === 'string' ? (JSON.parse(v) as unknown) : undefined);
export const jsonOrNull = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

/** A LIKE pattern for a case-insensitive substring search (with `ESCAPE '\\'`). */
export const likePattern = (text: string): string =>
  `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Copies the defined values of `optional` onto `record` (optional fields stay absent, not undefined). */
export function withOptional<T extends object>(record: T, optional: Record<string, unknown>): T {
  for (const [k, v] of Object.entries(optional)) {
    if (v !== undefined) (record as Record<string, unknown>)[k] = v;
  }
  return record;
}
