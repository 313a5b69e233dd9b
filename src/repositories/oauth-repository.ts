import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

// ── pending logins (state, PKCE verifier, nonce), single use ──

export interface NewLoginState {
  stateHash: Buffer;
  provider: string;
  codeVerifier: string;
  nonce: string;
  redirectTo: string;
  expiresAtMs: number;
}

/** Stores a pending login and drops the expired ones (the table stays as small as the logins in flight). */
export async function insertLoginState(db: CommonQueryMethods, state: NewLoginState, nowMs: number): Promise<void> {
  await db.query(sql.type(z.object({}))`
    DELETE FROM oauth_login_states WHERE expires_at < to_timestamp(${nowMs}::float8 / 1000)`);
  await db.query(sql.type(z.object({}))`
    INSERT INTO oauth_login_states (state_hash, provider, code_verifier, nonce, redirect_to, expires_at)
    VALUES (${sql.binary(state.stateHash)}, ${state.provider}, ${state.codeVerifier}, ${state.nonce},
            ${state.redirectTo}, to_timestamp(${state.expiresAtMs}::float8 / 1000))`);
}

const loginStateSchema = z.object({
  provider: z.string(),
  code_verifier: z.string(),
  nonce: z.string(),
  redirect_to: z.string(),
  expires_at: z.string(),
});
export type LoginStateRow = z.infer<typeof loginStateSchema>;

/** Reads and deletes a pending login in one statement: a second callback with the same state finds nothing. */
export function consumeLoginState(db: CommonQueryMethods, stateHash: Buffer): Promise<LoginStateRow | null> {
  return db.maybeOne(sql.type(loginStateSchema)`
    DELETE FROM oauth_login_states WHERE state_hash = ${sql.binary(stateHash)}
    RETURNING provider, code_verifier, nonce, redirect_to, expires_at`);
}

// ── linked identities ──

const identitySchema = z.object({
  provider: z.string(),
  provider_user_id: z.string(),
  email: z.string().nullable(),
  linked_at: z.string(),
});
export type IdentityRow = z.infer<typeof identitySchema>;

const identityOwnerSchema = z.object({ user_id: z.string() });

export async function findIdentityOwner(db: CommonQueryMethods, provider: string, providerUserId: string): Promise<string | null> {
  const row = await db.maybeOne(sql.type(identityOwnerSchema)`
    SELECT user_id FROM oauth_identities WHERE provider = ${provider} AND provider_user_id = ${providerUserId}`);
  return row?.user_id ?? null;
}

const emailOwnerSchema = z.object({ user_id: z.string(), has_provider_identity: z.boolean() });

/** The live account with this email (case-insensitive, as the unique index), and whether it has an identity of `provider`. */
export function findEmailOwner(
  db: CommonQueryMethods,
  email: string,
  provider: string,
): Promise<{ user_id: string; has_provider_identity: boolean } | null> {
  return db.maybeOne(sql.type(emailOwnerSchema)`
    SELECT u.id AS user_id,
           EXISTS (SELECT 1 FROM oauth_identities i WHERE i.user_id = u.id AND i.provider = ${provider}) AS has_provider_identity
    FROM users u WHERE lower(u.email) = lower(${email}) AND u.deleted_at IS NULL`);
}

export async function insertIdentity(
  db: CommonQueryMethods,
  identity: { provider: string; providerUserId: string; userId: string; email: string | null },
): Promise<void> {
  await db.query(sql.type(z.object({}))`
    INSERT INTO oauth_identities (provider, provider_user_id, user_id, email)
    VALUES (${identity.provider}, ${identity.providerUserId}, ${identity.userId}, ${identity.email})`);
}

const takenSchema = z.object({ name: z.string() });

/** Which of these usernames are taken (lower-cased, as the unique index compares them). */
export async function takenUsernames(db: CommonQueryMethods, candidates: readonly string[]): Promise<Set<string>> {
  const rows = await db.any(sql.type(takenSchema)`
    SELECT lower(username) AS name FROM users
    WHERE lower(username) = ANY(${sql.array(candidates.map((name) => name.toLowerCase()), 'text')})`);
  return new Set(rows.map((row) => row.name));
}

export function listIdentities(db: CommonQueryMethods, userId: string): Promise<readonly IdentityRow[]> {
  return db.any(sql.type(identitySchema)`
    SELECT provider, provider_user_id, email, linked_at FROM oauth_identities
    WHERE user_id = ${userId} ORDER BY linked_at, provider`);
}

const signInMethodsSchema = z.object({ has_password: z.boolean(), providers: z.array(z.string()) });

/**
 * The account's ways to sign in, its row locked (FOR UPDATE) so two concurrent unlinks cannot
 * both see "another method is left" and remove the last two.
 */
export function lockSignInMethods(db: CommonQueryMethods, userId: string): Promise<{ has_password: boolean; providers: string[] } | null> {
  return db.maybeOne(sql.type(signInMethodsSchema)`
    WITH locked AS (SELECT id, password_hash FROM users WHERE id = ${userId} AND deleted_at IS NULL FOR UPDATE)
    SELECT (locked.password_hash IS NOT NULL) AS has_password,
           COALESCE((SELECT array_agg(provider ORDER BY provider) FROM oauth_identities WHERE user_id = locked.id), '{}') AS providers
    FROM locked`);
}

export async function deleteIdentity(db: CommonQueryMethods, userId: string, provider: string): Promise<void> {
  await db.query(sql.type(z.object({}))`
    DELETE FROM oauth_identities WHERE user_id = ${userId} AND provider = ${provider}`);
}

export async function hasPassword(db: CommonQueryMethods, userId: string): Promise<boolean> {
  const row = await db.maybeOne(sql.type(z.object({ has_password: z.boolean() }))`
    SELECT password_hash IS NOT NULL AS has_password FROM users WHERE id = ${userId} AND deleted_at IS NULL`);
  return row?.has_password ?? false;
}
