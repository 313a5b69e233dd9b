/**
 * Many `ws` client sessions in the load-generator process: connect with bounded concurrency, wait
 * for `ready`, then hand every later frame (as a Buffer, unparsed) to a per-session callback so the
 * load generator spends as little CPU per frame as possible. Connections go to 127.0.0.1 only.
 */
import WebSocket from 'ws';
import { RawWebSocket } from './raw-ws-client.ts';
import { sleep } from './stats.ts';

/** `ws` (the default) or the minimal client of raw-ws-client.ts (cheaper per received frame). */
export type ClientKind = 'ws' | 'raw';
export type ClientSocket = WebSocket | RawWebSocket;

export interface ClientSession {
  index: number;
  ws: ClientSocket;
  /** `hello.heartbeat_interval_ms`. */
  heartbeatMs: number;
  /** Every frame after `ready`. Replace it to measure something. */
  onFrame: (data: Buffer) => void;
  heartbeat?: NodeJS.Timeout;
  closeCode?: number;
}

export interface OpenResult {
  sessions: ClientSession[];
  failures: string[];
  connect_s: number;
}

const READY = Buffer.from('"ready"');
const HELLO = Buffer.from('"hello"');

function openOne(url: string, index: number, timeoutMs: number, kind: ClientKind): Promise<ClientSession> {
  return new Promise((resolve, reject) => {
    const ws: ClientSocket =
      kind === 'raw' ? new RawWebSocket(url) : new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: timeoutMs });
    let heartbeatMs = 30_000;
    const session: ClientSession = { index, ws, heartbeatMs, onFrame: () => {} };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`session ${index}: no ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const beforeReady = (data: Buffer) => {
      if (data.indexOf(HELLO) >= 0 && data.indexOf(HELLO) < 20) {
        try {
          heartbeatMs = (JSON.parse(data.toString()) as { heartbeat_interval_ms?: number }).heartbeat_interval_ms ?? heartbeatMs;
          session.heartbeatMs = heartbeatMs;
        } catch {
          // not JSON: the server will close
        }
      } else if (data.indexOf(READY) >= 0 && data.indexOf(READY) < 20) {
        clearTimeout(timer);
        ws.off('message', beforeReady);
        ws.on('message', (frame: Buffer) => session.onFrame(frame));
        resolve(session);
      }
    };
    ws.on('message', beforeReady);
    ws.on('error', () => {
      // reported through close / the timeout
    });
    ws.on('close', (code: number, reason: Buffer) => {
      session.closeCode = code;
      clearTimeout(timer);
      if (session.heartbeat) clearInterval(session.heartbeat);
      reject(new Error(`session ${index}: closed ${code} ${reason.toString()} before ready`));
    });
  });
}

/**
 * Opens `count` sessions; `urlOf(i)` gives the URL of the i-th (with its `?token=`). Failed
 * sessions are reported, not retried.
 */
export async function openSessions(options: {
  count: number;
  urlOf: (index: number) => string;
  concurrency?: number;
  timeoutMs?: number;
  client?: ClientKind;
}): Promise<OpenResult> {
  const started = performance.now();
  const sessions: ClientSession[] = [];
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < options.count) {
      const index = next++;
      try {
        sessions.push(await openOne(options.urlOf(index), index, options.timeoutMs ?? 60_000, options.client ?? 'ws'));
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 64, options.count) }, worker));
  sessions.sort((a, b) => a.index - b.index);
  return { sessions, failures, connect_s: (performance.now() - started) / 1000 };
}

const PING = '{"type":"ping"}';

/**
 * Heartbeats every session at `intervalMs` (default: the server's announced interval, with a
 * safety margin), starting at a random offset so pings spread evenly.
 */
export function startHeartbeats(sessions: ClientSession[], intervalMs?: number, frame: () => string = () => PING): void {
  for (const session of sessions) {
    const every = intervalMs ?? Math.max(1000, Math.floor(session.heartbeatMs * 0.8));
    const start = setTimeout(() => {
      if (session.ws.readyState !== WebSocket.OPEN) return;
      session.ws.send(frame());
      session.heartbeat = setInterval(() => {
        if (session.ws.readyState === WebSocket.OPEN) session.ws.send(frame());
      }, every);
    }, Math.random() * every);
    session.heartbeat = start;
  }
}

export function stopHeartbeats(sessions: ClientSession[]): void {
  for (const session of sessions) {
    if (session.heartbeat) {
      clearTimeout(session.heartbeat);
      clearInterval(session.heartbeat);
    }
  }
}

/** Closes every session at once (TCP reset; the server sees them go) and waits a moment. */
export async function closeSessions(sessions: ClientSession[]): Promise<void> {
  stopHeartbeats(sessions);
  for (const session of sessions) {
    session.ws.removeAllListeners('close');
    session.ws.on('close', () => {});
    session.ws.terminate();
  }
  await sleep(50);
}

/** Sessions that have been closed by the server since they were opened. */
export function closedSessions(sessions: ClientSession[]): ClientSession[] {
  return sessions.filter((session) => session.ws.readyState !== WebSocket.OPEN);
}
