/** Reconnect delays: exponential with "equal jitter" (half fixed, half random) and a ceiling. */
export interface BackoffOptions {
  /** First delay before jitter (ms). Default 250. */
  initialMs?: number;
  /** Ceiling before jitter (ms). Default 30000. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first after a drop). `random` returns
 * [0, 1) (Math.random, or a fixed function in tests): the result is in [base/2, base).
 */
export function backoffDelay(attempt: number, random: () => number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 250;
  const max = options.maxMs ?? 30_000;
  const factor = options.factor ?? 2;
  const base = Math.min(max, initial * factor ** Math.max(0, Math.min(attempt, 64)));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(base / 2 + (base / 2) * r);
}
