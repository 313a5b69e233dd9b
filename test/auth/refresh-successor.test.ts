import t from 'tap';
import { openSuccessor, sealSuccessor } from '../../src/auth/refresh-successor.ts';

t.test('the successor opens only with the token it was sealed under', async (t) => {
  const rotated = 'rotated-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  const successor = 'successor-token-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
  const sealed = sealSuccessor(rotated, successor);
  t.equal(openSuccessor(rotated, sealed), successor, 'the rotated token opens it');
  t.notOk(sealed.includes(Buffer.from(successor)), 'the sealed value does not contain the successor');
  t.not(sealSuccessor(rotated, successor).toString('hex'), sealed.toString('hex'), 'a fresh IV each time');
  t.equal(openSuccessor('another-token', sealed), null, 'another token cannot open it');
  const altered = Buffer.from(sealed);
  altered[14] = altered[14]! ^ 1;
  t.equal(openSuccessor(rotated, altered), null, 'an altered value does not open');
  t.equal(openSuccessor(rotated, sealed.subarray(0, 20)), null, 'a truncated value does not open');
});
