/**
 * What a spent refresh token presented again means (OAuth 2.0 Security BCP, refresh token
 * rotation): within the grace period after its rotation it is a concurrent refresh of the same
 * client (two tabs), answered with the same successor; after it, someone holds a copy, and the
 * whole family is revoked. The bounds are inclusive: exactly `graceMs` after the rotation is
 * still within it. A grace of 0 turns the grace off (the rotation instant itself cannot be seen
 * again by a later request, so nothing is within it).
 */
export type ReuseDecision = 'replay' | 'revoke';

export function refreshReuseDecision(input: { usedAtMs: number | null; nowMs: number; graceMs: number }): ReuseDecision {
  const { usedAtMs, nowMs, graceMs } = input;
  if (graceMs <= 0 || usedAtMs === null) return 'revoke';
  const age = nowMs - usedAtMs;
  // Another instance's clock (or an NTP step) may give a slightly negative age: the same rotation.
  // Far off either way is not a concurrent refresh, and refusing is the safe side.
  return Math.abs(age) <= graceMs ? 'replay' : 'revoke';
}
