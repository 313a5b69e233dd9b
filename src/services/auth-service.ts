import { createHash, randomBytes } from 'node:crypto';
import { UniqueIntegrityConstraintViolationError, type DatabasePool } from 'slonik';
import type { Config } from '../config.ts';
import { passwordPolicyViolations } from '../domain/password-policy.ts';
import { isSnowflake } from '../domain/snowflake.ts';
import { ProblemError, unauthorized, type FieldError } from '../errors.ts';
import type { EventBus } from '../events/event-bus.ts';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { SessionCache } from '../auth/session-cache.ts';
import * as sessions from '../repositories/sessions-repository.ts';
import * as users from '../repositories/users-repository.ts';
import type { Role, UserRow } from '../repositories/users-repository.ts';

export interface AccessClaims {
  sub: string;
  name: string;
  email: string;
  role: Role;
  sid: string;
  iat?: number;
  exp?: number;
}

/** Who is calling: established from a live session on every request and every socket. */
export interface AuthContext {
  userId: string;
  sessionId: string;
  role: Role;
}

export interface TokenSigner {
  sign(claims: AccessClaims): string;
  /** Throws on a bad signature, another algorithm, `none` or an expired token. */
  verify(token: string): AccessClaims;
}

export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}

export interface IssuedTokens {
  user: UserRow;
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export interface NewAccount {
  username: string;
  email: string;
  password: string;
  display_name?: string;
  phone_number?: string | null;
  role?: Role;
  active?: boolean;
}

const hashRefreshToken = (token: string): Buffer => createHash('sha256').update(token).digest();

export function assertPasswordPolicy(password: string, field = '/password'): void {
  const problems = passwordPolicyViolations(password);
  if (problems.length > 0) {
    throw new ProblemError(
      'validation_failed',
      'The password does not meet the password policy.',
      problems.map((message) => ({ field, message })),
    );
  }
}

/** Maps a unique-index violation on users to a 409 naming the taken field. */
export function accountConflict(error: unknown): never {
  if (error instanceof UniqueIntegrityConstraintViolationError) {
    const constraint = String((error as { constraint?: string }).constraint ?? error.message);
    const field: FieldError = constraint.includes('email')
      ? { field: '/email', message: 'is already registered' }
      : { field: '/username', message: 'is already taken' };
    throw new ProblemError('conflict', `That ${field.field.slice(1)} is already in use.`, [field]);
  }
  throw error;
}

/** Checks the password policy, hashes the password and inserts the account (409 on a taken username or email). */
export async function createAccount(db: DatabasePool, account: NewAccount): Promise<UserRow> {
  assertPasswordPolicy(account.password);
  const passwordHash = await hashPassword(account.password);
  try {
    return await users.insertUser(db, {
      username: account.username,
      email: account.email,
      display_name: account.display_name ?? account.username,
      phone_number: account.phone_number ?? null,
      password_hash: passwordHash,
      role: account.role ?? 'client',
      active: account.active ?? true,
    });
  } catch (error) {
    return accountConflict(error);
  }
}

export function createAuthService(deps: {
  db: DatabasePool;
  config: Config;
  signer: TokenSigner;
  events: EventBus;
  /**
   * Session liveness per process. Without one (or until its listener is up, see
   * src/plugins/auth-cache-plugin.ts) every request asks the database.
   */
  sessionCache?: SessionCache;
}) {
  const { db, config, signer, events } = deps;
  const sessionCache = deps.sessionCache ?? new SessionCache({ maxEntries: 0, maxAgeMs: 0 });

  async function startSession(user: UserRow, client: ClientInfo): Promise<IssuedTokens> {
    const refreshToken = randomBytes(32).toString('base64url');
    const session = await db.transaction(async (tx) => {
      const created = await sessions.insertSession(tx, {
        userId: user.id,
        ttlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
        userAgent: client.userAgent?.slice(0, 512) ?? null,
        ip: client.ip,
      });
      await sessions.insertRefreshToken(tx, created.id, hashRefreshToken(refreshToken));
      return created;
    });
    return tokensFor(user, session.id, refreshToken);
  }

  function tokensFor(user: UserRow, sessionId: string, refreshToken: string): IssuedTokens {
    const accessToken = signer.sign({
      sub: user.id,
      name: user.username,
      email: user.email,
      role: user.role,
      sid: sessionId,
    });
    return {
      user,
      access_token: accessToken,
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: config.ACCESS_TOKEN_TTL_SECONDS,
    };
  }

  /** Ends sessions and announces it after commit, so sockets of those sessions close too. */
  async function endSessions(userId: string, reason: string, exceptSessionId?: string): Promise<string[]> {
    const revoked = await sessions.revokeUserSessions(db, userId, reason, exceptSessionId);
    // This process stops accepting them before it answers; other processes hear it via NOTIFY.
    for (const sessionId of revoked) sessionCache.evictSession(sessionId);
    if (revoked.length > 0) events.publish({ type: 'sessions.revoked', user_id: userId, session_ids: revoked, reason });
    return revoked;
  }

  return {
    createAccount: (account: NewAccount): Promise<UserRow> => createAccount(db, account),

    startSession,

    /**
     * The per-account login rate-limit key: the account's id when the login names one, so its
     * username and email share one budget; otherwise the lower-cased login itself.
     */
    async loginRateKey(login: string): Promise<string> {
      const user = await users.findCredentialsByLogin(db, login);
      return user ? `user:${user.id}` : `login:${login.toLowerCase()}`;
    },

    async login(login: string, password: string, client: ClientInfo): Promise<IssuedTokens> {
      const user = await users.findCredentialsByLogin(db, login);
      const valid = await verifyPassword(user?.password_hash ?? null, password);
      if (!user || !valid) throw new ProblemError('invalid_credentials', 'The login or password is wrong.');
      if (!user.active) throw new ProblemError('account_inactive', 'This account is deactivated.');
      const { password_hash: _ignored, ...row } = user;
      return startSession(row, client);
    },

    async refresh(refreshToken: string): Promise<IssuedTokens> {
      const tokenHash = hashRefreshToken(refreshToken);
      const outcome = await db.transaction(async (tx) => {
        const found = await sessions.lockRefreshToken(tx, tokenHash);
        if (!found || !found.session_live) return { kind: 'invalid' as const };
        if (found.used) {
          // A spent token came back: someone holds a copy. End the whole family.
          await sessions.revokeSessionById(tx, found.session_id, found.user_id, 'refresh_token_reuse');
          return { kind: 'reused' as const, sessionId: found.session_id, userId: found.user_id };
        }
        const user = await users.findUserById(tx, found.user_id);
        if (!user || !user.active) return { kind: 'invalid' as const };
        await sessions.markRefreshTokenUsed(tx, tokenHash);
        const next = randomBytes(32).toString('base64url');
        await sessions.insertRefreshToken(tx, found.session_id, hashRefreshToken(next));
        await sessions.extendSession(tx, found.session_id, config.REFRESH_TOKEN_TTL_SECONDS);
        return { kind: 'rotated' as const, user, sessionId: found.session_id, refreshToken: next };
      });
      if (outcome.kind === 'reused') {
        sessionCache.evictSession(outcome.sessionId);
        events.publish({
          type: 'sessions.revoked',
          user_id: outcome.userId,
          session_ids: [outcome.sessionId],
          reason: 'refresh_token_reuse',
        });
        throw unauthorized('This refresh token was already used; the session has been revoked.');
      }
      if (outcome.kind === 'invalid') throw unauthorized('The refresh token is invalid, expired or revoked.');
      return tokensFor(outcome.user, outcome.sessionId, outcome.refreshToken);
    },

    /** Verifies an access token and that its session is still live. */
    async authenticate(token: string): Promise<AuthContext> {
      let claims: AccessClaims;
      try {
        claims = signer.verify(token);
      } catch {
        throw unauthorized('The access token is invalid or expired.');
      }
      // Ids out of the bigint range would fail the session query (a 500) instead of a 401.
      if (!isSnowflake(claims.sid) || !isSnowflake(claims.sub)) {
        throw unauthorized('The access token is invalid or expired.');
      }
      const cached = sessionCache.get(claims.sid, claims.sub);
      if (cached) return { userId: cached.userId, sessionId: cached.sessionId, role: cached.role };
      const generation = sessionCache.generation();
      const context = await sessions.findLiveSessionContext(db, claims.sid, claims.sub);
      if (!context) throw unauthorized('The session has ended.');
      sessionCache.set(
        { userId: context.user_id, sessionId: context.session_id, role: context.role, expiresAtMs: Date.parse(context.expires_at) },
        generation,
      );
      return { userId: context.user_id, sessionId: context.session_id, role: context.role };
    },

    /**
     * After this process changed a user's role, active flag or deleted state: the next request of
     * any of their sessions reads the account again. (Other processes hear it via NOTIFY.)
     */
    forgetUser(userId: string): void {
      sessionCache.evictUser(userId);
    },

    async logout(auth: AuthContext): Promise<void> {
      const revoked = await sessions.revokeSessionById(db, auth.sessionId, auth.userId, 'logout');
      sessionCache.evictSession(auth.sessionId);
      if (revoked) {
        events.publish({ type: 'sessions.revoked', user_id: auth.userId, session_ids: [auth.sessionId], reason: 'logout' });
      }
    },

    async revokeSession(auth: AuthContext, sessionId: string): Promise<boolean> {
      const revoked = await sessions.revokeSessionById(db, sessionId, auth.userId, 'revoked');
      if (revoked) {
        sessionCache.evictSession(sessionId);
        events.publish({ type: 'sessions.revoked', user_id: auth.userId, session_ids: [sessionId], reason: 'revoked' });
      }
      return revoked;
    },

    listSessions(auth: AuthContext) {
      return sessions.listLiveSessions(db, auth.userId);
    },

    endSessions,
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
