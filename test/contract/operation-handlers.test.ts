import t from 'tap';
import { operations } from '../../generated/operations.ts';
import { build } from '../helpers/build.ts';

// fastify-openapi-glue turns a missing handler into a 500 at run time: catch it here instead.
t.test('every operationId in openapi.yaml has a handler and a route', async (t) => {
  const { app } = await build(t);
  const handlers = new Set(app.operationHandlerNames);
  for (const operation of operations) {
    t.ok(handlers.has(operation.operationId), `${operation.operationId} has a handler`);
    const url = operation.path.replace(/\{(\w+)\}/g, ':$1');
    t.ok(app.hasRoute({ method: operation.method as 'GET', url }), `${operation.method} ${operation.path} is routed`);
  }
  const documented = new Set(operations.map((operation) => operation.operationId));
  for (const name of handlers) t.ok(documented.has(name), `handler ${name} is documented in openapi.yaml`);
});
