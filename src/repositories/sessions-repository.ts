import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { roleSchema } from './users-repository.ts';

const sessionRowSchema = z.object({
  id: z.string(),
  user_id: z.string(),
  created_at: z.string(),
  last_used_at: z.string(),
  expires_at: z.string(),
  user_agent: z.string().nullable(),
  ip: z.string().nullable(),
});
export type SessionRow = z.infer<typeof sessionRowSchema>;

const sessionColumns = sql.fragment`id, user_id, created_at, last_used_at, expires_at, user_agent, ip`;

export function insertSession(
  db: CommonQueryMethods,
  session: { userId: string; ttlSeconds: number; userAgent: string | null; ip: string | null },
): Promise<SessionRow> {
  return db.one(sql.type(sessionRowSchema)`
    INSERT INTO sessions (user_id, expires_at, user_agent, ip)
    VALUES (${session.userId}, now() + make_interval(secs => ${session.ttlSeconds}), ${session.userAgent}, ${session.ip})
    RETURNING ${sessionColumns}`);
}

export function insertRefreshToken(db: CommonQueryMethods, sessionId: string, tokenHash: Buffer): Promise<unknown> {
  return db.query(sql.type(z.object({}))`
    INSERT INTO refresh_tokens (token_hash, session_id) VALUES (${sql.binary(tokenHash)}, ${sessionId})`);
}

const refreshLookupSchema = z.object({
  session_id: z.string(),
  user_id: z.string(),
  used: z.boolean(),
  /** When it was rotated, in epoch ms of the clock of the process that rotated it. */
  used_at_ms: z.number().nullable(),
  /** Its successor, sealed under a key only this token yields (src/auth/refresh-successor.ts). */
  successor_sealed: z.instanceof(Buffer).nullable(),
  session_live: z.boolean(),
});

/**
 * Locks the token row so two concurrent refreshes with one token are serialised: the second
 * waits for the first to commit and then sees the token spent, with its sealed successor.
 */
export function lockRefreshToken(db: CommonQueryMethods, tokenHash: Buffer) {
  return db.maybeOne(sql.type(refreshLookupSchema)`
    SELECT r.session_id, s.user_id, r.used_at IS NOT NULL AS used,
           (extract(epoch FROM r.used_at) * 1000)::float8 AS used_at_ms, r.successor_sealed,
           (s.revoked_at IS NULL AND s.expires_at > now()) AS session_live
    FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
    WHERE r.token_hash = ${sql.binary(tokenHash)}
    FOR UPDATE OF r, s`);
}

/** Spends a token at `usedAtMs` (the service's clock), keeping its sealed successor for the grace period. */
export function markRefreshTokenUsed(
  db: CommonQueryMethods,
  tokenHash: Buffer,
  usedAtMs: number,
  successorSealed: Buffer | null,
): Promise<unknown> {
  return db.query(sql.type(z.object({}))`
    UPDATE refresh_tokens
    SET used_at = to_timestamp(${usedAtMs}::float8 / 1000),
        successor_sealed = ${successorSealed ? sql.binary(successorSealed) : null}
    WHERE token_hash = ${sql.binary(tokenHash)}`);
}

/** Forgets the sealed successors of a session's tokens spent before `spentBeforeMs` (their grace is over). */
export function clearExpiredSuccessors(db: CommonQueryMethods, sessionId: string, spentBeforeMs: number): Promise<unknown> {
  return db.query(sql.type(z.object({}))`
    UPDATE refresh_tokens SET successor_sealed = NULL
    WHERE session_id = ${sessionId} AND successor_sealed IS NOT NULL
      AND used_at < to_timestamp(${spentBeforeMs}::float8 / 1000)`);
}

export function extendSession(db: CommonQueryMethods, sessionId: string, ttlSeconds: number): Promise<unknown> {
  return db.query(sql.type(z.object({}))`
    UPDATE sessions SET last_used_at = now(), expires_at = now() + make_interval(secs => ${ttlSeconds})
    WHERE id = ${sessionId}`);
}

const revokedIdsSchema = z.object({ id: z.string() });

export async function revokeSessionById(
  db: CommonQueryMethods,
  sessionId: string,
  userId: string,
  reason: string,
): Promise<boolean> {
  const row = await db.maybeOne(sql.type(revokedIdsSchema)`
    UPDATE sessions SET revoked_at = now(), revoked_reason = ${reason}
    WHERE id = ${sessionId} AND user_id = ${userId} AND revoked_at IS NULL
    RETURNING id`);
  return row !== null;
}

/** Revokes every live session of a user, optionally keeping one; returns the revoked ids. */
export async function revokeUserSessions(
  db: CommonQueryMethods,
  userId: string,
  reason: string,
  exceptSessionId?: string,
): Promise<string[]> {
  const rows = await db.any(sql.type(revokedIdsSchema)`
    UPDATE sessions SET revoked_at = now(), revoked_reason = ${reason}
    WHERE user_id = ${userId} AND revoked_at IS NULL
      ${exceptSessionId ? sql.fragment`AND id <> ${exceptSessionId}` : sql.fragment``}
    RETURNING id`);
  return rows.map((row) => row.id);
}

export function listLiveSessions(db: CommonQueryMethods, userId: string): Promise<readonly SessionRow[]> {
  return db.any(sql.type(sessionRowSchema)`
    SELECT ${sessionColumns} FROM sessions
    WHERE user_id = ${userId} AND revoked_at IS NULL AND expires_at > now()
    ORDER BY id DESC`);
}

const authContextSchema = z.object({
  session_id: z.string(),
  user_id: z.string(),
  role: roleSchema,
  username: z.string(),
  email: z.string(),
  expires_at: z.string(),
});
export type AuthContextRow = z.infer<typeof authContextSchema>;

/**
 * The per-request check behind every access token: the session is live and its user active.
 * (`authenticate` caches the answer per process; see src/auth/session-cache.ts.)
 */
export function findLiveSessionContext(db: CommonQueryMethods, sessionId: string, userId: string) {
  // A named prepared statement: planned once per connection, not on every request (≈ 100 → 20 µs).
  return db.maybeOne(sql.prepared('live_session_context', authContextSchema)`
    SELECT s.id AS session_id, u.id AS user_id, u.role, u.username, u.email, s.expires_at
    FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.id = ${sessionId} AND s.user_id = ${userId}
      AND s.revoked_at IS NULL AND s.expires_at > now()
      AND u.active AND u.deleted_at IS NULL`);
}
