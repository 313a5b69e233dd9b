import websocket, { type WebsocketPluginOptions } from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { WebSocket } from 'ws';
import { ProblemError } from '../errors.ts';
import { clientIp } from '../plugins/route-hooks.ts';
import { ACCESS_COOKIE } from '../handlers/auth-handlers.ts';
import type { Gateway } from './gateway.ts';
import { checkWsInternals, GatewaySocket } from './gateway-socket.ts';

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

/** Socket errors (one function for every socket, `this` is the socket): log, and drop the socket. */
function onSocketError(this: WebSocket, error: Error): void {
  (this as GatewaySocket).connection?.socketError(error);
  if (this.readyState === 0 || this.readyState === 1) this.terminate();
}

/**
 * A long-lived socket should not keep its upgrade request alive: @fastify/websocket's error
 * listener closes over the Fastify request and reply, and the raw socket still points at the
 * ServerResponse made for the upgrade. Both are released (a few KB per idle connection); socket
 * errors are handled the same way without them.
 */
function releaseUpgradeRequest(socket: GatewaySocket, request: FastifyRequest): void {
  // Ours first, then theirs removed: deleting the last listener of an event would `delete` the key
  // and turn the socket's listener table into a slower, larger dictionary.
  const previous = socket.rawListeners('error') as ((...args: unknown[]) => void)[];
  socket.on('error', onSocketError);
  for (const listener of previous) socket.removeListener('error', listener);
  // The upgraded TCP socket (the one ws writes to); `_httpMessage` is Node's http server's link to the response.
  const raw = request.raw.socket as unknown as { _httpMessage?: { detachSocket?: (socket: unknown) => void } | null } | undefined;
  const response = raw?._httpMessage;
  if (raw && response && typeof response.detachSocket === 'function') response.detachSocket(raw);
}

/**
 * The WebSocket gateway: @fastify/websocket (frames up to WS_MAX_FRAME_BYTES), the upgrade route
 * `GET /api/v1/ws` (described by asyncapi.yaml, not openapi.yaml), and a graceful stop that closes
 * every socket with 1012 after flushing what was queued.
 */
export default fp(
  async function gatewayPlugin(app: FastifyInstance, options: { gateway: Gateway }) {
    const { gateway } = options;
    // The fan-out reads private fields of ws (GatewaySocket.directStream): refuse to start without them.
    checkWsInternals();
    await app.register(websocket, {
      options: {
        maxPayload: gateway.config.WS_MAX_FRAME_BYTES,
        perMessageDeflate: false,
        // The gateway tracks its connections itself; ws's own set would add a closure per socket.
        clientTracking: false,
        // A socket the server closes is destroyed if the client has not completed the close
        // handshake by then (ws's default is 30 s): a client that stopped reading never will, and
        // its queued frames are held until the socket goes (ws 8.23 option, missing from @types/ws).
        ...({ closeTimeout: gateway.config.WS_CLOSE_TIMEOUT_MS } as object),
        // (ws's types ask for the module's statics too; the server only constructs instances.)
        WebSocket: GatewaySocket as unknown as NonNullable<NonNullable<WebsocketPluginOptions['options']>['WebSocket']>,
      },
      // ws closes the socket itself on protocol errors (4002 for payload errors: gateway-socket.ts); only log them.
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
        releaseUpgradeRequest(socket as GatewaySocket, request);
        // `request.ip` follows Fastify's trustProxy; injected sockets have none.
        gateway.accept(socket as GatewaySocket, token, clientIp(request));
      },
    });

    gateway.start();
  },
  { name: 'gateway', dependencies: ['security'] },
);
