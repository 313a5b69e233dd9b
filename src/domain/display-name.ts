/**
 * What a display name may contain. Names are shown to other users next to their messages, so a
 * name must not be able to hide itself or rearrange the text around it. Refused:
 * - control characters (Cc: NUL..U+001F, DEL, C1), line and paragraph separators (Zl, Zp): a name
 *   is one line;
 * - format characters (Cf): bidirectional embeddings, overrides and isolates (U+202A–U+202E,
 *   U+2066–U+2069), LRM/RLM/ALM, zero-width space, word joiner, BOM, soft hyphen, invisible math
 *   operators, interlinear annotations, ... — invisible, and the bidi ones can make a name
 *   display as someone else's ("\u202Enimda" shows as "admin"). Two kinds are needed by real
 *   names and emoji, and are allowed only where they do that job:
 *   - ZERO WIDTH NON-JOINER / JOINER (U+200C, U+200D) between two visible characters (Persian,
 *     Indic scripts; emoji ZWJ sequences such as 👩‍💻);
 *   - tag characters (U+E0020–U+E007E then U+E007F) right after U+1F3F4 WAVING BLACK FLAG (the
 *     subdivision flags 🏴󠁧󠁢󠁳󠁣󠁴󠁿);
 * - the Hangul fillers (U+115F, U+1160, U+3164, U+FFA0): letters that render as nothing;
 * - a name with nothing visible: only white space, combining marks (variation selectors are
 *   marks) or the blank Braille pattern (U+2800).
 * Everything else, including private-use and not yet assigned code points, is allowed.
 * Usernames need none of this: their pattern (openapi.yaml `Username`) is ASCII letters, digits, `_.-`.
 * Pure.
 */

const ZWNJ = 0x200c;
const ZWJ = 0x200d;
const BLACK_FLAG = 0x1f3f4;
const CANCEL_TAG = 0xe007f;
const HANGUL_FILLERS = new Set([0x115f, 0x1160, 0x3164, 0xffa0]);

const CONTROL_OR_FORMAT = /^[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]$/u;
const WHITE_SPACE = /^\p{White_Space}$/u;
const NOT_VISIBLE = /^[\p{White_Space}\p{M}\u2800]$/u;

const isJoiner = (codePoint: number) => codePoint === ZWNJ || codePoint === ZWJ;
/** U+E0020–U+E007E and CANCEL TAG. */
const isTagCharacter = (codePoint: number) => codePoint >= 0xe0020 && codePoint <= CANCEL_TAG;
const hex = (codePoint: number) => `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;

/** Refused wherever it stands (joiners and tags are judged by their neighbours instead). */
function refusedAnywhere(codePoint: number): boolean {
  if (isJoiner(codePoint) || isTagCharacter(codePoint)) return false;
  return CONTROL_OR_FORMAT.test(String.fromCodePoint(codePoint)) || HANGUL_FILLERS.has(codePoint);
}

/** A character a joiner may stand next to: a visible one, not white space, not another joiner. */
function joinable(codePoint: number | undefined): boolean {
  if (codePoint === undefined || isJoiner(codePoint) || isTagCharacter(codePoint)) return false;
  return !refusedAnywhere(codePoint) && !WHITE_SPACE.test(String.fromCodePoint(codePoint));
}

/** Why `name` is not an acceptable display name (a message for `errors[]`), or null when it is. */
export function displayNameViolation(name: string): string | null {
  const codePoints = Array.from(name, (char) => char.codePointAt(0)!);
  for (let index = 0; index < codePoints.length; index += 1) {
    const codePoint = codePoints[index]!;
    if (codePoint === BLACK_FLAG) {
      // A subdivision flag: the black flag, one or more tags, CANCEL TAG.
      let end = index + 1;
      while (isTagCharacter(codePoints[end] ?? 0) && codePoints[end] !== CANCEL_TAG) end += 1;
      if (end > index + 1 && codePoints[end] === CANCEL_TAG) index = end;
      continue;
    }
    if (isJoiner(codePoint)) {
      if (joinable(codePoints[index - 1]) && joinable(codePoints[index + 1])) continue;
      return `must not contain ${hex(codePoint)} except between two visible characters`;
    }
    if (isTagCharacter(codePoint) || refusedAnywhere(codePoint)) {
      return `must not contain ${hex(codePoint)} (control, format and other invisible characters are not allowed)`;
    }
  }
  if (codePoints.every((codePoint) => NOT_VISIBLE.test(String.fromCodePoint(codePoint)))) {
    return 'must contain a visible character';
  }
  return null;
}
