import type { ErrorCode } from '../generated/asyncapi-types.ts';

/**
 * The one table of problem codes: each code's HTTP status and title (REST problem details) and
 * the code a gateway `error` frame carries for it (asyncapi.yaml's smaller vocabulary). Handlers
 * and services throw `ProblemError`s by code; the error plugin and the gateway derive the rest.
 *
 * Order matters once: a framework error that only has a status (Fastify's 413, 415, ...) gets the
 * FIRST code listed with that status (see `problemCodeForStatus`), so the generic code of a status
 * comes before its specific ones (`unauthorized` before `invalid_credentials`).
 */
export const problemCodes = {
  validation_failed: { status: 400, title: 'Bad Request', gateway: 'validation_failed' },
  unauthorized: { status: 401, title: 'Unauthorized', gateway: 'unauthorized' },
  invalid_credentials: { status: 401, title: 'Unauthorized', gateway: 'unauthorized' },
  forbidden: { status: 403, title: 'Forbidden', gateway: 'forbidden' },
  account_inactive: { status: 403, title: 'Forbidden', gateway: 'forbidden' },
  not_found: { status: 404, title: 'Not Found', gateway: 'not_found' },
  // Only HTTP has methods: never raised on the gateway.
  method_not_allowed: { status: 405, title: 'Method Not Allowed', gateway: 'internal_error' },
  // Answered by the HTTP layer before any operation runs: never raised on the gateway.
  request_timeout: { status: 408, title: 'Request Timeout', gateway: 'internal_error' },
  conflict: { status: 409, title: 'Conflict', gateway: 'conflict' },
  payload_too_large: { status: 413, title: 'Payload Too Large', gateway: 'validation_failed' },
  unsupported_media_type: { status: 415, title: 'Unsupported Media Type', gateway: 'validation_failed' },
  rate_limited: { status: 429, title: 'Too Many Requests', gateway: 'rate_limited' },
  // Answered by the HTTP layer before any operation runs: never raised on the gateway.
  header_fields_too_large: { status: 431, title: 'Request Header Fields Too Large', gateway: 'internal_error' },
  internal_error: { status: 500, title: 'Internal Server Error', gateway: 'internal_error' },
  service_unavailable: { status: 503, title: 'Service Unavailable', gateway: 'internal_error' },
  // The database could not be reached or the connection was lost (src/db/database-errors.ts):
  // try again later (Retry-After), unlike a failure of ours (internal_error).
  database_unavailable: { status: 503, title: 'Service Unavailable', gateway: 'database_unavailable' },
  // OAuth login (src/services/oauth-service.ts): HTTP only, never raised on the gateway.
  provider_not_configured: { status: 404, title: 'Not Found', gateway: 'internal_error' },
  redirect_not_allowed: { status: 400, title: 'Bad Request', gateway: 'internal_error' },
  oauth_state_invalid: { status: 400, title: 'Bad Request', gateway: 'internal_error' },
  oauth_access_denied: { status: 403, title: 'Forbidden', gateway: 'internal_error' },
  oauth_email_unverified: { status: 409, title: 'Conflict', gateway: 'internal_error' },
  oauth_email_missing: { status: 422, title: 'Unprocessable Content', gateway: 'internal_error' },
  oauth_provider_error: { status: 502, title: 'Bad Gateway', gateway: 'internal_error' },
  oauth_id_token_invalid: { status: 502, title: 'Bad Gateway', gateway: 'internal_error' },
  oauth_provider_timeout: { status: 504, title: 'Gateway Timeout', gateway: 'internal_error' },
  last_sign_in_method: { status: 409, title: 'Conflict', gateway: 'internal_error' },
} as const satisfies Record<string, { status: number; title: string; gateway: ErrorCode }>;

export type ProblemCode = keyof typeof problemCodes;

/**
 * `Retry-After` (seconds) of every 503 and `retry_after_ms` of a `database_unavailable` frame: how
 * long a dependency that went away is given before clients ask again (a PostgreSQL restart takes
 * a few seconds); clients add their own backoff on repeats.
 */
export const UNAVAILABLE_RETRY_AFTER_S = 5;

const codeByStatus = new Map<number, ProblemCode>();
for (const [code, { status }] of Object.entries(problemCodes) as Array<[ProblemCode, { status: number }]>) {
  if (!codeByStatus.has(status)) codeByStatus.set(status, code);
}

/** The generic problem code of an HTTP status (the first listed with it), if the table has one. */
export function problemCodeForStatus(status: number): ProblemCode | undefined {
  return codeByStatus.get(status);
}

/** The `error` frame code for a problem code. */
export function gatewayErrorCode(code: ProblemCode): ErrorCode {
  return problemCodes[code].gateway;
}

/**
 * Where a bad value was: `field` is a JSON Pointer (RFC 6901) into that part of the request, the
 * body's JSON or the object of the query, path or header parameters by name (`/limit` with
 * `in: query`). One scheme for every place; openapi.yaml's FieldError says the same.
 */
export type FieldLocation = 'body' | 'query' | 'path' | 'header';

/** A field error as thrown: `in` defaults to `body`, where almost every service-level check looks. */
export interface FieldError {
  in?: FieldLocation;
  field: string;
  message: string;
}

/** A field error as sent, its place always named. */
export type LocatedFieldError = FieldError & { in: FieldLocation };

export class ProblemError extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  readonly errors: LocatedFieldError[] | undefined;
  /**
   * A 401 because a presented access token is bad, expired or revoked (RFC 6750 `invalid_token`
   * in `WWW-Authenticate`), rather than because none was given.
   */
  tokenRejected = false;

  constructor(code: ProblemCode, detail?: string, errors?: readonly FieldError[]) {
    super(detail ?? problemCodes[code].title);
    this.name = 'ProblemError';
    this.code = code;
    this.status = problemCodes[code].status;
    this.errors = errors?.map(({ in: location = 'body', field, message }) => ({ in: location, field, message }));
  }
}

export const notFound = (what = 'resource'): ProblemError => new ProblemError('not_found', `The ${what} does not exist.`);
export const forbidden = (detail = 'You may not do this.'): ProblemError => new ProblemError('forbidden', detail);
export const conflict = (detail: string): ProblemError => new ProblemError('conflict', detail);
export const unauthorized = (detail = 'Authentication is required.'): ProblemError => new ProblemError('unauthorized', detail);
/**
 * Rethrows the failure of checking a PRESENTED access token, its 401 marked as a refused token
 * (`.catch(rejectedToken)` where a token from the request is authenticated).
 */
export function rejectedToken(error: unknown): never {
  if (error instanceof ProblemError && error.status === 401) error.tokenRejected = true;
  throw error;
}
export const invalid = (field: string, message: string, location: FieldLocation = 'body'): ProblemError =>
  new ProblemError('validation_failed', 'The request is not valid.', [{ in: location, field, message }]);

/** RFC 6750 §3: the `WWW-Authenticate` challenge of a 401. */
export function bearerChallenge(tokenRejected: boolean): string {
  return tokenRejected ? 'Bearer realm="parley", error="invalid_token"' : 'Bearer realm="parley"';
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  errors?: LocatedFieldError[];
  request_id?: string;
}

export function problemBody(code: ProblemCode, detail: string, requestId?: string, errors?: LocatedFieldError[]): ProblemBody {
  const { status, title } = problemCodes[code];
  return {
    type: `https://parley.dev/problems/${code}`,
    title,
    status,
    detail,
    code,
    ...(errors ? { errors } : {}),
    ...(requestId ? { request_id: requestId } : {}),
  };
}
