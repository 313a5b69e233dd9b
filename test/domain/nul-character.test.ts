import t from 'tap';
import { findNulCharacter } from '../../src/domain/nul-character.ts';

const cases: Array<[name: string, value: unknown, pointer: string | null]> = [
  ['a clean object', { content: 'hello', nested: [{ a: 'b' }], n: 1, flag: true, none: null }, null],
  ['a top-level string', 'a\u0000b', ''],
  ['a field', { content: 'a\u0000b' }, '/content'],
  ['an array element', { ids: ['1', '2\u0000'] }, '/ids/1'],
  ['a nested field', { a: { b: [{ c: '\u0000' }] } }, '/a/b/0/c'],
  ['a key (escaped as a JSON pointer)', { 'x/y': { 'k\u0000': 1 } }, '/x~1y/k\u0000'],
  ['the first of several', { a: 'ok', b: '\u0000', c: '\u0000' }, '/b'],
  ['the escaped text \\u0000 is not a NUL', { content: '\\u0000' }, null],
  ['numbers and booleans', [0, false, 1.5], null],
];

for (const [name, value, pointer] of cases) {
  t.equal(findNulCharacter(value), pointer, name);
}
