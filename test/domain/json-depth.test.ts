import t from 'tap';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../src/domain/json-depth.ts';

const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

const cases: Array<[name: string, text: string, max: number, exceeds: boolean]> = [
  ['a scalar', '42', 1, false],
  ['an empty object is one level', '{}', 1, false],
  ['two levels against a limit of one', '{"a":[]}', 1, true],
  ['siblings do not add up', '[[],[],{},{"a":1},[2]]', 2, false],
  ['exactly at the limit', nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH, false],
  ['one over the limit', nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH, true],
  ['brackets inside strings do not count', `{"a":"${'['.repeat(100)}"}`, 1, false],
  ['an escaped quote does not end the string', `{"a":"\\"${'['.repeat(100)}"}`, 1, false],
  ['an escaped backslash before the closing quote', `{"a":"\\\\","b":${nested(3)}}`, 3, true],
  ['three backslashes escape the quote', `{"a":"\\\\\\"[[[[","b":1}`, 1, false],
  ['four backslashes do not', `{"a":"\\\\\\\\"${nested(2)}}`, 2, true],
  ['an unterminated string is left to the parser', `{"a":"${'['.repeat(100)}`, 1, false],
  ['keys are strings too', `{"${'{'.repeat(50)}":1}`, 1, false],
  ['unclosed deep text (not JSON) is still caught', '['.repeat(5_000), MAX_JSON_DEPTH, true],
  ['the default limit is MAX_JSON_DEPTH', nested(MAX_JSON_DEPTH), Number.NaN, false],
];

for (const [name, text, max, exceeds] of cases) {
  t.equal(Number.isNaN(max) ? exceedsJsonDepth(text) : exceedsJsonDepth(text, max), exceeds, name);
}

t.equal(MAX_JSON_DEPTH, 32, 'the documented number (openapi.yaml, asyncapi.yaml)');
t.equal(exceedsJsonDepth(nested(MAX_JSON_DEPTH + 1)), true, 'the default limit refuses one level more');
