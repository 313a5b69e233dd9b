import type { FastifyBaseLogger } from 'fastify';

type Bindings = Record<string, unknown>;
type LevelAware = FastifyBaseLogger & { isLevelEnabled(level: string): boolean };
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * A request's logger whose pino child (the request id bound into every line) is built on the first
 * line actually written. Fastify builds a child per request (`logger.child({ reqId })`: a new
 * object, its bindings serialised to JSON), but with LOG_LEVEL above `info` (production: `warn`) a
 * successful request writes no line at all, so that child was garbage on every request. Lines at
 * an enabled level (a warning, an error) go through the real child with the same bindings: error
 * logs still carry the request id.
 */
class DeferredChildLogger {
  readonly #parent: LevelAware;
  readonly #bindings: Bindings;
  readonly #options: object;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: LevelAware, bindings: Bindings, options: object) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  /** The real child, built once, on the first line written (or anything that needs it). */
  real(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options));
  }

  get level(): string {
    return this.#child?.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return ((this.#child as LevelAware | undefined) ?? this.#parent).isLevelEnabled(level);
  }

  child(bindings: Bindings, options?: object): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  bindings(): Bindings {
    return (this.real() as unknown as { bindings(): Bindings }).bindings();
  }

  silent(): void {}
}

for (const level of LEVELS) {
  Object.defineProperty(DeferredChildLogger.prototype, level, {
    value(this: DeferredChildLogger, ...args: unknown[]) {
      if (!this.isLevelEnabled(level)) return;
      (this.real()[level] as (...args: unknown[]) => void)(...args);
    },
  });
}

/**
 * Fastify's `childLoggerFactory`. At `info` or below every request writes lines (`incoming
 * request`, `request completed`), so the child is built at once, as Fastify's default does; above
 * it, only when a line is written. Loggers without levels (Fastify's disabled logger) get the default.
 */
export function deferredChildLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: object): FastifyBaseLogger {
  const aware = logger as LevelAware;
  if (typeof aware.isLevelEnabled !== 'function' || aware.isLevelEnabled('info')) return logger.child(bindings, options);
  return new DeferredChildLogger(aware, bindings, options) as unknown as FastifyBaseLogger;
}
