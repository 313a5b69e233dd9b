import { isSnowflake } from './snowflake.ts';

/**
 * Opaque keyset-pagination cursors: base64url JSON of the last row's sort key, versioned so the
 * format can change without misreading old cursors. Decoding failures are a caller's 400.
 */
export function encodeCursor(key: Record<string, string>): string {
  return Buffer.from(JSON.stringify({ v: 1, ...key })).toString('base64url');
}

export function decodeCursor<K extends string>(cursor: string, fields: readonly K[]): Record<K, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as { v?: unknown }).v !== 1) return undefined;
  const result = {} as Record<K, string>;
  for (const field of fields) {
    const value = (parsed as Record<string, unknown>)[field];
    // Every key field is an id: one out of the bigint range would fail the query (a 500).
    if (!isSnowflake(value)) return undefined;
    result[field] = value;
  }
  return result;
}

/**
 * Keyset pages are read one row past the page: the extra row only says that a next page exists,
 * without a count query. Repositories fetch `pageFetchSize(limit)` rows; services cut them with
 * `cutPage` (pages that report `has_more`) or `cursorPage` (pages that hand out `next_cursor`).
 */
export function pageFetchSize(limit: number): number {
  return limit + 1;
}

/** The first `limit` rows of a fetch of pageFetchSize(limit), and whether more follow. */
export function cutPage<Row>(rows: readonly Row[], limit: number): { rows: Row[]; hasMore: boolean } {
  return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
}

/**
 * A cursor page: the first `limit` rows, and when more follow, the cursor of the last row's sort
 * key (`keyOf`) from which the next page starts; null on the last page.
 */
export function cursorPage<Row>(
  rows: readonly Row[],
  limit: number,
  keyOf: (row: Row) => Record<string, string>,
): { rows: Row[]; next_cursor: string | null } {
  const page = cutPage(rows, limit);
  const last = page.rows.at(-1);
  return { rows: page.rows, next_cursor: page.hasMore && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
