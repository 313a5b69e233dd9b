/**
 * Calls operations of the served OpenAPI document by operationId (method and path come from the
 * document, so a deployment that moved a path is followed, and one that dropped an operation is a
 * failure), and checks every response against it.
 */
import type { OpenApiContract } from './openapi-contract.ts';
import type { Report } from './report.ts';

export interface CallOptions {
  path?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  token?: string | undefined;
  /** The statuses that mean the step worked (any other one is a failure and stops the step). */
  expect: number[];
  /** Shown after the operationId, e.g. `(no token)`. */
  note?: string;
}

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

export class RestClient {
  readonly base: string;
  readonly contract: OpenApiContract;
  readonly report: Report;

  constructor(base: string, contract: OpenApiContract, report: Report) {
    this.base = base;
    this.contract = contract;
    this.report = report;
  }

  async call(operationId: string, options: CallOptions): Promise<CallResult> {
    const name = options.note ? `${operationId} ${options.note}` : operationId;
    const operation = this.contract.operations.get(operationId);
    if (!operation) return this.report.abort(name, 'is not in the served OpenAPI document');
    let url = this.base + operation.path.replace(/\{([^}]+)\}/g, (_, key: string) => {
      const value = options.path?.[key];
      if (value === undefined) throw new Error(`${operationId}: no value for path parameter ${key}`);
      return encodeURIComponent(value);
    });
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) query.set(key, String(value));
    if (query.size > 0) url += `?${query}`;
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json, */*' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const label = `${operation.method} ${operation.path}`;
    let response: Response;
    try {
      response = await fetch(url, { method: operation.method, headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
    } catch (error) {
      this.report.exercised.add(operationId);
      return this.report.abort(name, `${label}: request failed: ${(error as Error).message}`);
    }
    const text = await response.text();
    this.report.exercised.add(operationId);
    let parsed: any = text;
    try {
      if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    } catch {
      // reported by the contract check below
    }
    const result = { status: response.status, headers: response.headers, text, body: parsed };
    const outcome = `${label} -> ${response.status}`;
    const violations = this.contract.violations(operationId, response.status, response.headers, text);
    if (response.status === 429) {
      const retry = response.headers.get('retry-after');
      return this.report.abort(
        name,
        `${outcome}: rate limited by the deployment${retry ? ` (Retry-After: ${retry} s)` : ''}; run again later or raise its budgets` +
          (violations.length > 0 ? `; also: ${violations.join('; ')}` : ''),
      );
    }
    if (!options.expect.includes(response.status)) {
      const problem = typeof parsed === 'object' && parsed ? ` ${parsed.code ?? ''} ${parsed.detail ?? ''}`.trimEnd() : '';
      return this.report.abort(
        name,
        `${outcome}: expected ${options.expect.join(' or ')}${problem ? ` (got${problem})` : ''}` +
          (violations.length > 0 ? `; also: ${violations.join('; ')}` : ''),
      );
    }
    if (violations.length > 0) this.report.fail(name, `${outcome}: ${violations.join('; ')}`);
    else this.report.pass(name, outcome);
    return result;
  }

  /** Checks a response fetched elsewhere (the spec documents themselves) as `operationId`. */
  check(operationId: string, status: number, headers: Headers, text: string): void {
    const operation = this.contract.operations.get(operationId);
    if (!operation) {
      this.report.fail(operationId, 'is not in the served OpenAPI document');
      return;
    }
    this.report.exercised.add(operationId);
    const outcome = `${operation.method} ${operation.path} -> ${status}`;
    const violations = this.contract.violations(operationId, status, headers, text);
    if (violations.length > 0) this.report.fail(operationId, `${outcome}: ${violations.join('; ')}`);
    else this.report.pass(operationId, outcome);
  }
}
