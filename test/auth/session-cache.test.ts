import t from 'tap';
import { applyAuthNotification, SessionCache, type CachedSession } from '../../src/auth/session-cache.ts';

const session = (sessionId: string, userId = 'u1', overrides: Partial<CachedSession> = {}): CachedSession => ({
  sessionId,
  userId,
  role: 'client',
  expiresAtMs: 10_000,
  ...overrides,
});

function cache(options: { maxEntries?: number; maxAgeMs?: number } = {}) {
  let now = 1_000;
  const instance = new SessionCache({ maxEntries: options.maxEntries ?? 100, maxAgeMs: options.maxAgeMs ?? 5_000, now: () => now });
  instance.enable();
  return { cache: instance, setNow: (value: number) => (now = value) };
}

t.test('disabled: nothing is cached or returned (fail closed)', async (t) => {
  const instance = new SessionCache({ maxEntries: 100, maxAgeMs: 5_000, now: () => 1_000 });
  instance.set(session('s1'), instance.generation());
  t.equal(instance.get('s1', 'u1'), undefined, 'starts disabled');
  instance.enable();
  instance.set(session('s1'), instance.generation());
  t.ok(instance.get('s1', 'u1'));
  instance.disable();
  t.equal(instance.size, 0, 'disabling empties it');
  t.equal(instance.get('s1', 'u1'), undefined);
  instance.set(session('s1'), instance.generation());
  t.equal(instance.size, 0, 'and nothing is added while disabled');
});

t.test('a lookup that raced an invalidation is not cached', async (t) => {
  const { cache: instance } = cache();
  const generation = instance.generation();
  instance.evictUser('someone-else');
  instance.set(session('s1'), generation);
  t.equal(instance.get('s1', 'u1'), undefined, 'any invalidation in between discards the result');
  instance.set(session('s1'), instance.generation());
  t.ok(instance.get('s1', 'u1'), 'a clean lookup is cached');
});

t.test('expiry, maximum age, the user id and the size bound', async (t) => {
  const { cache: instance, setNow } = cache({ maxEntries: 2, maxAgeMs: 5_000 });
  instance.set(session('s1', 'u1', { expiresAtMs: 3_000 }), instance.generation());
  t.equal(instance.get('s1', 'u2'), undefined, 'another user id never matches');
  instance.set(session('s1', 'u1', { expiresAtMs: 3_000 }), instance.generation());
  setNow(3_000);
  t.equal(instance.get('s1', 'u1'), undefined, 'not past the session expiry');
  instance.set(session('s2', 'u1', { expiresAtMs: 100_000 }), instance.generation());
  setNow(8_000);
  t.equal(instance.get('s2', 'u1'), undefined, 'not past the maximum age');
  instance.set(session('a'), instance.generation());
  instance.set(session('b'), instance.generation());
  instance.set(session('c'), instance.generation());
  t.equal(instance.size, 2);
  t.equal(instance.get('a', 'u1'), undefined, 'the oldest entry made room');
  t.ok(instance.get('c', 'u1'));
  const off = new SessionCache({ maxEntries: 0, maxAgeMs: 5_000 });
  off.enable();
  off.set(session('s1'), off.generation());
  t.equal(off.size, 0, 'size 0 caches nothing');
});

t.test('notifications evict by session, by user, or everything', async (t) => {
  const { cache: instance } = cache();
  instance.set(session('1', '10'), instance.generation());
  instance.set(session('2', '10'), instance.generation());
  instance.set(session('3', '20'), instance.generation());
  applyAuthNotification(instance, 's:1');
  t.equal(instance.get('1', '10'), undefined);
  t.ok(instance.get('2', '10'));
  applyAuthNotification(instance, 'u:10');
  t.equal(instance.get('2', '10'), undefined, "every session of the user");
  t.ok(instance.get('3', '20'));
  applyAuthNotification(instance, '*');
  t.equal(instance.size, 0, 'a TRUNCATE clears everything');
  instance.set(session('3', '20'), instance.generation());
  applyAuthNotification(instance, 'something new');
  t.equal(instance.size, 0, 'an unknown payload clears everything too');
});
