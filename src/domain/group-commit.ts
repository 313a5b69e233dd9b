/**
 * Group commit: items submitted while earlier batches are running are gathered and handed to
 * `run` together, so N concurrent writers share one transaction (one set of round trips and one
 * WAL flush) instead of paying for N. Pure (no I/O): `run` does the work.
 *
 * - No timer: an item submitted while fewer than `maxInFlight` batches run starts at once (a lone
 *   writer waits for nothing); batches only grow while the runner is busy, which is exactly when
 *   sharing a commit pays.
 * - Items with the same key never share a batch and never run concurrently, and run in submit
 *   order: the runner may rely on "one item per key" (e.g. one message per channel per statement).
 * - `run` returns one outcome per item, in order. When it throws an error that `retryAlone`
 *   accepts (one known to have undone the batch), the batch's items are retried one at a time, so
 *   one bad item fails alone and never takes its neighbours down with it. Any other error (say, a
 *   lost connection: did the commit happen?) fails every item of the batch, as it would fail a
 *   lone writer, rather than risk doing the work twice.
 */
export interface GroupCommitOptions<I, O> {
  /** Most items in one batch. */
  maxBatch: number;
  /** Most batches running at once (each holds, say, one pooled connection). */
  maxInFlight: number;
  keyOf: (item: I) => string;
  run: (items: readonly I[]) => Promise<readonly O[]>;
  /** Whether a failed batch may be retried item by item (default: always). */
  retryAlone?: (error: unknown) => boolean;
}

interface Pending<I, O> {
  item: I;
  key: string;
  resolve: (outcome: O) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<I, O> {
  readonly #options: GroupCommitOptions<I, O>;
  #queue: Pending<I, O>[] = [];
  readonly #busyKeys = new Set<string>();
  #inFlight = 0;

  constructor(options: GroupCommitOptions<I, O>) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) throw new RangeError('maxInFlight must be a positive integer');
    this.#options = options;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, key: this.#options.keyOf(item), resolve, reject });
      this.#pump();
    });
  }

  /** Batches running now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Items waiting for a batch. */
  get queued(): number {
    return this.#queue.length;
  }

  #pump(): void {
    while (this.#inFlight < this.#options.maxInFlight) {
      const batch = this.#takeBatch();
      if (batch.length === 0) return;
      this.#inFlight += 1;
      void this.#execute(batch).finally(() => {
        for (const pending of batch) this.#busyKeys.delete(pending.key);
        this.#inFlight -= 1;
        this.#pump();
      });
    }
  }

  /** The oldest waiting items, at most one per key and none whose key is running; the rest keep their order. */
  #takeBatch(): Pending<I, O>[] {
    const batch: Pending<I, O>[] = [];
    const rest: Pending<I, O>[] = [];
    for (const pending of this.#queue) {
      if (batch.length < this.#options.maxBatch && !this.#busyKeys.has(pending.key)) {
        this.#busyKeys.add(pending.key);
        batch.push(pending);
      } else {
        rest.push(pending);
      }
    }
    this.#queue = rest;
    return batch;
  }

  async #execute(batch: Pending<I, O>[]): Promise<void> {
    try {
      this.#settle(batch, await this.#options.run(batch.map((pending) => pending.item)));
      return;
    } catch (error) {
      if (batch.length === 1 || !(this.#options.retryAlone?.(error) ?? true)) {
        for (const pending of batch) pending.reject(error);
        return;
      }
    }
    for (const pending of batch) {
      try {
        this.#settle([pending], await this.#options.run([pending.item]));
      } catch (error) {
        pending.reject(error);
      }
    }
  }

  #settle(batch: Pending<I, O>[], outcomes: readonly O[]): void {
    if (outcomes.length !== batch.length) {
      const error = new Error(`group commit: run returned ${outcomes.length} outcomes for ${batch.length} items`);
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, index) => pending.resolve(outcomes[index]!));
  }
}
