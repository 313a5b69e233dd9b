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
