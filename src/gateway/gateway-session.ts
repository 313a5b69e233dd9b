import type { OutboundEvent } from './outbound-event.ts';
import { ResumeBuffer } from './resume-buffer.ts';

/** What a session needs from the connection it is attached to. */
export interface SessionSink {
  sendEvent(event: OutboundEvent, seq: number): void;
}

/**
 * A resumable gateway session: the identity announced in `hello`, its per-session `seq` and the
 * log of its recent events. It outlives its connection: after a disconnect it stays subscribed
 * (events keep being recorded) until it is resumed or the resume window passes.
 */
export class GatewaySession {
  readonly id: string;
  readonly userId: string;
  /** The auth session (the access token's `sid`) the session was last authenticated with. */
  authSessionId: string;
  readonly events: ResumeBuffer<OutboundEvent>;
  sink: SessionSink | null = null;
  /** Date.now() when the connection went away (0 while attached). */
  detachedAt = 0;

  constructor(id: string, userId: string, authSessionId: string, maxEvents: number, windowMs: number) {
    this.id = id;
    this.userId = userId;
    this.authSessionId = authSessionId;
    this.events = new ResumeBuffer(maxEvents, windowMs);
  }

  get attached(): boolean {
    return this.sink !== null;
  }

  /** Records the event with the session's next seq and writes it to the connection, if any. */
  deliver(event: OutboundEvent): boolean {
    const seq = this.events.push(event, event.at);
    if (this.sink === null) return false;
    this.sink.sendEvent(event, seq);
    return true;
  }
}
