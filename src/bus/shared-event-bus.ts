import { randomBytes } from 'node:crypto';
import { ChannelSequencer, type Place, type Sequenced } from '../domain/channel-sequencer.ts';
import type { DomainEvent, EventSeq } from '../events/domain-events.ts';
import type { EventBus, EventListener } from '../events/event-bus.ts';
import type { PresenceSnapshot, VisibleStatus } from '../domain/presence-snapshots.ts';
import type { BusTransport } from './bus-transport.ts';

/** The messages committed strictly between two ids of a channel, oldest first, as message.created events. */
export type GapFiller = (channelId: string, afterId: string | null, beforeId: string) => Promise<DomainEvent[]>;

export interface SharedEventBusOptions {
  transport: BusTransport;
  fillGap: GapFiller;
  /**
   * An id at or below which no id allocated from now on can be (channels-repository chainFloor):
   * read before listening, it is where a channel's chain seen for the first time may start.
   */
  readFloor: () => Promise<string>;
  /** How long a message waits for its predecessor before the gap is read from the database. */
  holdMs: number;
  onError: (error: unknown, context: string) => void;
  now?: () => number;
}

type Envelope =
  /** `o`: the publishing instance: its own messages come back from the carrier and are skipped. */
  | { o: string; e: DomainEvent }
  /** A presence snapshot of instance `o` (src/presence/global-presence.ts). */
  | { o: string; p: PresenceSnapshot }
  /** A presence change on instance `o`, for the `presence_updated` frames of the others. */
  | { o: string; c: PresenceChangeMessage };

/** A user's visible presence moved on one instance; `channel_ids`: the user's channels there. */
export interface PresenceChangeMessage {
  user_id: string;
  status: VisibleStatus;
  last_seen_at: number | null;
  channel_ids: string[];
}

/** The channel an event belongs to, for per-channel ordering (undefined: not channel-scoped). */
function channelOf(event: DomainEvent): string | undefined {
  return 'channel_id' in event ? event.channel_id : event.type === 'channel.updated' ? event.channel.id : undefined;
}

const slotOf = (seq: EventSeq): Sequenced => ({ id: BigInt(seq.id), prev: seq.prev_id === null ? null : BigInt(seq.prev_id), event: true });

/**
 * An event's place in its channel's chain: a message's own id after its predecessor, or the slot an
 * edit, deletion, membership or channel change took in its transaction (channels-repository
 * takeEventSlot), so a member.left committed before a message is delivered before it on every
 * instance.
 */
function sequenceOf(event: DomainEvent): Sequenced | undefined {
  if (event.type === 'message.created') {
    if (event.prev_id === undefined) return undefined;
    return { id: BigInt(event.message.id), prev: event.prev_id === null ? null : BigInt(event.prev_id) };
  }
  if ('seq' in event && event.seq !== undefined) return slotOf(event.seq);
  return undefined;
}

/**
 * Where an event sits in the channels' order: one place for a channel event; one per text channel
 * of the guild for a guild-wide change that took slots (takeGuildEventSlots); undefined when it is
 * in no channel's order (delivered as it comes).
 */
function placesOf(event: DomainEvent): Place[] | undefined {
  if ('seqs' in event && event.seqs !== undefined) {
    return Object.entries(event.seqs).map(([channelId, seq]) => ({ channelId, seq: slotOf(seq) }));
  }
  const channelId = channelOf(event);
  return channelId === undefined ? undefined : [{ channelId, seq: sequenceOf(event) }];
}

/**
 * An EventBus shared by every instance through a carrier (Redis, PostgreSQL NOTIFY).
 *
 * - Local events go to this instance's listeners at once (no round trip) and to the carrier for
 *   the others; an instance skips its own events when they come back.
 * - Per channel, everything passes a ChannelSequencer, local and remote alike: message.created
 *   events carry their predecessor's id, so a message published by another instance before the
 *   message committed ahead of it waits for it (or, after `holdMs`, for a database read of the
 *   gap). Order equals history order, and nothing is delivered twice. A guild-wide change (kick,
 *   role change) carries a slot in every channel of its guild and goes out when all of those
 *   chains have reached it (src/domain/channel-sequencer.ts).
 * - A channel's chain seen for the first time starts at the floor read before listening (or
 *   listening again), so an earlier event still in flight is waited for, not dropped.
 * - When the carrier is lost, events may have been missed without a trace: once it is back the
 *   bus calls its resync listeners (the gateway invalidates its sessions: clients recover through
 *   history `after`). A failed publish does the same on this instance.
 */
export class SharedEventBus implements EventBus {
  readonly instanceId = randomBytes(8).toString('base64url');
  readonly #options: SharedEventBusOptions;
  readonly #listeners = new Set<EventListener>();
  readonly #resyncListeners = new Set<(reason: string) => void>();
  readonly #presenceListeners = new Set<(instanceId: string, snapshot: PresenceSnapshot) => void>();
  readonly #presenceChangeListeners = new Set<(instanceId: string, change: PresenceChangeMessage) => void>();
  #sequencer = new ChannelSequencer<DomainEvent>();
  /** While the floor is read again after a reconnect, events wait here (in order). */
  #pending: DomainEvent[] | null = null;
  readonly #filling = new Set<string>();
  readonly #now: () => number;
  #up = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  /** Events received from other instances (tests, metrics). */
  received = 0;

  constructor(options: SharedEventBusOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get name(): string {
    return this.#options.transport.name;
  }

  /** True while the carrier's subscription is in effect. */
  get healthy(): boolean {
    return this.#up;
  }

  async start(): Promise<void> {
    // Read before subscribing: everything allocated after it is delivered here, in order.
    this.#sequencer = new ChannelSequencer<DomainEvent>({ floor: BigInt(await this.#options.readFloor()) });
    await this.#options.transport.start(
      (payload) => this.#receive(payload),
      (state) => {
        this.#up = state === 'up';
        if (state === 'up') {
          // Sessions start over from history: chains start afresh too (no fill of the outage's
          // messages into sessions that read them from history), from a floor read now.
          this.#restartChains();
          this.#resync(`${this.name} bus reconnected`);
        }
      },
    );
    this.#up = true;
    const tick = Math.max(5, Math.floor(this.#options.holdMs / 2));
    this.#timer = setInterval(() => this.#fillGaps(), tick);
    this.#timer.unref();
  }

  publish(event: DomainEvent): void {
    if (this.#closed) return;
    this.#accept(event);
    const envelope: Envelope = { o: this.instanceId, e: event };
    this.#options.transport.send(JSON.stringify(envelope)).catch((error: unknown) => {
      this.#options.onError(error, `${this.name} bus publish failed`);
      // The other instances will not see it: their sessions resync when the carrier is back. Ours
      // got it; but if the carrier is down, we resync then too.
    });
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Sends this instance's presence snapshot to the others (best effort: the next one follows). */
  publishPresence(snapshot: PresenceSnapshot): void {
    if (this.#closed) return;
    const envelope: Envelope = { o: this.instanceId, p: snapshot };
    this.#options.transport.send(JSON.stringify(envelope)).catch(() => {});
  }

  /** Sends a presence change to the others (best effort: the next snapshot corrects the counts). */
  publishPresenceChange(change: PresenceChangeMessage): void {
    if (this.#closed) return;
    const envelope: Envelope = { o: this.instanceId, c: change };
    this.#options.transport.send(JSON.stringify(envelope)).catch(() => {});
  }

  onPresenceChange(listener: (instanceId: string, change: PresenceChangeMessage) => void): () => void {
    this.#presenceChangeListeners.add(listener);
    return () => this.#presenceChangeListeners.delete(listener);
  }

  onPresence(listener: (instanceId: string, snapshot: PresenceSnapshot) => void): () => void {
    this.#presenceListeners.add(listener);
    return () => this.#presenceListeners.delete(listener);
  }

  /** Called when events may have been missed (the carrier was lost and is back). */
  onResync(listener: (reason: string) => void): () => void {
    this.#resyncListeners.add(listener);
    return () => this.#resyncListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#listeners.clear();
    await this.#options.transport.close();
  }

  #receive(payload: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload) as Envelope;
    } catch (error) {
      this.#options.onError(error, 'unreadable bus payload');
      return;
    }
    if (envelope.o === this.instanceId) return;
    if ('p' in envelope) {
      for (const listener of this.#presenceListeners) listener(envelope.o, envelope.p);
      return;
    }
    if ('c' in envelope) {
      for (const listener of this.#presenceChangeListeners) listener(envelope.o, envelope.c);
      return;
    }
    this.received += 1;
    this.#accept(envelope.e);
  }

  #accept(event: DomainEvent): void {
    if (this.#pending) {
      this.#pending.push(event);
      return;
    }
    const places = placesOf(event);
    if (places === undefined) {
      this.#emit(event);
      return;
    }
    for (const ready of this.#sequencer.acceptAt(places, event, this.#now())) this.#emit(ready);
    if (event.type === 'channel.deleted') for (const ready of this.#sequencer.forget(event.channel_id, this.#now())) this.#emit(ready);
  }

  /**
   * New chains from a floor read now. The events that arrive meanwhile (the read is one query)
   * wait, then go through the new chains in order. If the read fails, chains start at their first
   * event's predecessor (the sessions were told to resync anyway).
   */
  #restartChains(): void {
    const pending: DomainEvent[] = [];
    this.#pending = pending;
    const restart = (floor: bigint | null) => {
      if (this.#pending !== pending) return;
      this.#sequencer = new ChannelSequencer<DomainEvent>({ floor });
      this.#pending = null;
      for (const event of pending) this.#accept(event);
    };
    this.#options.readFloor().then(
      (floor) => restart(BigInt(floor)),
      (error: unknown) => {
        this.#options.onError(error, 'bus chain floor read failed; chains start at their first event');
        restart(null);
      },
    );
  }

  #emit(event: DomainEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#options.onError(error, `event listener failed (${event.type})`);
      }
    }
  }

  #resync(reason: string): void {
    for (const listener of this.#resyncListeners) {
      try {
        listener(reason);
      } catch (error) {
        this.#options.onError(error, 'resync listener failed');
      }
    }
  }

  /** Channels whose head waited `holdMs`: read the missing messages from the database. */
  #fillGaps(): void {
    const sequencer = this.#sequencer;
    for (const gap of sequencer.gaps(this.#now() - this.#options.holdMs)) {
      if (this.#filling.has(gap.channelId)) continue;
      this.#filling.add(gap.channelId);
      this.#options
        .fillGap(gap.channelId, gap.afterId === null ? null : String(gap.afterId), String(gap.beforeId))
        .then(
          (events) => {
            // Chains restarted meanwhile (reconnect): this read belongs to the old ones.
            if (this.#sequencer !== sequencer) return;
            const items = events.flatMap((event) => (event.type === 'message.created' ? [{ item: event, id: BigInt(event.message.id) }] : []));
            for (const ready of this.#sequencer.filled(gap.channelId, items, gap.beforeId, this.#now())) this.#emit(ready);
          },
          (error: unknown) => this.#options.onError(error, 'bus gap fill failed; retrying'),
        )
        .finally(() => this.#filling.delete(gap.channelId));
    }
  }
}
