import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { forbidden, unauthorized } from '../errors.ts';

/**
 * Who may read the operational endpoints that show more than "ok": the detailed `GET /health`
 * (host, kernel, Node version, memory) and `GET /metrics`. Either an admin's access token
 * (the `bearerAuth`/`cookieAuth` schemes, role checked by `assertOpsAccess`) or a static bearer
 * token from config: OPS_TOKEN for /health, METRICS_TOKEN for /metrics (what Prometheus'
 * `authorization: { credentials: ... }` sends). No token configured: admins only.
 */
declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request presented the configured ops or metrics token. */
    opsTokenAccepted?: boolean;
  }
}

const BEARER = /^Bearer\s+(\S+)$/i;
const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function bearerTokenOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  const match = header ? BEARER.exec(header) : null;
  return match ? match[1]! : null;
}

/** Constant-time comparison (of digests, so the lengths do not leak either). */
export function tokenMatches(presented: string, configured: string): boolean {
  return timingSafeEqual(digest(presented), digest(configured));
}

/** A security handler for a static bearer token from config; always refuses when none is configured. */
export function staticTokenHandler(configured: string | undefined) {
  return async (request: FastifyRequest): Promise<void> => {
    const presented = bearerTokenOf(request);
    if (!presented) throw unauthorized('Missing bearer token.');
    if (configured === undefined || !tokenMatches(presented, configured)) throw unauthorized('The token is not valid.');
    request.opsTokenAccepted = true;
  };
}

/** In the handler: the configured token, or an admin's session. A signed-in non-admin is 403. */
export function assertOpsAccess(request: FastifyRequest): void {
  if (request.opsTokenAccepted) return;
  if (!request.auth) throw unauthorized();
  if (request.auth.role !== 'admin') throw forbidden('Only admins (or the configured ops token) may read this.');
}
