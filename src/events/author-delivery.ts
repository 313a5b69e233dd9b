import type { DomainEvent } from './domain-events.ts';

/**
 * A hook on one published event object, for this process only: it is keyed by the object's
 * identity, so it never crosses a bus (shared buses serialise the event; other instances only
 * ever see the event). The gateway takes it when it fans out a `message.created` and calls it
 * after the author's own sessions have the event and before the rest of the channel: the sender's
 * `ack` is written there, so its latency does not grow with the room, and the sender's next
 * round trip overlaps the rest of the fan-out (which still completes, synchronously, before any
 * later event is routed).
 *
 * A hook nobody takes (the event held by a bus sequencer or a gated channel, or no gateway in
 * the process) is simply dropped with the event; the caller then acks when the send returns,
 * as before.
 */
const afterAuthor = new WeakMap<DomainEvent, () => void>();

export function setAfterAuthorDelivery(event: DomainEvent, hook: () => void): void {
  afterAuthor.set(event, hook);
}

/** The hook, once: a second take returns undefined. */
export function takeAfterAuthorDelivery(event: DomainEvent): (() => void) | undefined {
  const hook = afterAuthor.get(event);
  if (hook) afterAuthor.delete(event);
  return hook;
}
