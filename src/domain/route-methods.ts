/**
 * Which methods a path supports, from the registered routes: a request whose path some route
 * serves, but not with its method, is a 405 with `Allow` (RFC 9110 §15.5.6); a path no route
 * serves stays a 404. Pure: fed from Fastify's `onRoute` hook, asked by the not-found handler.
 *
 * Route URLs use Fastify's syntax: `:name` (optionally `:name(regex)`) matches one non-empty
 * segment, `*` the rest of the path. A bare catch-all (`*`, `/*`: @fastify/cors's OPTIONS route)
 * serves every path, so it adds its methods to every known path without making any path known.
 * GET implies HEAD, as Fastify registers a HEAD route for each GET route.
 */
export class RouteMethods {
  readonly #routes: Array<{ pattern: RegExp; methods: Set<string> }> = [];
  readonly #byUrl = new Map<string, Set<string>>();
  readonly #everywhere = new Set<string>();

  add(url: string, method: string | readonly string[]): void {
    const methods = (typeof method === 'string' ? [method] : method).map((name) => name.toUpperCase());
    if (methods.includes('GET')) methods.push('HEAD');
    if (url === '*' || url === '/*') {
      for (const name of methods) this.#everywhere.add(name);
      return;
    }
    let known = this.#byUrl.get(url);
    if (!known) {
      known = new Set();
      this.#byUrl.set(url, known);
      this.#routes.push({ pattern: compile(url), methods: known });
    }
    for (const name of methods) known.add(name);
  }

  /** The methods some route serves `path` with (sorted), or [] when no route serves it. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.#routes) {
      if (route.pattern.test(path)) for (const name of route.methods) methods.add(name);
    }
    if (methods.size === 0) return [];
    for (const name of this.#everywhere) methods.add(name);
    return [...methods].sort();
  }
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function compile(url: string): RegExp {
  let source = '';
  for (let index = 0; index < url.length; ) {
    const char = url[index]!;
    if (char === '*') {
      source += '.*';
      index += 1;
    } else if (char === ':' && url[index + 1] === ':') {
      // `::` is Fastify's escaped literal colon.
      source += ':';
      index += 2;
    } else if (char === ':') {
      index += 1;
      while (index < url.length && /[\w$]/.test(url[index]!)) index += 1;
      if (url[index] === '(') {
        // Skip the parameter's own regex: the method check needs no more than "one segment".
        let depth = 0;
        for (; index < url.length; index += 1) {
          if (url[index] === '(') depth += 1;
          else if (url[index] === ')' && --depth === 0) break;
        }
        index += 1;
      }
      source += '[^/]+';
    } else {
      source += escape(char);
      index += 1;
    }
  }
  return new RegExp(`^${source}$`);
}
