import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { defaultBudgets, frameBudgets, operationBudgets } from '../../src/domain/rate-limit-budgets.ts';
import { projectRoot } from '../helpers/accounts.ts';

// The budget table and openapi.yaml agree: the operations that spend a budget, and only they,
// document 429 and X-RateLimit-* on every success; every write spends one.
interface Operation {
  operationId: string;
  responses: Record<string, { $ref?: string; headers?: Record<string, unknown> }>;
}
const spec = JSON.parse(readFileSync(path.join(projectRoot, 'generated/openapi.bundled.json'), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, { headers?: Record<string, unknown> }> };
};
const resolve = (response: Operation['responses'][string]) =>
  response.$ref ? spec.components.responses[response.$ref.split('/').pop()!]! : response;

t.test('429 and X-RateLimit-* are documented on exactly the operations of the budget table', async (t) => {
  const seen = new Set<string>();
  for (const [url, item] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!operation?.operationId) continue;
      const limited = Object.hasOwn(operationBudgets, operation.operationId);
      if (limited) seen.add(operation.operationId);
      const label = `${method.toUpperCase()} ${url} (${operation.operationId})`;
      if (method !== 'get') t.ok(limited, `${label}: a write spends a budget`);
      t.equal('429' in operation.responses, limited, `${label}: 429 ${limited ? 'documented' : 'not documented'}`);
      if (limited) t.equal(resolve(operation.responses['429']!), spec.components.responses.TooManyRequests, `${label}: 429 is TooManyRequests`);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!status.startsWith('2')) continue;
        const headers = Object.keys(resolve(response).headers ?? {}).sort();
        t.same(headers, limited ? ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'] : [], `${label} ${status}: headers`);
      }
    }
  }
  t.same([...Object.keys(operationBudgets)].filter((name) => !seen.has(name)), [], 'every operation of the table exists');
});

t.test('asyncapi.yaml: the rate-limited frames exist and the error frame carries retry_after_ms', async (t) => {
  const asyncapi = JSON.parse(readFileSync(path.join(projectRoot, 'generated/asyncapi.bundled.json'), 'utf8')) as {
    components: { messages: Record<string, { payload: { properties: Record<string, unknown> } }> };
  };
  for (const frame of Object.keys(frameBudgets)) t.ok(asyncapi.components.messages[frame], `${frame} is a frame`);
  t.ok(asyncapi.components.messages.error?.payload.properties.retry_after_ms, 'error.retry_after_ms');
});

t.test("the README's budget table shows every budget with its default", async (t) => {
  const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
  for (const [name, budget] of Object.entries(defaultBudgets)) {
    const row = new RegExp(`^\\| \`${name}\` \\| ${budget.limit} / ${budget.windowMs / 1000} s \\|`, 'm');
    t.match(readme, row, `${name}: ${budget.limit} / ${budget.windowMs / 1000} s`);
  }
});
