import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import WebSocket, { WebSocketServer } from 'ws';

/**
 * A reverse proxy in front of a real server (HTTP and the WebSocket gateway) that can rewrite
 * one kind of response body or one kind of server frame: a deliberately non-conforming
 * deployment, for tests of tools that must notice.
 */
export interface CannedResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface Corruptions {
  /** Answers a request itself, without forwarding it (return undefined to forward). */
  answer?: (method: string, path: string) => CannedResponse | undefined;
  /** Rewrites a JSON response body (return undefined to pass it through unchanged). */
  response?: (method: string, path: string, status: number, body: any) => any;
  /** Rewrites a server frame (return undefined to pass it through unchanged). */
  frame?: (frame: any) => any;
}

export async function startCorruptingProxy(t: Test, upstream: string, corruptions: Corruptions): Promise<string> {
  const target = new URL(upstream);
  const server: Server = createServer((req, res) => {
    const canned = corruptions.answer?.(req.method ?? 'GET', (req.url ?? '/').split('?')[0]!);
    if (canned) {
      req.resume();
      res.writeHead(canned.status, canned.headers).end(JSON.stringify(canned.body));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const forwarded = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (upstreamResponse) => relay(req, upstreamResponse, res, corruptions),
      );
      forwarded.on('error', () => res.destroy());
      forwarded.end(Buffer.concat(chunks));
    });
  });
  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    sockets.handleUpgrade(req, socket, head, (client) => bridge(client, req, target, corruptions));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const client of sockets.clients) client.terminate();
    sockets.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function relay(req: IncomingMessage, upstream: IncomingMessage, res: import('node:http').ServerResponse, corruptions: Corruptions): void {
  const chunks: Buffer[] = [];
  upstream.on('data', (chunk: Buffer) => chunks.push(chunk));
  upstream.on('end', () => {
    let body = Buffer.concat(chunks);
    const headers = { ...upstream.headers };
    if (corruptions.response && String(headers['content-type'] ?? '').includes('json') && body.length > 0) {
      const changed = corruptions.response(req.method ?? 'GET', (req.url ?? '/').split('?')[0]!, upstream.statusCode ?? 0, JSON.parse(body.toString('utf8')));
      if (changed !== undefined) {
        body = Buffer.from(JSON.stringify(changed));
        headers['content-length'] = String(body.length);
      }
    }
    res.writeHead(upstream.statusCode ?? 502, headers);
    res.end(body);
  });
}

function bridge(client: WebSocket, req: IncomingMessage, target: URL, corruptions: Corruptions): void {
  const headers: Record<string, string> = {};
  if (req.headers.authorization) headers.authorization = req.headers.authorization;
  if (req.headers.cookie) headers.cookie = req.headers.cookie;
  const upstream = new WebSocket(`ws://${target.host}${req.url ?? '/'}`, { headers });
  const pending: Array<{ data: WebSocket.RawData; isBinary: boolean }> = [];
  client.on('message', (data, isBinary) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary });
    else pending.push({ data, isBinary });
  });
  upstream.on('open', () => {
    for (const { data, isBinary } of pending.splice(0)) upstream.send(data, { binary: isBinary });
  });
  upstream.on('message', (data, isBinary) => {
    let out: WebSocket.RawData | string = data;
    if (!isBinary && corruptions.frame) {
      const changed = corruptions.frame(JSON.parse(data.toString()));
      if (changed !== undefined) out = JSON.stringify(changed);
    }
    if (client.readyState === WebSocket.OPEN) client.send(out, { binary: isBinary });
  });
  // Close codes travel both ways; a dropped peer drops the other side too.
  const closeCode = (code: number) => (code === 1005 || code === 1006 ? undefined : code);
  upstream.on('close', (code, reason) => {
    const forwarded = closeCode(code);
    if (forwarded === undefined) client.terminate();
    else if (client.readyState === WebSocket.OPEN) client.close(forwarded, reason);
  });
  client.on('close', (code, reason) => {
    const forwarded = closeCode(code);
    if (forwarded === undefined) upstream.terminate();
    else if (upstream.readyState === WebSocket.OPEN) upstream.close(forwarded, reason);
    else upstream.terminate();
  });
  upstream.on('error', () => client.terminate());
  client.on('error', () => upstream.terminate());
}
