import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { problemCodes } from '../../src/errors.ts';
import { projectRoot } from '../helpers/accounts.ts';

// openapi.yaml documents 503 (ServiceUnavailable, with Retry-After) on exactly the operations that
// can reach the database, since any of them answers 503 database_unavailable while it is away
// (test/cluster/postgres-restart.test.ts sees it happen). An operation reaches the database when it
// authenticates a user (bearer token or cookie: the session is checked there) or, for public ones,
// when it is listed below.
const PUBLIC_DATABASE_OPERATIONS = new Set(['getReadiness', 'registerUser', 'loginUser', 'refreshToken', 'startOAuthLogin', 'completeOAuthLogin']);

interface Operation {
  operationId: string;
  security?: Array<Record<string, unknown>>;
  responses: Record<string, { $ref?: string }>;
}
const spec = JSON.parse(readFileSync(path.join(projectRoot, 'generated/openapi.bundled.json'), 'utf8')) as {
  security: Array<Record<string, unknown>>;
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, { headers?: Record<string, { $ref?: string }> }>; headers: Record<string, { required?: boolean }> };
};

t.test('503 ServiceUnavailable is documented on exactly the operations that can reach the database', async (t) => {
  const seen = new Set<string>();
  for (const [url, item] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!operation?.operationId) continue;
      const security = operation.security ?? spec.security;
      const authenticates = security.some((requirement) => 'bearerAuth' in requirement || 'cookieAuth' in requirement);
      const reaches = authenticates || PUBLIC_DATABASE_OPERATIONS.has(operation.operationId);
      if (PUBLIC_DATABASE_OPERATIONS.has(operation.operationId)) seen.add(operation.operationId);
      const label = `${method.toUpperCase()} ${url} (${operation.operationId})`;
      t.equal('503' in operation.responses, reaches, `${label}: 503 ${reaches ? 'documented' : 'not documented'}`);
      if (reaches) t.equal(operation.responses['503']?.$ref, '#/components/responses/ServiceUnavailable', `${label}: 503 is ServiceUnavailable`);
    }
  }
  t.same([...PUBLIC_DATABASE_OPERATIONS].filter((name) => !seen.has(name)), [], 'every listed operation exists');
});

t.test('ServiceUnavailable carries a required Retry-After, and the codes agree with src/errors.ts', async (t) => {
  const retryAfter = spec.components.responses.ServiceUnavailable?.headers?.['Retry-After']?.$ref;
  t.equal(retryAfter, '#/components/headers/RetryAfter');
  t.equal(spec.components.headers.RetryAfter?.required, true);
  t.equal(problemCodes.database_unavailable.status, 503);
  t.equal(problemCodes.database_unavailable.gateway, 'database_unavailable', 'the gateway says the same');
  const asyncapi = JSON.parse(readFileSync(path.join(projectRoot, 'generated/asyncapi.bundled.json'), 'utf8')) as {
    components: { schemas: Record<string, { enum?: string[] }> };
  };
  t.ok(asyncapi.components.schemas.ErrorCode?.enum?.includes('database_unavailable'), 'asyncapi ErrorCode lists database_unavailable');
});
