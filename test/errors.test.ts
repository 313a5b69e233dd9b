import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import {
  bearerChallenge,
  gatewayErrorCode,
  invalid,
  problemBody,
  problemCodeForStatus,
  problemCodes,
  ProblemError,
  rejectedToken,
  type ProblemCode,
} from '../src/errors.ts';
import { projectRoot } from './helpers/accounts.ts';

const bundled = (name: string) => JSON.parse(readFileSync(path.join(projectRoot, 'generated', name), 'utf8'));
const problemEnum: string[] = bundled('openapi.bundled.json').components.schemas.Problem.properties.code.enum;
const gatewayEnum: string[] = bundled('asyncapi.bundled.json').components.schemas.ErrorCode.enum;
const codes = Object.keys(problemCodes) as ProblemCode[];

t.test('the one error table: every problem code has a status, a title and a gateway code of the contracts', async (t) => {
  t.same([...codes].sort(), [...problemEnum].sort(), 'the table holds exactly the codes of openapi.yaml Problem.code');
  for (const code of codes) {
    const { status, title } = problemCodes[code];
    t.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code}: status ${status} is an error status`);
    t.ok(title.length > 0, `${code}: has a title`);
    t.ok(gatewayEnum.includes(gatewayErrorCode(code)), `${code}: gateway code ${gatewayErrorCode(code)} is in asyncapi.yaml ErrorCode`);
    t.same(new ProblemError(code).status, status, `${code}: ProblemError takes its status from the table`);
    t.match(problemBody(code, 'detail'), { type: `https://parley.dev/problems/${code}`, title, status, code }, `${code}: problem body`);
  }
  for (const code of gatewayEnum) {
    t.equal(gatewayErrorCode(code as ProblemCode), code, `gateway code ${code} is also a problem code that maps to itself`);
  }
});

t.test('problemCodeForStatus: a framework status gets the generic code of that status', async (t) => {
  const table: Array<[status: number, code: ProblemCode | undefined]> = [
    [400, 'validation_failed'],
    [401, 'unauthorized'], // not invalid_credentials
    [403, 'forbidden'], // not account_inactive
    [404, 'not_found'],
    [405, 'method_not_allowed'],
    [409, 'conflict'],
    [413, 'payload_too_large'],
    [415, 'unsupported_media_type'],
    [429, 'rate_limited'],
    [500, 'internal_error'],
    [503, 'service_unavailable'],
    [418, undefined],
  ];
  for (const [status, code] of table) t.equal(problemCodeForStatus(status), code, String(status));
  for (const code of codes) t.ok(problemCodeForStatus(problemCodes[code].status), `${code}: its status maps to a code`);
});

t.test('field errors name their place; `in` defaults to the body', async (t) => {
  t.same(invalid('/content', 'must not be blank').errors, [{ in: 'body', field: '/content', message: 'must not be blank' }]);
  t.same(invalid('/cursor', 'is not a valid cursor', 'query').errors, [{ in: 'query', field: '/cursor', message: 'is not a valid cursor' }]);
  t.same(new ProblemError('conflict', 'taken', [{ field: '/email', message: 'is taken' }]).errors, [
    { in: 'body', field: '/email', message: 'is taken' },
  ]);
  t.equal(new ProblemError('not_found').errors, undefined);
});

t.test('RFC 6750 challenges: invalid_token only for a refused presented token', async (t) => {
  t.equal(bearerChallenge(false), 'Bearer realm="parley"');
  t.equal(bearerChallenge(true), 'Bearer realm="parley", error="invalid_token"');
  const refused = new ProblemError('unauthorized', 'The session has ended.');
  t.throws(() => rejectedToken(refused), refused);
  t.equal(refused.tokenRejected, true, 'a 401 from checking a presented token is marked');
  const inactive = new ProblemError('account_inactive');
  t.throws(() => rejectedToken(inactive), inactive);
  t.equal(inactive.tokenRejected, false, 'other problems pass through unmarked');
  const crash = new Error('database down');
  t.throws(() => rejectedToken(crash), crash, 'non-problems pass through');
});
