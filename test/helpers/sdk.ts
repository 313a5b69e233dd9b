import type { Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { ParleyClient, type FetchLike, type Tokens, type WebSocketFactory, type WebSocketLike } from '../../clients/typescript/src/index.ts';
import { isServerFrameType, serverFrameValidators } from '../../generated/asyncapi-validators.js';
import type { Registered } from './build.ts';
import { contractViolations, headerViolations } from './contract.ts';

/**
 * Helpers for tests of @parley/client (clients/typescript). The SDK runs on the global fetch and
 * WebSocket as it would in an app; these wrap both so that every REST response is checked
 * against openapi.yaml and every gateway frame against asyncapi.yaml, as `api` and
 * GatewayClient do for the other tests.
 */

/** A fetch that fails the test on a response that breaks openapi.yaml; counts requests per path. */
export function contractFetch(t: Test, counts: Map<string, number> = new Map()): FetchLike {
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
    const response = await fetch(request);
    const text = await response.clone().text();
    const contentType = response.headers.get('content-type') ?? undefined;
    let parsed: unknown = text === '' ? undefined : text;
    if (contentType?.includes('json') && text !== '') parsed = JSON.parse(text);
    const target = `${url.pathname}${url.search}`;
    const violations = [
      ...contractViolations(request.method, target, response.status, contentType, parsed),
      ...headerViolations(request.method, target, response.status, response.headers),
    ];
    if (violations.length > 0) t.fail(`response breaks openapi.yaml: ${violations.join('; ')}`, { body: parsed });
    return response;
  };
}

export interface FrameTap {
  /** Return false to swallow the frame (the SDK never sees it), e.g. to lose an ack. */
  onFrame?: (frame: { type: string; [key: string]: unknown }) => boolean | void;
  /** Every frame the SDK sent, parsed. */
  sent?: Array<{ type: string; [key: string]: unknown }>;
}

/**
 * A WebSocket factory over the global WebSocket that fails the test on a server frame breaking
 * asyncapi.yaml and lets the test see (or swallow) frames.
 */
export function checkedWebSocket(t: Test, tap: FrameTap = {}): WebSocketFactory {
  return (url) => {
    const inner = new WebSocket(url);
    const outer: WebSocketLike = {
      get readyState() {
        return inner.readyState;
      },
      send(data: string) {
        tap.sent?.push(JSON.parse(data) as { type: string });
        inner.send(data);
      },
      close(code?: number, reason?: string) {
        inner.close(code, reason);
      },
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
    };
    inner.onopen = (event) => outer.onopen?.(event);
    inner.onclose = (event) => outer.onclose?.({ code: event.code, reason: event.reason });
    inner.onerror = (event) => outer.onerror?.(event);
    inner.onmessage = (event) => {
      const frame = JSON.parse(String(event.data)) as { type: string; [key: string]: unknown };
      if (!isServerFrameType(frame.type)) t.fail(`unknown server frame type ${frame.type}`);
      else if (!serverFrameValidators[frame.type](frame)) {
        t.fail(`${frame.type} frame breaks asyncapi.yaml`, { frame, errors: serverFrameValidators[frame.type].errors });
      }
      if (tap.onFrame?.(frame) === false) return;
      outer.onmessage?.({ data: event.data });
    };
    return outer;
  };
}

/** An SDK client logged in as `user` (tokens from the registration), with checked fetch. */
export function sdkClient(t: Test, baseUrl: string, user: Registered, counts?: Map<string, number>, tokens?: Tokens): ParleyClient {
  const client = new ParleyClient({ baseUrl, fetch: contractFetch(t, counts) });
  void client.tokens.set(tokens ?? { accessToken: user.token, refreshToken: user.refreshToken });
  return client;
}

/**
 * Drops the user's gateway connections from the server side without a close handshake (a
 * network failure as the client sees it). `forgetSession` also discards their sessions, so the
 * client's `resume` gets `invalid_session` and it must start over and read history.
 */
export function dropConnections(app: FastifyInstance, userId: string, options: { forgetSession?: boolean } = {}): number {
  let dropped = 0;
  for (const connection of [...app.gateway.connections]) {
    if (connection.auth?.userId !== userId || connection.state === 'closed') continue;
    const session = connection.session;
    connection.terminate();
    if (options.forgetSession && session) app.gateway.registry.removeSession(session);
    dropped += 1;
  }
  return dropped;
}

/** Polls `check` until it returns true (bounded; no fixed sleep decides the outcome). */
export async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
