/**
 * One table maps every problem code to its HTTP status and title; handlers throw
 * `ProblemError`s by code and the error plugin renders RFC 9457 problem details.
 */
export const problemCodes = {
  validation_failed: { status: 400, title: 'Bad Request' },
  invalid_credentials: { status: 401, title: 'Unauthorized' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  account_inactive: { status: 403, title: 'Forbidden' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not Found' },
  method_not_allowed: { status: 405, title: 'Method Not Allowed' },
  request_timeout: { status: 408, title: 'Request Timeout' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'Payload Too Large' },
  unsupported_media_type: { status: 415, title: 'Unsupported Media Type' },
  rate_limited: { status: 429, title: 'Too Many Requests' },
  header_fields_too_large: { status: 431, title: 'Request Header Fields Too Large' },
  internal_error: { status: 500, title: 'Internal Server Error' },
  service_unavailable: { status: 503, title: 'Service Unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof problemCodes;

export interface FieldError {
  field: string;
  message: string;
}

export class ProblemError extends Error {
  readonly code: ProblemCode;
  readonly status: number;
  readonly errors: FieldError[] | undefined;

  constructor(code: ProblemCode, detail?: string, errors?: FieldError[]) {
    super(detail ?? problemCodes[code].title);
    this.name = 'ProblemError';
    this.code = code;
    this.status = problemCodes[code].status;
    this.errors = errors;
  }
}

export const notFound = (what = 'resource'): ProblemError => new ProblemError('not_found', `The ${what} does not exist.`);
export const forbidden = (detail = 'You may not do this.'): ProblemError => new ProblemError('forbidden', detail);
export const conflict = (detail: string): ProblemError => new ProblemError('conflict', detail);
export const unauthorized = (detail = 'Authentication is required.'): ProblemError => new ProblemError('unauthorized', detail);
export const invalid = (field: string, message: string): ProblemError =>
  new ProblemError('validation_failed', 'The request is not valid.', [{ field, message }]);

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  errors?: FieldError[];
  request_id?: string;
}

export function problemBody(code: ProblemCode, detail: string, requestId?: string, errors?: FieldError[]): ProblemBody {
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
