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

/** Node's socket errors when the server cannot be reached or the connection broke. */
const unreachableErrnos = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** What pg says, without a code, when a connection ends under it or cannot be made in time. */
const lostConnectionMessage = /^Connection terminated|timeout exceeded when trying to connect/;

/**
 * True when `error` (or an error it wraps) says the database could not be reached or the connection
 * to it was lost: refused or reset sockets, SQLSTATE class 08 (connection exception), 57P01..57P03
 * (administrator or crash shutdown, cannot connect now: a restart), pg's "Connection terminated".
 * The request may succeed later: REST answers 503 with Retry-After, the gateway an error frame (or
 * close 1013 while authenticating). Any other failure (a bug, a constraint) is not this.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth += 1) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      if (/^08[0-9A-Z]{3}$/.test(code) || ['57P01', '57P02', '57P03'].includes(code) || unreachableErrnos.has(code)) return true;
    }
    if (typeof message === 'string' && lostConnectionMessage.test(message)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
