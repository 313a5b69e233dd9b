/**
 * Strings PostgreSQL can store exactly as sent. Two kinds of JavaScript string cannot:
 * - one containing U+0000: `text` cannot hold it, so the query fails deep inside (a 500, or a
 *   whole group-commit batch retried);
 * - one that is ill-formed UTF-16 (a lone surrogate such as "\ud800"): it has no UTF-8 form, and
 *   the driver silently replaces it with U+FFFD, so content is stored altered and two different
 *   nonces can become the same one.
 * Inputs are checked for both up front instead, so such a request is a 400 naming the field. Pure.
 */

export const NUL_CHARACTER_MESSAGE = 'must not contain the NUL character (U+0000)';
export const LONE_SURROGATE_MESSAGE = 'must be well-formed Unicode (no lone UTF-16 surrogates)';

/** Why `text` cannot be stored, or null when it can. */
export function unstorableTextReason(text: string): string | null {
  if (text.includes('\u0000')) return NUL_CHARACTER_MESSAGE;
  if (!text.isWellFormed()) return LONE_SURROGATE_MESSAGE;
  return null;
}

export interface UnstorableText {
  /** JSON pointer of the string (or of the object member whose key is the culprit). */
  pointer: string;
  message: string;
}

const escapePointer = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

/** A value still to visit; its pointer is only spelled out if it turns out to be the culprit. */
interface Pending {
  value: unknown;
  /** Array index or object key under `parent`; null for the root. */
  step: string | null;
  parent: Pending | null;
}

function pointerOf(pending: Pending): string {
  const steps: string[] = [];
  for (let at: Pending | null = pending; at && at.step !== null; at = at.parent) steps.push(escapePointer(at.step));
  return steps.length === 0 ? '' : `/${steps.reverse().join('/')}`;
}

/**
 * The first string or object key in `value` (in document order) that cannot be stored, or null.
 * Iterative, with an explicit stack: its depth is the input's, and input depth is the caller's
 * choice (bodies and frames are depth-limited before parsing, but this must not rely on that).
 * Runs on every request, so pointers are built only for the culprit.
 */
export function findUnstorableText(value: unknown): UnstorableText | null {
  const stack: Pending[] = [{ value, step: null, parent: null }];
  while (stack.length > 0) {
    const pending = stack.pop()!;
    const current = pending.value;
    if (typeof current === 'string') {
      const message = unstorableTextReason(current);
      if (message !== null) return { pointer: pointerOf(pending), message };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index -= 1) {
        const entry: unknown = current[index];
        // Numbers, booleans and null cannot be culprits: not worth a stack entry.
        if (entry !== null && (typeof entry === 'string' || typeof entry === 'object')) {
          stack.push({ value: entry, step: String(index), parent: pending });
        }
      }
      continue;
    }
    const keys = Object.keys(current);
    for (let index = keys.length - 1; index >= 0; index -= 1) {
      const key = keys[index]!;
      const entry: unknown = (current as Record<string, unknown>)[key];
      if (entry !== null && (typeof entry === 'string' || typeof entry === 'object')) {
        stack.push({ value: entry, step: key, parent: pending });
      }
      // The key itself (at the member's pointer), checked before the member's value.
      stack.push({ value: key, step: key, parent: pending });
    }
  }
  return null;
}
