/**
 * What a database error says about the transaction it ended. Pure.
 *
 * An error the server reported for a statement (or for COMMIT) carries a SQLSTATE, and the
 * transaction was rolled back: nothing of it is stored, so its work may be retried. A lost
 * connection leaves the outcome unknown (the COMMIT may have been applied before the reply was
 * lost): retrying could store everything twice.
 */

/** The SQLSTATE of `error` or of the errors it wraps (Slonik wraps pg's in `cause`). */
export function sqlStateOf(error: unknown): string | null {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/** True when the server reported the error and the transaction is known to have been rolled back. */
export function isRolledBackByServer(error: unknown): boolean {
  const state = sqlStateOf(error);
  if (state === null) return false;
  // 08: connection exception; 57P: the server is shutting down or terminated the backend.
  return !state.startsWith('08') && !state.startsWith('57P');
}
