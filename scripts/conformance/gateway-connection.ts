/**
 * One real WebSocket connection to the gateway. Every frame the server sends is checked against
 * the served AsyncAPI document (a JSON text frame, a known server frame type, a valid payload,
 * event `seq`s consecutive), and so is every frame we send (so a spec that changed a client frame
 * shows up here rather than as a puzzling server error). The heartbeat is answered on its own.
 */
import WebSocket from 'ws';
import type { AsyncApiContract } from './asyncapi-contract.ts';
import type { Report } from './report.ts';

export type Frame = { type: string; [key: string]: any };
type Predicate = (frame: Frame) => boolean;

export class GatewayConnection {
  readonly name: string;
  readonly socket: WebSocket;
  readonly frames: Frame[] = [];
  /** Frame types received (for the coverage line). */
  readonly seenTypes: Set<string>;
  lastSeq = 0;
  closeInfo: { code: number; reason: string } | undefined;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  #contract: AsyncApiContract;
  #report: Report;
  #taken = new Set<number>();
  #waiters: Array<() => void> = [];
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(url: string, name: string, contract: AsyncApiContract, report: Report, seenTypes: Set<string>) {
    this.name = name;
    this.#contract = contract;
    this.#report = report;
    this.seenTypes = seenTypes;
    this.socket = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.socket.on('close', (code, reason) => {
        clearInterval(this.#heartbeat);
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        this.#wake();
      });
    });
    this.socket.on('error', () => {});
    this.socket.on('message', (data, isBinary) => this.#receive(data as Buffer, isBinary));
  }

  #receive(data: Buffer, isBinary: boolean): void {
    const text = data.toString('utf8');
    const where = `ws ${this.name}`;
    if (isBinary) {
      this.#report.fail(`${where} frame`, 'the server sent a binary frame; every frame is a JSON text frame');
      return;
    }
    let frame: Frame;
    try {
      frame = JSON.parse(text) as Frame;
    } catch {
      this.#report.fail(`${where} frame`, `not JSON: ${text.slice(0, 120)}`);
      return;
    }
    const type = typeof frame?.type === 'string' ? frame.type : '(no type)';
    const violations = this.#contract.serverFrameViolations(frame);
    const schema = this.#contract.serverFrames.get(type);
    if (schema?.isEvent && typeof frame.seq === 'number') {
      if (frame.seq !== this.lastSeq + 1) violations.push(`seq ${frame.seq}, expected ${this.lastSeq + 1} (no gap, no duplicate)`);
      this.lastSeq = frame.seq;
    }
    if (violations.length > 0) this.#report.fail(`${where} ${type}`, violations.join('; '));
    else this.#report.pass(`${where} ${type}`, schema?.isEvent ? `seq ${frame.seq}` : '');
    this.seenTypes.add(type);
    if (type === 'hello' && typeof frame.heartbeat_interval_ms === 'number' && frame.heartbeat_interval_ms > 0 && !this.#heartbeat) {
      // Answer the heartbeat as a client must; half the interval leaves room for a slow path.
      this.#heartbeat = setInterval(() => this.send({ type: 'ping' }, { quiet: true }), Math.max(1000, frame.heartbeat_interval_ms / 2));
      this.#heartbeat.unref();
    }
    this.frames.push(frame);
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Sends a frame, first checking it against the served client frame schemas (`invalid: true`
   * for a frame that breaks them on purpose, to see the server's error frame).
   */
  send(frame: Frame, options: { quiet?: boolean; invalid?: boolean } = {}): void {
    const violations = options.invalid ? [] : this.#contract.clientFrameViolations(frame);
    if (violations.length > 0) this.#report.fail(`ws ${this.name} sends ${frame.type}`, `our frame breaks the served AsyncAPI document: ${violations.join('; ')}`);
    else if (!options.quiet) this.seenClientTypes.add(frame.type);
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  readonly seenClientTypes = new Set<string>();

  /** Waits for the first frame not taken yet that matches; reports and throws when none comes. */
  async next(what: string, predicate: Predicate, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex((frame, i) => !this.#taken.has(i) && predicate(frame));
      if (index !== -1) {
        this.#taken.add(index);
        return this.frames[index]!;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.closeInfo) {
        return this.#report.abort(
          `ws ${this.name} ${what}`,
          `${this.closeInfo ? `connection closed (${this.closeInfo.code} ${this.closeInfo.reason})` : `nothing within ${timeoutMs} ms`}; ` +
            `got ${JSON.stringify(this.frames.map((frame) => frame.type))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for a frame of this type. */
  nextOfType(type: string, predicate: Predicate = () => true, timeoutMs?: number): Promise<Frame> {
    return this.next(type, (frame) => frame.type === type && predicate(frame), timeoutMs);
  }

  /** Sends a frame with `ref` and waits for the reply carrying it (not an event). */
  async request(frame: Frame & { ref: string }, options: { timeoutMs?: number; invalid?: boolean } = {}): Promise<Frame> {
    const { timeoutMs, invalid } = options;
    this.send(frame, invalid ? { invalid } : {});
    return this.next(`reply to ${frame.type}`, (reply) => reply.ref === frame.ref && typeof reply.seq !== 'number', timeoutMs);
  }

  async closedWithin(timeoutMs = 5000): Promise<{ code: number; reason: string } | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the TCP connection without a close handshake (a network failure). */
  async drop(): Promise<void> {
    this.socket.terminate();
    await this.closed;
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close(1000);
    await this.closedWithin();
    if (!this.closeInfo) this.socket.terminate();
  }
}

export async function openGateway(
  url: string,
  name: string,
  contract: AsyncApiContract,
  report: Report,
  seenTypes: Set<string>,
): Promise<GatewayConnection> {
  const connection = new GatewayConnection(url, name, contract, report, seenTypes);
  try {
    await connection.opened;
  } catch (error) {
    return report.abort(`ws ${name} connect`, `${url.replace(/token=[^&]+/, 'token=…')}: ${(error as Error).message}`);
  }
  return connection;
}
