/**
 * The claims every Parley access token must carry, with their types. A token that lacks one is
 * refused even when its signature is good: without `exp` it would never expire, without `iat` its
 * age is unknown, and `sub`/`sid` name the user and the session whose liveness is checked (ids
 * are decimal strings within PostgreSQL's bigint, so a forged out-of-range id never reaches a query).
 */
import { isSnowflake } from './snowflake.ts';

export interface RequiredAccessClaims {
  sub: string;
  sid: string;
  iat: number;
  exp: number;
}

// The id rule of every other input (src/domain/snowflake.ts); `0` passes it but names no user or session.
const isId = (value: unknown): value is string => isSnowflake(value) && value !== '0';
// NumericDate (RFC 7519 §2) may be fractional; we issue whole seconds and accept any finite, non-negative number.
const isNumericDate = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** The first problem with a verified token's payload, or null when the required claims are all there and well typed. */
export function accessClaimsProblem(payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return 'the payload is not an object';
  const claims = payload as Record<string, unknown>;
  if (!isId(claims.sub)) return claims.sub === undefined ? 'sub is missing' : 'sub is not an id';
  if (!isId(claims.sid)) return claims.sid === undefined ? 'sid is missing' : 'sid is not an id';
  if (!isNumericDate(claims.iat)) return claims.iat === undefined ? 'iat is missing' : 'iat is not a NumericDate';
  if (!isNumericDate(claims.exp)) return claims.exp === undefined ? 'exp is missing' : 'exp is not a NumericDate';
  if (claims.exp <= claims.iat) return 'exp is not after iat';
  return null;
}
