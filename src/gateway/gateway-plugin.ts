import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { WebSocket } from 'ws';
import { ProblemError } from '../errors.ts';
import { ACCESS_COOKIE } from '../handlers/auth-handlers.ts';
import type { Gateway } from './gateway.ts';
import type { GatewayChat } from './gateway-chat.ts';
import { CloseCode } from './gateway-connection.ts';

export const GATEWAY_PATH = '/api/v1/ws';

/**
 * Upgrade credentials, in order: `?token=`, `Authorization: Bearer`, the access cookie. `?resume=1`
 * ignores all of them (so a browser that sends the cookie anyway can start with `resume`).
 */
export function upgradeToken(request: FastifyRequest): string | null {
  const query = request.query as Record<string, unknown>;
  if (query.resume === '1' || query.resume === 'true') return null;
  if (typeof query.token === 'string' && query.token !== '') return query.token;
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (match) return match[1]!;
  const cookie = request.cookies?.[ACCESS_COOKIE];
  return cookie ? cookie : null;
}

/** ws closes too-large frames with 1009 and bad UTF-8 with 1007; the contract says 4002 for both. */
const INVALID_PAYLOAD_ERRORS = new Set(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'WS_ERR_INVALID_UTF8']);

function closeInvalidPayloadWith4002(socket: WebSocket): void {
  const receiver = (socket as unknown as { _receiver?: NodeJS.EventEmitter })._receiver;
  receiver?.prependListener('error', (error: Error & { code?: string }) => {
    if (!error.code || !INVALID_PAYLOAD_ERRORS.has(error.code)) return;
    const statusCode = Object.getOwnPropertySymbols(error).find((symbol) => symbol.description === 'status-code');
    if (statusCode) (error as unknown as Record<symbol, number>)[statusCode] = CloseCode.invalidPayload;
  });
}

/**
 * A long-lived socket should not keep its upgrade request alive: @fastify/websocket's error
 * listener closes over the Fastify request and reply, and the raw socket still points at the
 * ServerResponse made for the upgrade. Both are released (a few KB per idle connection); socket
 * errors are handled the same way without them.
 */
function releaseUpgradeRequest(socket: WebSocket, gateway: Gateway): void {
  socket.removeAllListeners('error');
  socket.on('error', (error) => {
    gateway.log.debug({ err: error }, 'websocket error');
    if (socket.readyState === 0 || socket.readyState === 1) socket.terminate();
  });
  const raw = (socket as unknown as { _socket?: { _httpMessage?: { detachSocket?: (socket: unknown) => void } | null } })._socket;
  const response = raw?._httpMessage;
  if (raw && response && typeof response.detachSocket === 'function') response.detachSocket(raw);
}

/**
 * The WebSocket gateway: @fastify/websocket (frames up to WS_MAX_FRAME_BYTES), the upgrade route
 * `GET /api/v1/ws` (described by asyncapi.yaml, not openapi.yaml), and a graceful stop that closes
 * every socket with 1012 after flushing what was queued.
 */
export default fp(
  async function gatewayPlugin(app: FastifyInstance, options: { gateway: Gateway; chat: GatewayChat }) {
    const { gateway } = options;
    await app.register(websocket, {
      options: { maxPayload: gateway.config.WS_MAX_FRAME_BYTES, perMessageDeflate: false },
      // ws closes the socket itself on protocol errors (after our 4002 rewrite); only log them.
      errorHandler(error, socket, request) {
        request.log.debug({ err: error }, 'websocket error');
        if (socket.readyState === 0 || socket.readyState === 1) socket.terminate();
      },
      preClose: async () => {
        await gateway.stop();
        app.websocketServer.close();
      },
    });

    app.route({
      method: 'GET',
      url: GATEWAY_PATH,
      // A plain GET (no upgrade) is told where it is.
      handler: async () => {
        throw new ProblemError('not_found', `${GATEWAY_PATH} is the WebSocket gateway: connect with a WebSocket client (see /asyncapi.yaml).`);
      },
      wsHandler: (socket, request) => {
        const token = upgradeToken(request);
        closeInvalidPayloadWith4002(socket);
        releaseUpgradeRequest(socket, gateway);
        gateway.accept(socket, token);
      },
    });

    gateway.start(options.chat);
  },
  { name: 'gateway', dependencies: ['security'] },
);
