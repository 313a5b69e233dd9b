/**
 * What a shared event bus needs from its carrier (Redis pub/sub, PostgreSQL LISTEN/NOTIFY): send a
 * text to every instance, hand over what arrives, and say when the carrier was lost or is back.
 * Delivery is at most once and ordered per sender; SharedEventBus adds the rest (see there).
 */
export interface BusTransport {
  /** `redis` or `postgres`: named by /health/ready when it is down. */
  readonly name: string;
  /**
   * Starts receiving. `onState('down')` when the subscription is lost, `onState('up')` once it is
   * in effect again (what was sent in between may be lost). Resolves once subscribed, or rejects.
   */
  start(onMessage: (payload: string) => void, onState: (state: 'up' | 'down') => void): Promise<void>;
  /** Sends to every instance (this one too); rejects when the carrier did not take it. */
  send(payload: string): Promise<void>;
  close(): Promise<void>;
}
