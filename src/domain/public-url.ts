/**
 * The public base URL of the server and the `servers` of the published specs.
 *
 * The specs in the repository name `localhost:8080`; the documents the server publishes name the
 * URL its clients actually use: `PUBLIC_URL` when set (a deployment behind a proxy, maybe under a
 * path prefix), otherwise the address the server listens on.
 */

export interface ListenAddress {
  /** The configured HOST (`0.0.0.0` / `::` mean every interface). */
  host: string;
  /** The bound port (the real one when PORT=0). */
  port: number;
  tls: boolean;
}

/** The base URL without a trailing slash. `publicUrl` wins; otherwise the listen address. */
export function publicBaseUrl(publicUrl: string | undefined, listen: ListenAddress): string {
  if (publicUrl !== undefined) return publicUrl.replace(/\/+$/, '');
  // A wildcard address is not something a client can connect to: name this machine as localhost.
  const wildcard = listen.host === '0.0.0.0' || listen.host === '::' || listen.host === '';
  const host = wildcard ? 'localhost' : listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return `${listen.tls ? 'https' : 'http'}://${host}:${listen.port}`;
}

type JsonObject = Record<string, unknown>;

/** The OpenAPI document with one server: the base URL (a copy; the input is not changed). */
export function openApiWithServer<T extends JsonObject>(document: T, baseUrl: string): T {
  return { ...document, servers: [{ url: baseUrl, description: 'This server' }] };
}

/**
 * The AsyncAPI document with its servers pointing at the base URL: host (and path prefix, if any)
 * from the URL, `ws` or `wss` after its scheme. Each server keeps its other fields (security, ...).
 */
export function asyncApiWithServer<T extends JsonObject>(document: T, baseUrl: string): T {
  const url = new URL(baseUrl);
  const pathname = url.pathname.replace(/\/+$/, '');
  const servers = (document.servers ?? {}) as Record<string, JsonObject>;
  const next: Record<string, JsonObject> = {};
  for (const [name, server] of Object.entries(servers)) {
    const { pathname: _previous, ...rest } = server;
    next[name] = {
      ...rest,
      host: url.host,
      protocol: url.protocol === 'https:' ? 'wss' : 'ws',
      ...(pathname ? { pathname } : {}),
      description: 'This server',
    };
  }
  return { ...document, servers: next };
}
