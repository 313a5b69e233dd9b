import createClient, { type Client } from 'openapi-fetch';
import { apiErrorOf, ParleyApiError } from './errors.ts';
import { ParleyGateway, type GatewayOptions } from './gateway-client.ts';
import type { components, paths } from './generated/openapi.ts';
import { MemoryTokenStore, type Tokens, type TokenStore } from './token-store.ts';

export type Schemas = components['schemas'];
export type TokenResponse = Schemas['TokenResponse'];
export type FetchLike = (input: Request, init?: RequestInit) => Promise<Response>;

export interface ParleyClientOptions {
  /** The server's origin, e.g. `https://chat.example.com` (the API lives under /api/v1). */
  baseUrl: string;
  /** Where tokens live; default: in memory. */
  tokenStore?: TokenStore;
  /** The fetch to use (default: the global one), e.g. to add tracing or to validate responses in tests. */
  fetch?: FetchLike;
}

/** Paths that take no access token: their 401 means bad credentials, never "refresh and retry". */
const NO_REFRESH = /\/api\/v1\/auth\/(login|register|refresh)$/;

/**
 * The REST side of Parley: `rest` is an openapi-fetch client typed by openapi.yaml. Every request
 * carries the stored access token; a 401 on an authenticated request renews the tokens with the
 * refresh token (one refresh at a time however many requests failed together) and is retried once.
 */
export class ParleyClient {
  readonly baseUrl: string;
  readonly tokens: TokenStore;
  /** The typed client: `await client.rest.GET('/api/v1/users/@me')` → `{ data, error, response }`. */
  readonly rest: Client<paths>;
  readonly #fetch: FetchLike;
  #refreshing: Promise<Tokens | null> | null = null;
  /** How many refresh requests this client has sent (diagnostics; the single-flight test reads it). */
  refreshCount = 0;

  constructor(options: ParleyClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.tokens = options.tokenStore ?? new MemoryTokenStore();
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.rest = createClient<paths>({ baseUrl: this.baseUrl, fetch: (request: Request) => this.#send(request) });
  }

  async #send(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    const tokens = await this.tokens.get();
    const explicit = request.headers.has('authorization');
    // Keep a copy of the body: the first attempt consumes it, the retry after a refresh needs it.
    const retryCopy = request.clone();
    const first = await this.#fetch(withToken(request, explicit ? null : tokens?.accessToken ?? null));
    if (first.status !== 401 || explicit || NO_REFRESH.test(path) || !tokens) return first;
    const renewed = await this.#renewAfter(tokens.accessToken);
    if (!renewed) return first;
    await first.body?.cancel();
    return this.#fetch(withToken(retryCopy, renewed.accessToken));
  }

  /** Renews unless another request already did since `rejectedToken` was sent. */
  async #renewAfter(rejectedToken: string): Promise<Tokens | null> {
    const current = await this.tokens.get();
    if (current && current.accessToken !== rejectedToken) return current;
    return this.refresh();
  }

  /**
   * Exchanges the refresh token for a new pair and stores it. Concurrent callers share one
   * request. Returns null (and clears the store) when the server refuses the refresh token.
   */
  refresh(): Promise<Tokens | null> {
    this.#refreshing ??= this.#doRefresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #doRefresh(): Promise<Tokens | null> {
    const tokens = await this.tokens.get();
    if (!tokens?.refreshToken) return null;
    this.refreshCount += 1;
    const response = await this.#fetch(
      new Request(`${this.baseUrl}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: tokens.refreshToken }),
      }),
    );
    const body: unknown = await response.json().catch(() => null);
    if (response.status === 401) {
      await this.tokens.set(null);
      return null;
    }
    if (!response.ok) throw apiErrorOf(response, body);
    const issued = body as TokenResponse;
    const next = { accessToken: issued.access_token, refreshToken: issued.refresh_token };
    await this.tokens.set(next);
    return next;
  }

  /** The stored access token (null when logged out). */
  async accessToken(): Promise<string | null> {
    return (await this.tokens.get())?.accessToken ?? null;
  }

  /** Logs in by email or username; stores the tokens. Throws ParleyApiError (`invalid_credentials`, ...). */
  async login(login: string, password: string): Promise<TokenResponse> {
    const issued = await unwrap(this.rest.POST('/api/v1/auth/login', { body: { login, password } }));
    await this.tokens.set({ accessToken: issued.access_token, refreshToken: issued.refresh_token });
    return issued;
  }

  /** Creates an account and stores its tokens. */
  async register(body: Schemas['RegisterRequest']): Promise<TokenResponse> {
    const issued = await unwrap(this.rest.POST('/api/v1/auth/register', { body }));
    await this.tokens.set({ accessToken: issued.access_token, refreshToken: issued.refresh_token });
    return issued;
  }

  /** Revokes the session on the server and forgets the tokens. */
  async logout(): Promise<void> {
    const { response } = await this.rest.POST('/api/v1/auth/logout', {});
    await this.tokens.set(null);
    if (!response.ok && response.status !== 401) throw apiErrorOf(response, null);
  }

  /** A gateway client that authenticates with this client's tokens (call `connect()`). */
  gateway(options: GatewayOptions = {}): ParleyGateway {
    return new ParleyGateway(this, options);
  }

  /** Returns the data of a successful call, or throws its problem as a ParleyApiError. */
  unwrap<R extends ApiResult<unknown>>(call: Promise<R>): Promise<DataOf<R>> {
    return unwrap(call);
  }
}

/** What every `rest.GET/POST/...` call resolves to (openapi-fetch's FetchResponse). */
export type ApiResult<T> = { data: T; error?: never; response: Response } | { data?: never; error: unknown; response: Response };
/** The success data of such a result. */
export type DataOf<R> = R extends { data: infer D; error?: never } ? D : never;

/**
 * `await unwrap(client.rest.GET(...))`: the data of a 2xx answer (undefined for 204), otherwise a
 * thrown ParleyApiError with the problem's status, code and errors[].
 */
export async function unwrap<R extends ApiResult<unknown>>(call: Promise<R>): Promise<DataOf<R>> {
  const result = await call;
  if (result.response.ok) return result.data as DataOf<R>;
  throw apiErrorOf(result.response, result.error);
}

function withToken(request: Request, token: string | null): Request {
  // A Request's headers are mutable (guard "request"); rebuilding the Request would need the body again.
  if (token !== null) request.headers.set('authorization', `Bearer ${token}`);
  return request;
}

export { ParleyApiError };
