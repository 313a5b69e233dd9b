import t from 'tap';
import { accessClaimsProblem } from '../../src/domain/access-claims.ts';

t.test('an access token payload needs sub, sid, iat and exp, well typed', async (t) => {
  const good = { sub: '249774671665299458', sid: '249774671665299459', iat: 1_800_000_000, exp: 1_800_000_900 };
  const without = (key: keyof typeof good) => {
    const { [key]: _dropped, ...rest } = good;
    return rest;
  };
  const table: Array<[name: string, payload: unknown, problem: string | null]> = [
    ['all four', good, null],
    ['extra claims are fine', { ...good, name: 'ada', email: 'a@example.com', role: 'client' }, null],
    ['fractional NumericDate', { ...good, iat: 1_800_000_000.5 }, null],
    ['largest bigint id', { ...good, sid: '9223372036854775807' }, null],
    ['no sub', without('sub'), 'sub is missing'],
    ['no sid', without('sid'), 'sid is missing'],
    ['no iat', without('iat'), 'iat is missing'],
    ['no exp', without('exp'), 'exp is missing'],
    ['numeric sub', { ...good, sub: 249774671665299458 }, 'sub is not an id'],
    ['empty sid', { ...good, sid: '' }, 'sid is not an id'],
    ['sid with a sign', { ...good, sid: '-1' }, 'sid is not an id'],
    ['sid with a leading zero', { ...good, sid: '01' }, 'sid is not an id'],
    ['sid above bigint', { ...good, sid: '9223372036854775808' }, 'sid is not an id'],
    ['sid of 20 digits', { ...good, sid: '99999999999999999999' }, 'sid is not an id'],
    ['string exp', { ...good, exp: '1800000900' }, 'exp is not a NumericDate'],
    ['null exp', { ...good, exp: null }, 'exp is not a NumericDate'],
    ['negative iat', { ...good, iat: -1 }, 'iat is not a NumericDate'],
    ['exp before iat', { ...good, exp: good.iat - 1 }, 'exp is not after iat'],
    ['exp equal to iat', { ...good, exp: good.iat }, 'exp is not after iat'],
    ['not an object', 'sub', 'the payload is not an object'],
    ['an array', [good], 'the payload is not an object'],
    ['null', null, 'the payload is not an object'],
  ];
  for (const [name, payload, problem] of table) t.equal(accessClaimsProblem(payload), problem, name);
});
