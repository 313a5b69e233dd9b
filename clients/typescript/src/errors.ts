import type { components } from './generated/openapi.ts';

export type Problem = components['schemas']['Problem'];
export type ProblemCode = Problem['code'];
export type FieldError = components['schemas']['FieldError'];

/**
 * A REST call answered with an RFC 9457 problem (`application/problem+json`): `status`, the
 * stable machine `code` and, for validation problems, `errors[]` naming each bad field.
 */
export class ParleyApiError extends Error {
  override readonly name = 'ParleyApiError';
  readonly status: number;
  /** Stable machine code (`validation_failed`, `not_found`, ...); `unknown` when the body was not a problem. */
  readonly code: ProblemCode | 'unknown';
  readonly errors: FieldError[];
  /** The whole problem body, when there was one. */
  readonly problem: Problem | null;
  /** `Retry-After` in seconds for 429 and 503, when the server sent it. */
  readonly retryAfterSeconds: number | null;

  constructor(status: number, problem: Problem | null, retryAfterSeconds: number | null = null) {
    super(problem ? `${status} ${problem.code}: ${problem.detail ?? problem.title}` : `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? 'unknown';
    this.errors = problem?.errors ?? [];
    this.problem = problem;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['code'] === 'string' && typeof v['status'] === 'number' && typeof v['title'] === 'string';
}

/** Builds the typed error from a failed response and its parsed body. */
export function apiErrorOf(response: Response, body: unknown): ParleyApiError {
  const retryAfter = response.headers.get('retry-after');
  const seconds = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : null;
  return new ParleyApiError(response.status, isProblem(body) ? body : null, seconds);
}

/**
 * The gateway refused a frame (`error` frame) or the connection ended for good. `code` is the
 * error frame's code, or `closed` / `fatal_close` for the connection.
 */
export class ParleyGatewayError extends Error {
  override readonly name = 'ParleyGatewayError';
  readonly code: string;
  readonly closeCode: number | null;
  readonly errors: Array<{ field: string; message: string }>;

  constructor(code: string, message: string, options: { closeCode?: number; errors?: Array<{ field: string; message: string }> } = {}) {
    super(message);
    this.code = code;
    this.closeCode = options.closeCode ?? null;
    this.errors = options.errors ?? [];
  }
}
