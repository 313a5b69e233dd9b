// Access tokens must carry exp, iat, sub and sid (issue 9, item 7): a correctly signed token for a
// live session that lacks one, or carries one of the wrong type, is refused on REST and the gateway.
import t from 'tap';
import { build, register } from '../helpers/build.ts';
import { decodeJwt, signJwt } from '../helpers/accounts.ts';
import { connect } from '../helpers/gateway-client.ts';

const ME = '/api/v1/users/@me';

t.test('tokens without exp, iat, sub or sid (or with ill-typed ones) are 401 on REST and close 4004 on the gateway', async (t) => {
  const { api, baseUrl } = await build(t);
  const account = await register(api);
  const { payload } = decodeJwt(account.token);
  const now = Math.floor(Date.now() / 1000);
  const live: Record<string, unknown> = { ...payload, iat: now, exp: now + 600 };
  const without = (key: string) => {
    const { [key]: _dropped, ...rest } = live;
    return signJwt(rest);
  };

  const control = signJwt(live);
  t.equal((await api('GET', ME, { token: control })).status, 200, 'control: all claims present works');

  const refused: Array<[string, string]> = [
    ['no exp (a token that would never expire)', without('exp')],
    ['no iat', without('iat')],
    ['no sub', without('sub')],
    ['no sid', without('sid')],
    ['exp as a string', signJwt({ ...live, exp: String(now + 600) })],
    ['sub as a number', signJwt({ ...live, sub: Number(live.sub) })],
    ['sid above the bigint range', signJwt({ ...live, sid: '9223372036854775808' })],
    ['sid of 20 digits', signJwt({ ...live, sid: '99999999999999999999' })],
  ];
  for (const [name, token] of refused) {
    const response = await api('GET', ME, { token });
    t.equal(response.status, 401, `REST: ${name}`);
    t.equal(response.body.code, 'unauthorized', `REST: ${name}`);

    const viaQuery = await connect(t, baseUrl, { token, name: `${name} (query)` });
    await viaQuery.next('hello');
    t.equal((await viaQuery.closedWith()).code, 4004, `gateway: ${name} closes 4004`);
    t.notOk(viaQuery.frames.some((frame) => frame.type === 'ready'), `gateway: ${name} never gets ready`);
  }
  t.equal((await api('GET', ME, { token: control })).status, 200, 'the session itself is untouched');
});
