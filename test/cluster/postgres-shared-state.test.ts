// Two instances sharing only PostgreSQL (the bus of WORKERS>1 without Redis): rate limits are
// counted across them.
import t from 'tap';
import { register } from '../helpers/build.ts';
import { startInstances } from '../helpers/instances.ts';

t.test('two instances on PostgreSQL only: a login budget is spent across instances', async (t) => {
  const { instances } = await startInstances(t, 2, { EVENT_BUS: 'postgres', RATE_LIMITS: 'login_account=3/60s' });
  const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
  const user = await register(a.api);
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const instance = attempt % 2 === 0 ? a : b;
    statuses.push((await instance.api('POST', '/api/v1/auth/login', { body: { login: user.user.username, password: 'wrong-password-1' } })).status);
  }
  t.same(statuses, [401, 401, 401, 429], 'the fourth attempt is refused, whichever instance counts it');
});
