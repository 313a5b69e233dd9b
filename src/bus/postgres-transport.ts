import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql, type DatabasePool } from 'slonik';
import type { BusTransport } from './bus-transport.ts';

/** The NOTIFY channel of the PostgreSQL bus (WORKERS>1 without REDIS_URL). */
export const PG_EVENTS_CHANNEL = 'parley_events';

/**
 * PostgreSQL's NOTIFY payload limit is 8000 bytes. 2,000 UTF-16 code units are at most 6,000
 * UTF-8 bytes, so a chunk of that size always fits with its header.
 */
const CHUNK_UNITS = 2000;

/**
 * LISTEN/NOTIFY as the bus when the instances share only PostgreSQL: one dedicated LISTEN
 * connection per instance (LISTEN is session state, so outside the pool) and NOTIFY through the
 * pool. A payload over the limit is split into chunks sent in one statement: PostgreSQL delivers
 * one transaction's notifications together and in order, so they are reassembled by id.
 */
export class PostgresTransport implements BusTransport {
  readonly name = 'postgres';
  readonly #databaseUrl: string;
  readonly #db: DatabasePool;
  #client: pg.Client | undefined;
  #stopped = false;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  readonly #partial = new Map<string, string[]>();
  readonly #queue: { texts: string[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
  #sending = false;

  constructor(databaseUrl: string, db: DatabasePool) {
    this.#databaseUrl = databaseUrl;
    this.#db = db;
  }

  async start(onMessage: (payload: string) => void, onState: (state: 'up' | 'down') => void): Promise<void> {
    if (!(await this.#connect(onMessage, onState))) throw new Error('could not LISTEN for bus events');
  }

  async #connect(onMessage: (payload: string) => void, onState: (state: 'up' | 'down') => void): Promise<boolean> {
    if (this.#stopped) return false;
    const client = new pg.Client({ connectionString: this.#databaseUrl, application_name: 'parley-bus', keepAlive: true });
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      const wasUp = this.#client === client;
      if (wasUp) {
        this.#client = undefined;
        clearInterval(this.#heartbeatTimer);
      }
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      if (wasUp) onState('down');
      if (this.#stopped) return;
      const delay = [100, 250, 500, 1000][Math.min(this.#attempt, 3)]!;
      this.#attempt += 1;
      this.#retryTimer = setTimeout(() => {
        void this.#connect(onMessage, onState).then((ok) => ok && onState('up'));
      }, delay);
      this.#retryTimer.unref();
    };
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (message) => {
      if (message.channel !== PG_EVENTS_CHANNEL || message.payload === undefined) return;
      const whole = this.#reassemble(message.payload);
      if (whole !== undefined) onMessage(whole);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${PG_EVENTS_CHANNEL}`);
    } catch {
      onLost();
      return false;
    }
    if (lost) return false;
    if (this.#stopped) {
      await client.end().catch(() => {});
      return false;
    }
    this.#client = client;
    this.#attempt = 0;
    // A silently dead connection (no FIN) is noticed within two intervals.
    this.#heartbeatTimer = setInterval(() => {
      const timer = setTimeout(onLost, 5_000);
      timer.unref();
      client.query('SELECT 1').then(() => clearTimeout(timer), onLost);
    }, 5_000);
    this.#heartbeatTimer.unref();
    return true;
  }

  /** `-payload` whole, or `id:index:count:part`. */
  #reassemble(text: string): string | undefined {
    if (text.startsWith('-')) return text.slice(1);
    const match = /^([^:]+):(\d+):(\d+):/.exec(text);
    if (!match) return undefined;
    const [head, id, index, count] = match as unknown as [string, string, string, string];
    const parts = this.#partial.get(id) ?? [];
    parts[Number(index)] = text.slice(head.length);
    if (Number(index) < Number(count) - 1) {
      this.#partial.set(id, parts);
      return undefined;
    }
    this.#partial.delete(id);
    return parts.join('');
  }

  /**
   * Sends keep this instance's publish order: one batch at a time, each one statement that
   * notifies in array order (what queued while the previous batch ran goes in the next one).
   */
  send(payload: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ texts: notificationsOf(payload), resolve, reject });
      if (!this.#sending) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#sending = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#queue.length);
      try {
        await this.#db.query(
          sql.unsafe`SELECT pg_notify(${PG_EVENTS_CHANNEL}, t.payload) FROM unnest(${sql.array(batch.flatMap((item) => item.texts), 'text')}) AS t(payload)`,
        );
        for (const item of batch) item.resolve();
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    this.#sending = false;
  }

  async close(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#heartbeatTimer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}

/** One payload as notifications: `-payload` whole, or `id:index:count:part` chunks. */
function notificationsOf(payload: string): string[] {
  if (payload.length <= CHUNK_UNITS) return [`-${payload}`];
  const chunks = splitUnits(payload, CHUNK_UNITS);
  const id = randomBytes(6).toString('base64url');
  return chunks.map((chunk, index) => `${id}:${index}:${chunks.length}:${chunk}`);
}

/** Splits into pieces of at most `size` code units, never between the halves of a surrogate pair. */
export function splitUnits(text: string, size: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + size);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}
