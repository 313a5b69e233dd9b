/**
 * Where the OAuth callback may send a browser afterwards (`redirect_to`): a path on this server,
 * or an absolute http(s) URL whose origin is on the configured allowlist. Anything else would make
 * Parley an open redirector (a login link that lands on a phishing page), so it is refused.
 *
 * Pure: config.ts checks OAUTH_DEFAULT_REDIRECT and the allowlist with it at start, the OAuth
 * service checks each `redirect_to`.
 */

// A base that cannot be a real origin: a relative target that resolves elsewhere escaped its path.
const LOCAL_BASE = 'http://parley.invalid';
// Controls and whitespace (browsers strip tabs and newlines inside URLs, so `/\t/evil` is `//evil`).
const UNSAFE_CHARACTERS = /[\u0000-\u0020\u007f-\u009f\\]/;

/** Why `target` is not an allowed redirect, or null when it is. */
export function redirectTargetProblem(target: string, allowedOrigins: readonly string[]): string | null {
  if (target.length === 0) return 'is empty';
  if (UNSAFE_CHARACTERS.test(target)) return 'contains whitespace, control characters or backslashes';
  if (target.startsWith('/')) {
    // `//evil.example/` is protocol-relative: another host, not a path.
    if (target.startsWith('//')) return 'is a protocol-relative URL (another host)';
    const resolved = new URL(target, LOCAL_BASE);
    return resolved.origin === LOCAL_BASE ? null : 'leaves this server';
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return 'is neither a path on this server nor an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `uses the scheme ${url.protocol} (only http and https)`;
  if (url.username !== '' || url.password !== '') return 'carries credentials';
  const origins = new Set(allowedOrigins.map(originOf));
  return origins.has(url.origin) ? null : `its origin ${url.origin} is not in OAUTH_REDIRECT_ALLOWLIST`;
}

/** Problems with allowlist entries: each must be a bare http(s) origin (`https://app.example.com`). */
export function redirectAllowlistProblems(allowedOrigins: readonly string[]): string[] {
  const problems: string[] = [];
  for (const entry of allowedOrigins) {
    const origin = originOf(entry);
    if (origin === 'null' || origin !== entry.replace(/\/$/, '')) {
      problems.push(`"${entry}" is not an origin (scheme://host[:port], no path)`);
    }
  }
  return problems;
}

/** `target` with `error=<code>` added to its query (a path stays a path). */
export function withErrorCode(target: string, code: string): string {
  const absolute = !target.startsWith('/');
  const url = new URL(target, LOCAL_BASE);
  url.searchParams.set('error', code);
  return absolute ? url.href : `${url.pathname}${url.search}${url.hash}`;
}

function originOf(entry: string): string {
  try {
    const url = new URL(entry);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : 'null';
  } catch {
    return 'null';
  }
}
