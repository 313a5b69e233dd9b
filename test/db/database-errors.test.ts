import t from 'tap';
import { isRolledBackByServer, sqlStateOf } from '../../src/db/database-errors.ts';

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
