/**
 * How deep JSON input (REST bodies and gateway frames) may nest objects and arrays. No request
 * of the contract needs more than a handful of levels; the limit exists because later steps
 * (validation, the storable-text walk, logging) recurse or allocate per level, and text nested
 * thousands of levels deep would otherwise overflow the stack (a 500). openapi.yaml and
 * asyncapi.yaml state this number.
 */
export const MAX_JSON_DEPTH = 32;

export const JSON_DEPTH_MESSAGE = `must not nest objects and arrays more than ${MAX_JSON_DEPTH} levels deep`;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * True when JSON text opens more than `maxDepth` objects/arrays inside one another. A single
 * linear pass over the raw text before it is parsed (no recursion, no allocation); brackets inside
 * strings don't count. Text that is not JSON at all is left for the parser to refuse. Pure.
 */
export function exceedsJsonDepth(text: string, maxDepth: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      // Skip the string in one native search: to the next quote not escaped by an odd run of
      // backslashes (each run is counted once, so this stays linear).
      let end = index;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end === -1) return false; // unterminated: the parser refuses it
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes += 1;
        if (backslashes % 2 === 0) break;
      }
      index = end;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return false;
}
