import t from 'tap';
import { decideAccount, displayNameFrom, githubEmail, usernameBase, usernameCandidates } from '../../src/domain/oauth-account.ts';

t.test('which account a provider profile signs into', async (t) => {
  const owner = { userId: '7', hasProviderIdentity: false };
  const table: Array<[label: string, input: Parameters<typeof decideAccount>[0], expected: ReturnType<typeof decideAccount>]> = [
    ['a returning identity signs in, whatever its email', { identityUserId: '5', emailOwner: owner, email: 'a@x.io', emailVerified: false }, { kind: 'sign_in', userId: '5' }],
    ['a returning identity needs no email', { identityUserId: '5', emailOwner: null, email: null, emailVerified: false }, { kind: 'sign_in', userId: '5' }],
    ['a verified email of an account links', { identityUserId: null, emailOwner: owner, email: 'a@x.io', emailVerified: true }, { kind: 'link', userId: '7' }],
    ['an unverified email of an account never links', { identityUserId: null, emailOwner: owner, email: 'a@x.io', emailVerified: false }, { kind: 'refuse', reason: 'email_unverified' }],
    [
      'an account already linked to another identity of this provider is not linked again',
      { identityUserId: null, emailOwner: { userId: '7', hasProviderIdentity: true }, email: 'a@x.io', emailVerified: true },
      { kind: 'refuse', reason: 'provider_already_linked' },
    ],
    ['a new email creates an account, verified or not', { identityUserId: null, emailOwner: null, email: 'n@x.io', emailVerified: false }, { kind: 'create' }],
    ['no email, no account to create', { identityUserId: null, emailOwner: null, email: null, emailVerified: true }, { kind: 'refuse', reason: 'email_missing' }],
  ];
  for (const [label, input, expected] of table) t.same(decideAccount(input), expected, label);
});

t.test("GitHub's /user/emails: the primary address with its verified flag", async (t) => {
  t.same(githubEmail([{ email: 'a@x.io', primary: false, verified: true }, { email: 'p@x.io', primary: true, verified: true }]), { email: 'p@x.io', verified: true });
  t.same(githubEmail([{ email: 'p@x.io', primary: true, verified: false }, { email: 'a@x.io', primary: false, verified: true }]), { email: 'p@x.io', verified: false });
  t.same(githubEmail([{ email: 'a@x.io', primary: false, verified: false }, { email: 'b@x.io', primary: false, verified: true }]), { email: 'b@x.io', verified: true });
  t.equal(githubEmail([{ email: 'a@x.io', primary: false, verified: false }]), null);
  t.equal(githubEmail([]), null);
});

t.test('usernames derived from the profile fit the Username pattern', async (t) => {
  const pattern = /^[A-Za-z0-9_.-]{3,32}$/;
  // Hints as the service passes them: the handle, the name, the email's local part.
  const table: Array<[hints: Array<string | null>, expected: string]> = [
    [['octocat', 'The Octocat', 'o'], 'octocat'],
    [[null, 'Ada Lovelace', 'ada'], 'Ada_Lovelace'],
    [[null, 'Zoë Ångström', null], 'Zoe_Angstrom'],
    [[null, '李小龍', 'bruce.lee'], 'bruce.lee'],
    [[null, 'Al', 'al'], 'user'],
    [['__x__', null, null], 'user'],
    [[null, 'a'.repeat(40), null], 'a'.repeat(32)],
  ];
  for (const [hints, expected] of table) {
    const base = usernameBase(hints);
    t.equal(base, expected, JSON.stringify(hints));
    t.match(base, pattern);
  }
  const candidates = usernameCandidates('a'.repeat(32), 'f00baa');
  t.equal(candidates.length, 10);
  t.equal(new Set(candidates).size, 10, 'all different');
  for (const name of candidates) t.match(name, pattern, name);
  t.equal(candidates[1], `${'a'.repeat(30)}_2`);
  t.equal(candidates.at(-1), `${'a'.repeat(25)}_f00baa`);
});

t.test('display names: the provider name when it is a valid one, else the username', async (t) => {
  t.equal(displayNameFrom('Ada Lovelace', 'ada'), 'Ada Lovelace');
  t.equal(displayNameFrom('  ', 'ada'), 'ada');
  t.equal(displayNameFrom(null, 'ada'), 'ada');
  t.equal(displayNameFrom('\u202Enimda', 'ada'), 'ada', 'a bidi override is refused');
  t.equal(Array.from(displayNameFrom('😀'.repeat(70), 'ada')).length, 64, 'cut to 64 characters, never inside a surrogate pair');
});
