import t from 'tap';
import { displayNameViolation } from '../../src/domain/display-name.ts';

const refused = (codePoint: string) =>
  `must not contain ${codePoint} (control, format and other invisible characters are not allowed)`;
const misplacedJoiner = (codePoint: string) => `must not contain ${codePoint} except between two visible characters`;
const BLANK = 'must contain a visible character';

t.test('display names: no bidi overrides, controls or invisible characters; what real names need stays', async (t) => {
  const table: Array<[name: string, violation: string | null, why: string]> = [
    ['Ada Lovelace', null, 'plain'],
    ['José Müller-Łukasiewicz', null, 'Latin with diacritics'],
    ['李小龙', null, 'CJK'],
    ['محمد', null, 'Arabic (right-to-left without any control character)'],
    ['אדה', null, 'Hebrew'],
    ['e\u0301', null, 'a combining mark'],
    ['می\u200Cخواهم', null, 'ZWNJ inside a Persian word'],
    ['\u{1F469}\u200D\u{1F4BB}', null, 'an emoji ZWJ sequence'],
    ['\u{1F3F3}\uFE0F\u200D\u{1F308}', null, 'ZWJ after a variation selector'],
    ['\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}', null, 'a subdivision flag (tag sequence)'],
    ['\u2764\uFE0F', null, 'an emoji with a variation selector'],
    ['\u{F0000}', null, 'private use'],
    ['Ada\u3000L', null, 'an ideographic space'],

    ['\u202Enimda', refused('U+202E'), 'RIGHT-TO-LEFT OVERRIDE'],
    ['a\u202Ab', refused('U+202A'), 'LEFT-TO-RIGHT EMBEDDING'],
    ['a\u202Cb', refused('U+202C'), 'POP DIRECTIONAL FORMATTING'],
    ['a\u2066b', refused('U+2066'), 'LEFT-TO-RIGHT ISOLATE'],
    ['a\u2069', refused('U+2069'), 'POP DIRECTIONAL ISOLATE'],
    ['a\u200Fb', refused('U+200F'), 'RIGHT-TO-LEFT MARK'],
    ['a\u061Cb', refused('U+061C'), 'ARABIC LETTER MARK'],
    ['a\u200Bb', refused('U+200B'), 'ZERO WIDTH SPACE'],
    ['a\u2060b', refused('U+2060'), 'WORD JOINER'],
    ['\uFEFFAda', refused('U+FEFF'), 'BOM / ZERO WIDTH NO-BREAK SPACE'],
    ['Ad\u00ADa', refused('U+00AD'), 'SOFT HYPHEN'],
    ['a\u2062b', refused('U+2062'), 'INVISIBLE TIMES'],
    ['Ada\tL', refused('U+0009'), 'TAB'],
    ['Ada\nAdmin', refused('U+000A'), 'LINE FEED'],
    ['Ada\u007F', refused('U+007F'), 'DELETE'],
    ['Ada\u0085', refused('U+0085'), 'NEXT LINE (C1)'],
    ['Ada\u2028x', refused('U+2028'), 'LINE SEPARATOR'],
    ['Ada\u2029x', refused('U+2029'), 'PARAGRAPH SEPARATOR'],
    ['\u3164', refused('U+3164'), 'HANGUL FILLER'],
    ['a\uFFA0b', refused('U+FFA0'), 'HALFWIDTH HANGUL FILLER'],
    ['a\u{E0041}', refused('U+E0041'), 'a tag outside a flag'],
    ['\u{1F3F4}\u{E0067}\u{E0062}', refused('U+E0067'), 'a flag sequence without CANCEL TAG'],
    ['\u{1F3F4}\u{E007F}', refused('U+E007F'), 'CANCEL TAG without tags'],

    ['\u200DAda', misplacedJoiner('U+200D'), 'a leading ZWJ'],
    ['Ada\u200C', misplacedJoiner('U+200C'), 'a trailing ZWNJ'],
    ['a\u200D\u200Db', misplacedJoiner('U+200D'), 'two joiners in a row'],
    ['a \u200Db', misplacedJoiner('U+200D'), 'a joiner next to a space'],
    ['\u200D', misplacedJoiner('U+200D'), 'a lone joiner'],

    ['   ', BLANK, 'only spaces'],
    ['\u00A0\u2003', BLANK, 'only no-break and em spaces'],
    ['\u0301\uFE0F', BLANK, 'only marks'],
    ['\u2800\u2800', BLANK, 'only blank Braille patterns'],
  ];
  for (const [name, violation, why] of table) t.equal(displayNameViolation(name), violation, why);
});
