import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import pg from 'pg';
import { applyAuthNotification, type SessionCache } from '../auth/session-cache.ts';

/** The channel sql/004_auth_notify.sql notifies on. */
export const AUTH_CHANNEL = 'parley_auth';

export interface AuthListenerOptions {
  databaseUrl: string;
  cache: SessionCache;
  log: FastifyBaseLogger;
  /** How often the idle connection is checked, so a silently dead one is noticed. */
  heartbeatMs?: number;
  /** Reconnect delays grow from the first to the last value. */
  retryDelaysMs?: readonly number[];
}

/**
 * One dedicated connection (outside the pool: LISTEN is session state) that LISTENs on
 * `parley_auth` and evicts what the notifications name. The cache is enabled only while LISTEN is
 * in effect; on any error, end or failed heartbeat it is disabled (and emptied) at once, so
 * requests go to the database until a new connection is listening again.
 */
export class AuthNotificationListener {
  readonly #options: AuthListenerOptions;
  #client: pg.Client | undefined;
  #stopped = false;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(options: AuthListenerOptions) {
    this.#options = options;
  }

  /** True while LISTEN is in effect (the cache is in use). */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  /** Connects and LISTENs; on failure keeps retrying in the background (the cache stays off). */
  async start(): Promise<void> {
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#heartbeatTimer);
    const client = this.#client;
    this.#client = undefined;
    this.#options.cache.disable();
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const { cache, databaseUrl } = this.#options;
    const client = new pg.Client({ connectionString: databaseUrl, application_name: 'parley-auth-listener', keepAlive: true });
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      this.#lost(client, error);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel === AUTH_CHANNEL) applyAuthNotification(cache, message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${AUTH_CHANNEL}`);
    } catch (error) {
      onLost(error);
      return;
    }
    if (lost) return;
    if (this.#stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#attempt = 0;
    // Only now: a change committed before LISTEN took effect was never going to be announced.
    cache.enable();
    const heartbeatMs = this.#options.heartbeatMs ?? 10_000;
    this.#heartbeatTimer = setInterval(() => this.#heartbeat(client, heartbeatMs, onLost), heartbeatMs);
    this.#heartbeatTimer.unref();
    this.#options.log.debug('session cache listening for auth changes');
  }

  /** A query on the listening connection; no answer within the interval counts as a lost connection. */
  #heartbeat(client: pg.Client, timeoutMs: number, onLost: (error?: unknown) => void): void {
    let answered = false;
    const timer = setTimeout(() => {
      if (!answered) onLost(new Error(`no heartbeat answer within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    client.query('SELECT 1').then(
      () => {
        answered = true;
        clearTimeout(timer);
      },
      (error: unknown) => {
        answered = true;
        clearTimeout(timer);
        onLost(error);
      },
    );
  }

  #lost(client: pg.Client, error: unknown): void {
    // Fail closed first: from here until a new LISTEN is in effect, every request asks the database.
    this.#options.cache.disable();
    if (this.#client === client) {
      this.#client = undefined;
      clearInterval(this.#heartbeatTimer);
    }
    client.removeAllListeners('notification');
    // end() may never settle on a dead socket; close the stream as well.
    void client.end().catch(() => {});
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    if (this.#stopped) return;
    const delays = this.#options.retryDelaysMs ?? [100, 500, 1000, 5000];
    const delay = delays[Math.min(this.#attempt, delays.length - 1)]!;
    this.#attempt += 1;
    this.#options.log.warn({ err: error, retryInMs: delay }, 'auth change listener lost; session cache off until it reconnects');
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
    this.#retryTimer.unref();
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    authListener: AuthNotificationListener;
  }
}

/** Keeps the session cache current across processes; stops listening when the app closes. */
export default fp(
  async function authCachePlugin(app: FastifyInstance, options: { cache: SessionCache; databaseUrl: string }) {
    const listener = new AuthNotificationListener({ databaseUrl: options.databaseUrl, cache: options.cache, log: app.log });
    app.decorate('authListener', listener);
    await listener.start();
    app.addHook('onClose', async () => listener.stop());
  },
  { name: 'auth-cache', dependencies: ['database'] },
);
