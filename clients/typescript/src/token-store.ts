/** The tokens of one login: the short-lived access token and the refresh token that renews it. */
export interface Tokens {
  accessToken: string;
  /** Null when the app only has an access token (it then cannot be renewed). */
  refreshToken: string | null;
}

/**
 * Where the client keeps its tokens. Plug in your own to persist them (localStorage, a keychain,
 * a database row per bot): the client reads before every request and writes after every login
 * and refresh (refresh tokens rotate on every use, so the stored one must be replaced each time).
 */
export interface TokenStore {
  get(): Tokens | null | Promise<Tokens | null>;
  set(tokens: Tokens | null): void | Promise<void>;
}

/** The default store: tokens live as long as the client object. */
export class MemoryTokenStore implements TokenStore {
  #tokens: Tokens | null;

  constructor(tokens: Tokens | null = null) {
    this.#tokens = tokens;
  }

  get(): Tokens | null {
    return this.#tokens;
  }

  set(tokens: Tokens | null): void {
    this.#tokens = tokens;
  }
}
