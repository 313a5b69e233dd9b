/**
 * PostgreSQL `text` cannot hold U+0000: a string carrying one would fail deep inside a query
 * (a 500, or a whole group-commit batch retried). Inputs are checked for it up front instead,
 * so such a request is a 400 naming the field. Pure.
 */

/** The JSON pointer of the first string (or object key) in `value` that contains U+0000, or null. */
export function findNulCharacter(value: unknown, pointer = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? pointer : null;
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      const found = findNulCharacter(value[index], `${pointer}/${index}`);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, entry] of Object.entries(value)) {
    const at = `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (key.includes('\u0000')) return at;
    const found = findNulCharacter(entry, at);
    if (found !== null) return found;
  }
  return null;
}

export const NUL_CHARACTER_MESSAGE = 'must not contain the NUL character (U+0000)';
