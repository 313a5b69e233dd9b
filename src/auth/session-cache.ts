import type { Role } from '../repositories/users-repository.ts';

/** What `authenticate` needs from a live session, and until when the session is valid. */
export interface CachedSession {
  userId: string;
  sessionId: string;
  role: Role;
  /** The session's `expires_at` (epoch ms): the entry is never used past it. */
  expiresAtMs: number;
}

interface Entry extends CachedSession {
  /** When the entry stops being used even without an invalidation (epoch ms). */
  staleAtMs: number;
}

export interface SessionCacheOptions {
  /** Entries kept at most; the oldest insertion goes first. 0 turns the cache off. */
  maxEntries: number;
  /** Upper bound on an entry's age: a backstop should an invalidation ever be missed. */
  maxAgeMs: number;
  now?: () => number;
}

/**
 * The per-process cache of session liveness behind `authenticate` (one query per request saved).
 *
 * Correctness rests on invalidation, not on expiry:
 * - This process evicts synchronously after its own writes (logout, revocation, role or active
 *   changes, deletion), before it answers the request that made them.
 * - Other processes' writes (another instance, `npm run create-admin`, plain SQL) reach it through
 *   PostgreSQL NOTIFY on the `parley_auth` channel, fired by triggers on `sessions` and `users`
 *   (sql/004_auth_notify.sql) and delivered by src/plugins/auth-cache-plugin.ts.
 * - The cache starts disabled and is disabled (and emptied) whenever that listener is not
 *   connected: without the notifications every lookup goes to the database (fail closed).
 * - A lookup that was in flight while anything was invalidated is not cached (the generation
 *   check in `set`): its row may predate the change whose notification was just handled.
 */
export class SessionCache {
  readonly #entries = new Map<string, Entry>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #maxEntries: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #enabled = false;
  #generation = 0;

  constructor(options: SessionCacheOptions) {
    this.#maxEntries = options.maxEntries;
    this.#maxAgeMs = options.maxAgeMs;
    this.#now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The live session when cached and still valid; undefined means: ask the database. */
  get(sessionId: string, userId: string): CachedSession | undefined {
    if (!this.#enabled) return undefined;
    const entry = this.#entries.get(sessionId);
    if (!entry) return undefined;
    const now = this.#now();
    if (entry.userId !== userId || now >= entry.expiresAtMs || now >= entry.staleAtMs) {
      this.#delete(entry);
      return undefined;
    }
    return entry;
  }

  /** Taken before a database lookup and handed to `set` with its result. */
  generation(): number {
    return this.#generation;
  }

  /** Caches a lookup's result unless something was invalidated since `generation` was taken. */
  set(session: CachedSession, generation: number): void {
    if (!this.#enabled || generation !== this.#generation || this.#maxEntries <= 0) return;
    const existing = this.#entries.get(session.sessionId);
    if (existing) this.#delete(existing);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.values().next().value;
      if (!oldest) break;
      this.#delete(oldest);
    }
    const entry: Entry = { ...session, staleAtMs: this.#now() + this.#maxAgeMs };
    this.#entries.set(entry.sessionId, entry);
    let sessions = this.#byUser.get(entry.userId);
    if (!sessions) {
      sessions = new Set();
      this.#byUser.set(entry.userId, sessions);
    }
    sessions.add(entry.sessionId);
  }

  evictSession(sessionId: string): void {
    this.#generation += 1;
    const entry = this.#entries.get(sessionId);
    if (entry) this.#delete(entry);
  }

  /** Every cached session of a user (role, active or deleted changed; all sessions revoked). */
  evictUser(userId: string): void {
    this.#generation += 1;
    const sessions = this.#byUser.get(userId);
    if (!sessions) return;
    for (const sessionId of [...sessions]) {
      const entry = this.#entries.get(sessionId);
      if (entry) this.#delete(entry);
    }
    this.#byUser.delete(userId);
  }

  clear(): void {
    this.#generation += 1;
    this.#entries.clear();
    this.#byUser.clear();
  }

  /** The listener is up (LISTEN has been acknowledged): start caching from an empty cache. */
  enable(): void {
    this.clear();
    this.#enabled = true;
  }

  /** The listener is down: drop everything and bypass the cache until it is back. */
  disable(): void {
    this.#enabled = false;
    this.clear();
  }

  #delete(entry: Entry): void {
    this.#entries.delete(entry.sessionId);
    const sessions = this.#byUser.get(entry.userId);
    if (sessions) {
      sessions.delete(entry.sessionId);
      if (sessions.size === 0) this.#byUser.delete(entry.userId);
    }
  }
}

/**
 * A `parley_auth` notification payload: `s:<session id>`, `u:<user id>`, or `*` (everything, e.g.
 * after a TRUNCATE). Anything unrecognised clears the whole cache: an unknown kind of change must
 * not leave entries behind.
 */
export function applyAuthNotification(cache: SessionCache, payload: string | undefined): void {
  const match = payload ? /^([su]):([0-9]+)$/.exec(payload) : null;
  if (!match) {
    cache.clear();
    return;
  }
  if (match[1] === 's') cache.evictSession(match[2]!);
  else cache.evictUser(match[2]!);
}
