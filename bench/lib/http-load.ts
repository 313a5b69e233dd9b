/**
 * A minimal keep-alive HTTP/1.1 load loop over raw sockets: a fixed number of connections, each
 * sending its next request when the previous response is complete (closed loop, no pipelining).
 * Cheaper per request than fetch/undici, so the load generator stays far from saturation.
 * Traffic goes to 127.0.0.1 only.
 */
import { connect, type Socket } from 'node:net';
import { Samples, sleep } from './stats.ts';

export interface HttpLoadOptions {
  port: number;
  /** Path (with query) of the i-th request. */
  path: (i: number) => string;
  headers?: Record<string, string>;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Stop after this many measured requests even if the duration has not elapsed. */
  maxRequests?: number;
}

export interface HttpLoadResult {
  /** Responses inside the measured window. */
  requests: number;
  /** Requests sent in all: warm-up, window and the last ones in flight at its end. */
  sent: number;
  errors: number;
  /** Status codes other than 2xx, with counts. */
  statuses: Record<string, number>;
  duration_s: number;
  requests_per_s: number;
  latencies_ms: Float64Array;
  sample_error?: string;
}

const CRLF2 = Buffer.from('\r\n\r\n');

export async function httpLoad(options: HttpLoadOptions): Promise<HttpLoadResult> {
  const head = Object.entries({ host: `127.0.0.1:${options.port}`, ...options.headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const latencies = new Samples(1 << 16);
  const statuses: Record<string, number> = {};
  let requests = 0;
  let errors = 0;
  let sampleError: string | undefined;
  let counter = 0;
  let measuring = false;
  let stopping = false;
  const startedAt = performance.now();
  let measureStart = startedAt;
  let measureEnd = 0;

  const connection = (): Promise<void> =>
    new Promise((resolve) => {
      const socket: Socket = connect({ host: '127.0.0.1', port: options.port, noDelay: true });
      let buffer: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let inMeasure = false;
      const send = () => {
        if (stopping) {
          socket.end();
          return;
        }
        const path = options.path(counter++);
        inMeasure = measuring;
        sentAt = performance.now();
        socket.write(`GET ${path} HTTP/1.1\r\n${head}\r\n`);
      };
      const complete = (status: number, body: Buffer) => {
        const now = performance.now();
        if (inMeasure && measuring) {
          requests += 1;
          latencies.push(now - sentAt);
          if (status < 200 || status >= 300) {
            errors += 1;
            statuses[status] = (statuses[status] ?? 0) + 1;
            sampleError ??= `${status} ${body.toString('utf8', 0, Math.min(body.length, 300))}`;
          }
          if (options.maxRequests !== undefined && requests >= options.maxRequests) stopping = true;
        }
        send();
      };
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        for (;;) {
          const headerEnd = buffer.indexOf(CRLF2);
          if (headerEnd < 0) return;
          const headerText = buffer.toString('latin1', 0, headerEnd);
          const status = Number(headerText.slice(9, 12));
          const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(headerText);
          let bodyStart = headerEnd + 4;
          let body: Buffer;
          let consumed: number;
          if (lengthMatch) {
            const length = Number(lengthMatch[1]);
            if (buffer.length < bodyStart + length) return;
            body = buffer.subarray(bodyStart, bodyStart + length);
            consumed = bodyStart + length;
          } else if (/\r\ntransfer-encoding:\s*chunked/i.test(headerText)) {
            const parts: Buffer[] = [];
            let cursor = bodyStart;
            let done = false;
            for (;;) {
              const lineEnd = buffer.indexOf('\r\n', cursor);
              if (lineEnd < 0) break;
              const size = Number.parseInt(buffer.toString('latin1', cursor, lineEnd), 16);
              if (buffer.length < lineEnd + 2 + size + 2) break;
              if (size === 0) {
                cursor = lineEnd + 4;
                done = true;
                break;
              }
              parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
              cursor = lineEnd + 2 + size + 2;
            }
            if (!done) return;
            body = Buffer.concat(parts);
            consumed = cursor;
          } else {
            body = Buffer.alloc(0);
            consumed = bodyStart;
          }
          buffer = buffer.subarray(consumed);
          complete(status, body);
        }
      });
      socket.on('error', (error) => {
        if (measuring) {
          errors += 1;
          sampleError ??= error.message;
        }
      });
      socket.on('close', () => resolve());
    });

  const connections = Array.from({ length: options.connections }, () => connection());
  await sleep(options.warmupMs);
  measuring = true;
  measureStart = performance.now();
  const deadline = measureStart + options.durationMs;
  while (!stopping && performance.now() < deadline) await sleep(Math.max(0, Math.min(50, deadline - performance.now())));
  measureEnd = performance.now();
  measuring = false;
  stopping = true;
  await Promise.race([Promise.all(connections), sleep(5000)]);
  const durationS = (measureEnd - measureStart) / 1000;
  return {
    requests,
    sent: counter,
    errors,
    statuses,
    duration_s: durationS,
    requests_per_s: requests / durationS,
    latencies_ms: latencies.view(),
    ...(sampleError ? { sample_error: sampleError } : {}),
  };
}
