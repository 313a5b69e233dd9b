import { WebSocket } from 'ws';
import { CloseCode, type GatewayConnection } from './gateway-connection.ts';

/**
 * `ws` closes on its own with 1009 (frame over maxPayload) and 1007 (invalid UTF-8); the contract
 * says 4002 for both. The gateway itself never closes with these codes.
 */
const PAYLOAD_CLOSE_CODES = new Set([1007, 1009]);

/**
 * The server-side socket class the gateway's `ws` server creates (its `WebSocket` option). It
 * carries its connection, so every socket shares one listener function per event (which finds
 * the connection through `this`) instead of holding closures of its own: an idle session's memory
 * is mostly what `ws` and the TCP socket need.
 */
export class GatewaySocket extends WebSocket {
  connection: GatewayConnection | null = null;

  override close(code?: number, data?: string | Buffer): void {
    super.close(code !== undefined && PAYLOAD_CLOSE_CODES.has(code) ? CloseCode.invalidPayload : code, data);
  }
}
