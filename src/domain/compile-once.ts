/**
 * Compilers (Fastify's serializers, our request validators) whose output depends only on a plain
 * JSON input: keep one compiled function per distinct input for the process. The test suite builds
 * an app per test and would otherwise compile the whole contract again each time (about 0.5 s of
 * CPU per app); `npm start` builds one app and sees no difference.
 * An input that is not plain JSON (never from openapi.yaml) is compiled every time, never kept.
 */
export function compileOncePerKey<I, F>(cache: Map<string, F>, keyOf: (input: I) => string, compile: (input: I) => F): (input: I) => F {
  return (input) => {
    let key: string;
    try {
      key = keyOf(input);
    } catch {
      return compile(input);
    }
    let compiled = cache.get(key);
    if (!compiled) {
      compiled = compile(input);
      cache.set(key, compiled);
    }
    return compiled;
  };
}
