import { decodeCursor } from '../domain/cursor.ts';
import { invalid } from '../errors.ts';

/** Decodes a `cursor` query parameter; a malformed one is the caller's 400 naming `cursor`. */
export function decodePageCursor<K extends string>(cursor: string | undefined, fields: readonly K[]): Record<K, string> | undefined {
  if (cursor === undefined) return undefined;
  const decoded = decodeCursor(cursor, fields);
  if (!decoded) throw invalid('/cursor', 'is not a valid cursor', 'query');
  return decoded;
}
