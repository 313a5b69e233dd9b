/**
 * A per-key async mutex: `run(key, fn)` runs `fn` after every earlier `run` with the same key has
 * settled; different keys never wait for each other. Per-channel mutations run under it so that,
 * in one process, events are published in the order their transactions committed.
 * Pure (no I/O); a key's entry is dropped when its queue drains.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.#tails.set(key, tail);
    return previous.then(async () => {
      try {
        return await fn();
      } finally {
        release();
        if (this.#tails.get(key) === tail) this.#tails.delete(key);
      }
    });
  }

  /** Keys with a running or queued task. */
  get activeKeys(): number {
    return this.#tails.size;
  }
}
