import t from 'tap';
import { isDatabaseUnavailable, isRolledBackByServer, sqlStateOf } from '../../src/db/database-errors.ts';

const pgError = (code: string) => Object.assign(new Error('from the server'), { code });
const wrapped = (cause: unknown) => Object.assign(new Error('wrapped'), { cause });

const cases: Array<[name: string, error: unknown, state: string | null, rolledBack: boolean]> = [
  ['a check violation', pgError('23514'), '23514', true],
  ['a unique violation wrapped by Slonik', wrapped(pgError('23505')), '23505', true],
  ['an invalid byte sequence, wrapped twice', wrapped(wrapped(pgError('22021'))), '22021', true],
  ['a deadlock (rolled back by the server)', pgError('40P01'), '40P01', true],
  ['a statement timeout', pgError('57014'), '57014', true],
  ['admin shutdown: the backend is gone', pgError('57P01'), '57P01', false],
  ['a connection failure', pgError('08006'), '08006', false],
  ['a socket error (no SQLSTATE)', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), null, false],
  ['a plain error', new Error('boom'), null, false],
  ['not an error at all', 'boom', null, false],
];

for (const [name, error, state, rolledBack] of cases) {
  t.equal(sqlStateOf(error), state, `${name}: SQLSTATE`);
  t.equal(isRolledBackByServer(error), rolledBack, `${name}: rolled back`);
}

// Which failures mean "the database is away, try again later" (503 + Retry-After; gateway error
// frame database_unavailable, close 1013 while authenticating). The shapes are the ones seen when
// an embedded cluster was stopped under a Slonik pool (test/cluster/postgres-restart.test.ts).
const errno = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
const unavailable: Array<[name: string, error: unknown, expected: boolean]> = [
  ['refused: Slonik ConnectionError wrapping ECONNREFUSED', wrapped(errno('ECONNREFUSED')), true],
  ['a reset socket', errno('ECONNRESET'), true],
  ['a host not found', wrapped(errno('ENOTFOUND')), true],
  ['admin shutdown (BackendTerminatedError wrapping 57P01)', wrapped(pgError('57P01')), true],
  ['crash shutdown', pgError('57P02'), true],
  ['cannot connect now (starting up or shutting down)', pgError('57P03'), true],
  ['a connection exception (class 08)', pgError('08006'), true],
  ['too many connections is not a lost database', pgError('53300'), false],
  ['pg: connection terminated unexpectedly', wrapped(new Error('Connection terminated unexpectedly')), true],
  ['pg-pool: connect timeout', new Error('timeout exceeded when trying to connect'), true],
  ['a unique violation', wrapped(pgError('23505')), false],
  ['a statement timeout (57014) is not unavailability', pgError('57014'), false],
  ['a bug', new TypeError('x is undefined'), false],
  ['an errno of another kind', errno('ENOENT'), false],
  ['not an error at all', 'ECONNREFUSED', false],
];
for (const [name, error, expected] of unavailable) t.equal(isDatabaseUnavailable(error), expected, `unavailable? ${name}`);
