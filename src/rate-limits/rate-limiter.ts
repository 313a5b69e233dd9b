import { decide, mostRestrictive, type LimitDecision } from '../domain/fixed-window-limiter.ts';
import { rateLimitKey, type BudgetName, type Budgets, type KeyPart } from '../domain/rate-limit-budgets.ts';
import type { CounterStore } from './counter-store.ts';

export type KeyParts = Partial<Record<KeyPart, string>>;

/**
 * Spends budgets of the table (src/domain/rate-limit-budgets.ts) in a counter store, with an
 * injected clock. The REST hook (src/plugins/rate-limit-plugin.ts) and the gateway call the same
 * instance, so an operation and a frame naming one budget share its count.
 */
export class RateLimiter {
  readonly budgets: Budgets;
  readonly #store: CounterStore;
  readonly #now: () => number;

  constructor(options: { budgets: Budgets; store: CounterStore; now?: () => number }) {
    this.budgets = options.budgets;
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Spends one unit of every named budget (at least one); answers with the most restrictive
   * decision and the budget it belongs to.
   */
  async spend(names: readonly BudgetName[], parts: KeyParts): Promise<SpendResult> {
    const now = this.#now();
    const decisions = await Promise.all(
      names.map(async (name) => {
        const budget = this.budgets[name];
        const window = await this.#store.hit(rateLimitKey(name, budget, parts), budget.windowMs, now);
        return { ...decide(budget.limit, window, now), budget: name };
      }),
    );
    const worst = mostRestrictive(decisions);
    if (!worst) throw new RangeError('spend needs at least one budget');
    return worst;
  }
}

export type SpendResult = LimitDecision & { budget: BudgetName };

/** The refusal's human text: which budget, its size, and when to retry. */
export function rateLimitedDetail(result: SpendResult, budgets: Budgets): string {
  const { limit, windowMs } = budgets[result.budget];
  const window = windowMs % 1000 === 0 ? `${windowMs / 1000} s` : `${windowMs} ms`;
  return `Rate limit ${result.budget} (${limit} per ${window}) exceeded; retry in ${result.resetSeconds} s.`;
}
