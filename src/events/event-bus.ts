import type { DomainEvent } from './domain-events.ts';

export type EventListener = (event: DomainEvent) => void;

/**
 * Domain events are published here after their transaction commits. The gateway subscribes;
 * a multi-instance implementation (Redis) can replace the in-process one behind this interface.
 */
export interface EventBus {
  publish(event: DomainEvent): void;
  subscribe(listener: EventListener): () => void;
  close(): Promise<void>;
}

export class InProcessEventBus implements EventBus {
  readonly #listeners = new Set<EventListener>();
  readonly #onListenerError: (error: unknown, event: DomainEvent) => void;

  constructor(onListenerError: (error: unknown, event: DomainEvent) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  publish(event: DomainEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}

/** Records published events; tests use it to assert what a request announced. */
export function recordEvents(bus: EventBus): { events: DomainEvent[]; stop: () => void } {
  const events: DomainEvent[] = [];
  const stop = bus.subscribe((event) => events.push(event));
  return { events, stop };
}
