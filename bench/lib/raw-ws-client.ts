/**
 * A minimal WebSocket client for the receiving side of the load generator: the upgrade handshake,
 * then unmasked server frames parsed straight off the TCP stream (text, ping → pong, close). It
 * skips `ws`'s stream machinery; measured here it saves only 15-20% of the load generator's CPU per
 * received frame (most of the cost is the kernel's read per socket), so `ws` stays the default and
 * this is opt-in (--raw-clients). Client frames are masked as RFC 6455 requires. 127.0.0.1 only.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';

const OPEN = 1;
const CLOSED = 3;

export class RawWebSocket extends EventEmitter {
  readyState = 0;
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #upgraded = false;
  #fragments: Buffer[] = [];

  constructor(url: string) {
    super();
    const parsed = new URL(url);
    if (parsed.hostname !== '127.0.0.1' && parsed.hostname !== 'localhost') throw new Error('load generator traffic stays on 127.0.0.1');
    this.#socket = connect({ host: '127.0.0.1', port: Number(parsed.port), noDelay: true });
    const key = randomBytes(16).toString('base64');
    this.#socket.on('connect', () => {
      this.#socket.write(
        `GET ${parsed.pathname}${parsed.search} HTTP/1.1\r\nHost: ${parsed.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', (error) => this.emit('error', error));
    this.#socket.on('close', () => {
      const wasOpen = this.readyState !== CLOSED;
      this.readyState = CLOSED;
      if (wasOpen) this.emit('close', 1006, Buffer.alloc(0));
    });
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (!this.#upgraded) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.#buffer.toString('latin1', 0, end);
      if (!head.startsWith('HTTP/1.1 101')) {
        this.emit('error', new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        this.terminate();
        return;
      }
      this.#upgraded = true;
      this.readyState = OPEN;
      this.#buffer = this.#buffer.subarray(end + 4);
      this.emit('open');
    }
    let buffer = this.#buffer;
    while (buffer.length >= 2) {
      const fin = (buffer[0]! & 0x80) !== 0;
      const opcode = buffer[0]! & 0x0f;
      let length = buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffer.length < 4) break;
        length = buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffer.length < 10) break;
        length = buffer.readUInt32BE(2) * 2 ** 32 + buffer.readUInt32BE(6);
        offset = 10;
      }
      if (buffer.length < offset + length) break;
      const payload = buffer.subarray(offset, offset + length);
      buffer = buffer.subarray(offset + length);
      if (opcode === 0x1 || opcode === 0x2 || opcode === 0x0) {
        if (!fin || this.#fragments.length > 0) {
          this.#fragments.push(Buffer.from(payload));
          if (fin) {
            const whole = Buffer.concat(this.#fragments);
            this.#fragments = [];
            this.emit('message', whole, false);
          }
        } else {
          this.emit('message', payload, false);
        }
      } else if (opcode === 0x9) {
        this.#frame(0xa, payload);
      } else if (opcode === 0x8) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.readyState = CLOSED;
        this.#frame(0x8, payload.subarray(0, 2));
        this.#socket.end();
        this.emit('close', code, payload.subarray(2));
      }
    }
    this.#buffer = buffer.length === 0 ? Buffer.alloc(0) : buffer;
  }

  /** A masked client frame (a zero mask key: valid, and no XOR work). */
  #frame(opcode: number, payload: Buffer): void {
    if (this.#socket.destroyed) return;
    const length = payload.length;
    const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
    const frame = Buffer.alloc(headerLength + 4 + length);
    frame[0] = 0x80 | opcode;
    if (headerLength === 2) frame[1] = 0x80 | length;
    else if (headerLength === 4) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeUInt32BE(0, 2);
      frame.writeUInt32BE(length, 6);
    }
    payload.copy(frame, headerLength + 4);
    this.#socket.write(frame);
  }

  send(data: string): void {
    if (this.readyState !== OPEN) return;
    this.#frame(0x1, Buffer.from(data));
  }

  terminate(): void {
    this.readyState = CLOSED;
    this.#socket.destroy();
  }
}
