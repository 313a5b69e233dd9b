// Two instances sharing only PostgreSQL (the bus of WORKERS>1 without Redis): rate limits are
// counted across them.
import t from 'tap';
import { startInstances, wrongLoginsAcross } from '../helpers/instances.ts';

t.test('two instances on PostgreSQL only: a login budget is spent across instances', async (t) => {
  const { instances } = await startInstances(t, 2, { EVENT_BUS: 'postgres', RATE_LIMITS: 'login_account=3/60s' });
  const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
  t.same(await wrongLoginsAcross(a, b, 4), [401, 401, 401, 429], 'the fourth attempt is refused, whichever instance counts it');
});
