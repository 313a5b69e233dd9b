import t from 'tap';
import { compileOncePerKey } from '../../src/domain/compile-once.ts';

t.test('one compiled function per key for the process; inputs that are not plain JSON compiled every time', async (t) => {
  const cases: { name: string; inputs: unknown[]; compilations: number; kept: number }[] = [
    { name: 'the same schema twice', inputs: [{ type: 'string' }, { type: 'string' }], compilations: 1, kept: 1 },
    { name: 'two schemas', inputs: [{ type: 'string' }, { type: 'integer' }], compilations: 2, kept: 2 },
    { name: 'a schema with a BigInt (not JSON)', inputs: [{ max: 1n }, { max: 1n }], compilations: 2, kept: 0 },
  ];
  for (const { name, inputs, compilations, kept } of cases) {
    const cache = new Map<string, () => unknown>();
    let compiled = 0;
    const get = compileOncePerKey(cache, (input: unknown) => JSON.stringify(input), (input: unknown) => {
      compiled += 1;
      return () => input;
    });
    const results = inputs.map(get);
    t.equal(compiled, compilations, `${name}: compilations`);
    t.equal(cache.size, kept, `${name}: kept`);
    t.same(results.map((fn) => fn()), inputs, `${name}: each input gets its own compiled function`);
  }
});
