import { displayNameViolation } from './display-name.ts';

/**
 * The pure decisions of an OAuth sign-in: which account a provider profile signs into, which email
 * of GitHub's list counts, and the username a new account gets. The OAuth service does the I/O.
 */

/** What the provider told us about the person, normalised across providers. */
export interface ProviderProfile {
  /** The provider's stable id of the account (`sub`, GitHub's numeric id, Facebook's id). */
  id: string;
  email: string | null;
  /** Only a verified email may link to an existing account. */
  emailVerified: boolean;
  name: string | null;
  /** A handle to derive the username from (GitHub's login), when the provider has one. */
  login: string | null;
}

export type AccountDecision =
  | { kind: 'sign_in'; userId: string }
  | { kind: 'link'; userId: string }
  | { kind: 'create' }
  | { kind: 'refuse'; reason: 'email_unverified' | 'email_missing' | 'provider_already_linked' };

/**
 * - A known identity signs into its account.
 * - A new identity with a verified email that an account has is linked to that account, unless
 *   that account already has another identity of this provider.
 * - An unverified email is never linked: when an account has it, the sign-in is refused (a new
 *   account cannot take the same email).
 * - Otherwise a new account, which needs an email (accounts have one).
 */
export function decideAccount(input: {
  identityUserId: string | null;
  emailOwner: { userId: string; hasProviderIdentity: boolean } | null;
  email: string | null;
  emailVerified: boolean;
}): AccountDecision {
  if (input.identityUserId !== null) return { kind: 'sign_in', userId: input.identityUserId };
  if (input.email === null) return { kind: 'refuse', reason: 'email_missing' };
  if (input.emailOwner !== null) {
    if (!input.emailVerified) return { kind: 'refuse', reason: 'email_unverified' };
    if (input.emailOwner.hasProviderIdentity) return { kind: 'refuse', reason: 'provider_already_linked' };
    return { kind: 'link', userId: input.emailOwner.userId };
  }
  return { kind: 'create' };
}

export interface GithubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

/**
 * GitHub's `/user/emails`: the primary address with its verified flag; without a primary, the
 * first verified one; none at all is no email.
 */
export function githubEmail(emails: readonly GithubEmail[]): { email: string; verified: boolean } | null {
  const primary = emails.find((entry) => entry.primary);
  if (primary) return { email: primary.email, verified: primary.verified };
  const verified = emails.find((entry) => entry.verified);
  return verified ? { email: verified.email, verified: true } : null;
}

const USERNAME_MIN = 3;
const USERNAME_MAX = 32;

/**
 * A username (openapi.yaml `Username`: 3..32 of `A-Za-z0-9_.-`) from the first usable hint: the
 * provider's handle, the name, the email's local part; `user` when none gives three characters.
 */
export function usernameBase(hints: ReadonlyArray<string | null>): string {
  for (const hint of hints) {
    if (!hint) continue;
    const cleaned = hint
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/\s+/g, '_')
      .replace(/[^A-Za-z0-9_.-]/g, '')
      .replace(/^[._-]+|[._-]+$/g, '')
      .slice(0, USERNAME_MAX);
    if (cleaned.length >= USERNAME_MIN) return cleaned;
  }
  return 'user';
}

/** The names to try, in order: the base, then the base with `_2`..`_9`, then with a random suffix. */
export function usernameCandidates(base: string, randomSuffix: string): string[] {
  const numbered = Array.from({ length: 8 }, (_, index) => withSuffix(base, `_${index + 2}`));
  return [base, ...numbered, withSuffix(base, `_${randomSuffix}`)];
}

function withSuffix(base: string, suffix: string): string {
  return `${base.slice(0, USERNAME_MAX - suffix.length)}${suffix}`;
}

/** The provider's name as the display name when it is one (display-name.ts), else the username. */
export function displayNameFrom(name: string | null, username: string): string {
  const trimmed = name === null ? '' : Array.from(name.trim()).slice(0, 64).join('').trim();
  return trimmed !== '' && displayNameViolation(trimmed) === null ? trimmed : username;
}
