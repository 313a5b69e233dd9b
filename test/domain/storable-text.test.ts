import t from 'tap';
import {
  findUnstorableText,
  LONE_SURROGATE_MESSAGE,
  NUL_CHARACTER_MESSAGE,
  unstorableTextReason,
} from '../../src/domain/storable-text.ts';

const NUL = NUL_CHARACTER_MESSAGE;
const LONE = LONE_SURROGATE_MESSAGE;

const cases: Array<[name: string, value: unknown, found: { pointer: string; message: string } | null]> = [
  ['a clean object', { content: 'hello', nested: [{ a: 'b' }], n: 1, flag: true, none: null }, null],
  ['a top-level string', 'a\u0000b', { pointer: '', message: NUL }],
  ['a field', { content: 'a\u0000b' }, { pointer: '/content', message: NUL }],
  ['an array element', { ids: ['1', '2\u0000'] }, { pointer: '/ids/1', message: NUL }],
  ['a nested field', { a: { b: [{ c: '\u0000' }] } }, { pointer: '/a/b/0/c', message: NUL }],
  ['a key (escaped as a JSON pointer)', { 'x/y': { 'k\u0000': 1 } }, { pointer: '/x~1y/k\u0000', message: NUL }],
  ['the first of several', { a: 'ok', b: '\u0000', c: '\ud800' }, { pointer: '/b', message: NUL }],
  ['document order: a value before a later key', { a: { x: '\ud800' }, 'b\u0000': 1 }, { pointer: '/a/x', message: LONE }],
  ['document order: a key before its own value', { 'k\ud800': '\u0000' }, { pointer: '/k\ud800', message: LONE }],
  ['the escaped text \\u0000 is not a NUL', { content: '\\u0000' }, null],
  ['numbers and booleans', [0, false, 1.5], null],
  ['a lone high surrogate', { nonce: 'n-\ud800' }, { pointer: '/nonce', message: LONE }],
  ['a lone low surrogate', { content: ['ok', '\udc00x'] }, { pointer: '/content/1', message: LONE }],
  ['a reversed pair', { content: '\udc00\ud800' }, { pointer: '/content', message: LONE }],
  ['a high surrogate at the very end', { content: 'abc\ud83d' }, { pointer: '/content', message: LONE }],
  ['a well-formed pair (an emoji) is fine', { content: 'hi \ud83d\ude00', 'k\ud83d\ude00': 'v' }, null],
  ['a lone surrogate in a key', { '\ud800': 'v' }, { pointer: '/\ud800', message: LONE }],
  ['a prototype-looking key is just a key', JSON.parse('{"__proto__": {"x": "\\u0000"}}'), { pointer: '/__proto__/x', message: NUL }],
];

for (const [name, value, found] of cases) {
  t.same(findUnstorableText(value), found, name);
}

t.test('unstorableTextReason', async (t) => {
  t.equal(unstorableTextReason('plain'), null);
  t.equal(unstorableTextReason('a\u0000'), NUL);
  t.equal(unstorableTextReason('\ud800'), LONE);
  t.equal(unstorableTextReason('\ud800\u0000'), NUL, 'NUL is named first when both are there');
});

t.test('no recursion: input nested 100,000 levels deep is walked without overflowing the stack', async (t) => {
  let deep: unknown = 'x\u0000';
  for (let level = 0; level < 100_000; level += 1) deep = level % 2 ? [deep] : { k: deep };
  const found = findUnstorableText(deep);
  t.equal(found?.message, NUL);
  t.equal(found?.pointer.split('/').length, 100_001);
});
