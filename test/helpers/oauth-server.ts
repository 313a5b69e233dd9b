import type { Test } from 'tap';
import { startLocalOAuthServer, type LocalOAuthServer } from '../../scripts/oauth-dev-server.ts';
import { contractViolations, headerViolations } from './contract.ts';

export { CLIENTS, type LocalOAuthServer } from '../../scripts/oauth-dev-server.ts';

/**
 * A real OAuth2 / OpenID Connect server on a loopback port playing Google, GitHub and Facebook
 * (scripts/oauth-dev-server.ts, the one the README's walk-through runs), stopped after the test.
 */
export async function startOAuthServer(t: Test): Promise<LocalOAuthServer> {
  const local = await startLocalOAuthServer(0);
  t.teardown(() => local.server.stop());
  return local;
}

interface Cookie {
  value: string;
  path: string;
}

export interface BrowserResult {
  /** The last response the browser received. */
  status: number;
  headers: Headers;
  body: any;
  /** Where the last redirect pointed (outside Parley's OAuth routes and the provider), if any. */
  landedAt: string | null;
  /** Every URL requested, in order. */
  visited: string[];
}

/**
 * A browser's view of the login: a cookie jar (name, value, path; one host, 127.0.0.1), and
 * redirects followed hop by hop while they stay on Parley's OAuth routes or the provider. Every
 * Parley response on the way is checked against openapi.yaml like the `api` helper does.
 */
export class Browser {
  readonly jar = new Map<string, Cookie>();
  readonly t: Test;
  readonly baseUrl: string;
  readonly providerOrigin: string;

  constructor(t: Test, baseUrl: string, providerOrigin: string) {
    this.t = t;
    this.baseUrl = baseUrl;
    this.providerOrigin = new URL(providerOrigin).origin;
  }

  cookieHeader(url: URL): string {
    return [...this.jar]
      .filter(([, cookie]) => url.pathname === cookie.path || url.pathname.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`))
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join('; ');
  }

  private store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      let path = '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key = '', attributeValue = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = attributeValue;
        if (key.toLowerCase() === 'max-age' && Number(attributeValue) <= 0) expired = true;
        if (key.toLowerCase() === 'expires' && Date.parse(attributeValue) <= Date.now()) expired = true;
      }
      if (expired) this.jar.delete(name);
      else this.jar.set(name, { value, path });
    }
  }

  /** One request, no redirect followed; Parley's responses are validated against openapi.yaml. */
  async request(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
    const target = new URL(url, this.baseUrl);
    const cookie = this.cookieHeader(target);
    const response = await fetch(target, {
      redirect: 'manual',
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', ...headers, ...(cookie ? { cookie } : {}) },
    });
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? undefined;
    const body = contentType?.includes('json') && text !== '' ? JSON.parse(text) : text === '' ? undefined : text;
    if (target.origin === new URL(this.baseUrl).origin) {
      const path = `${target.pathname}${target.search}`;
      const violations = [
        ...contractViolations('GET', path, response.status, contentType, body),
        ...headerViolations('GET', path, response.status, response.headers),
      ];
      if (violations.length > 0) this.t.fail(`response breaks openapi.yaml: ${violations.join('; ')}`, { body });
    }
    this.store(response.headers);
    return { status: response.status, headers: response.headers, body };
  }

  /**
   * Navigates to `url` and follows the redirects through the provider and back. `beforeProvider`
   * may rewrite the authorization URL (an attacker's changed PKCE challenge); `beforeCallback` the
   * callback URL (a forged state), or return null to stop there (to replay it later).
   */
  async navigate(
    url: string,
    options: {
      accept?: string;
      beforeProvider?: (url: URL) => void;
      beforeCallback?: (url: URL) => URL | null;
    } = {},
  ): Promise<BrowserResult & { stoppedAt?: string }> {
    const visited: string[] = [];
    let next = new URL(url, this.baseUrl);
    for (let hop = 0; hop < 10; hop += 1) {
      const onProvider = next.origin === this.providerOrigin;
      if (onProvider && options.beforeProvider) options.beforeProvider(next);
      if (!onProvider && next.pathname.endsWith('/callback') && options.beforeCallback) {
        const changed = options.beforeCallback(next);
        if (changed === null) return { status: 0, headers: new Headers(), body: undefined, landedAt: null, visited, stoppedAt: next.href };
        next = changed;
      }
      visited.push(next.href);
      const headers: Record<string, string> = options.accept && !onProvider ? { accept: options.accept } : {};
      const response = await this.request(next.href, headers);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { ...response, landedAt: null, visited };
      const target = new URL(location, next);
      const ours = target.origin === new URL(this.baseUrl).origin && target.pathname.startsWith('/api/v1/auth/oauth/');
      if (!ours && target.origin !== this.providerOrigin) {
        // Left the login: report where the browser would land, relative as Parley sent it.
        return { ...response, landedAt: location, visited };
      }
      next = target;
    }
    throw new Error(`too many redirects: ${visited.join(' -> ')}`);
  }
}
