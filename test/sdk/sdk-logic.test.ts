import t from 'tap';
import { backoffDelay, compareIds, MessageCursor } from '../../clients/typescript/src/index.ts';

t.test('backoffDelay: exponential, equal jitter, capped', async (t) => {
  const cases: Array<[attempt: number, random: number, options: Parameters<typeof backoffDelay>[2], expected: number]> = [
    [0, 0, {}, 125],
    [0, 0.999999, {}, 249],
    [1, 0, {}, 250],
    [3, 0.5, {}, 1500],
    [20, 0, {}, 15_000],
    [20, 1, {}, 30_000],
    [1_000, 0, {}, 15_000],
    [2, 0, { initialMs: 10, factor: 3, maxMs: 1_000 }, 45],
    [-1, 0, { initialMs: 10 }, 5],
    [0, 7, { initialMs: 10 }, 10],
  ];
  for (const [attempt, random, options, expected] of cases) {
    t.equal(backoffDelay(attempt, () => random, options), expected, `attempt ${attempt}, random ${random}, ${JSON.stringify(options)}`);
  }
});

t.test('compareIds: numeric order of decimal id strings', async (t) => {
  const cases: Array<[string, string, number]> = [
    ['1', '2', -1],
    ['10', '9', 1],
    ['123', '123', 0],
    ['9223372036854775807', '9223372036854775806', 1],
    ['0', '9223372036854775807', -1],
  ];
  for (const [a, b, expected] of cases) t.equal(compareIds(a, b), expected, `${a} vs ${b}`);
});

t.test('MessageCursor: advances only forward, per channel; a baseline never moves it back', async (t) => {
  const cursor = new MessageCursor();
  const steps: Array<[op: 'advance' | 'baseline', channel: string, id: string, result: boolean | undefined, last: string]> = [
    ['advance', 'a', '100', true, '100'],
    ['advance', 'a', '100', false, '100'],
    ['advance', 'a', '99', false, '100'],
    ['advance', 'a', '1000', true, '1000'],
    ['baseline', 'a', '500', undefined, '1000'],
    ['baseline', 'b', '0', undefined, '0'],
    ['advance', 'b', '1', true, '1'],
    ['baseline', 'b', '7', undefined, '7'],
    ['advance', 'b', '5', false, '7'],
  ];
  for (const [op, channel, id, result, last] of steps) {
    const got = op === 'advance' ? cursor.advance(channel, id) : cursor.baseline(channel, id);
    t.equal(got, result, `${op} ${channel} ${id}`);
    t.equal(cursor.last(channel), last, `then ${channel} is at ${last}`);
  }
  t.same(cursor.channels().sort(), ['a', 'b']);
  cursor.forget('a');
  t.equal(cursor.last('a'), undefined);
});

t.test('the library imports nothing but its own files and openapi-fetch (it runs in browsers)', async (t) => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const dir = new URL('../../clients/typescript/src/', import.meta.url);
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  const imports = new Set<string>();
  for (const file of files) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      if (!match[1]!.startsWith('./') && !match[1]!.startsWith('../')) imports.add(match[1]!);
    }
    t.notMatch(text, /\bprocess\.|\bBuffer\b|\brequire\(/, `${file} uses no Node globals`);
  }
  t.same([...imports], ['openapi-fetch'], 'the only package import');
});
