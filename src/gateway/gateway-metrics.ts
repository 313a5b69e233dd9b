import type { FastifyInstance } from 'fastify';

type PromClient = FastifyInstance['metrics']['client'];

const KNOWN_CLOSE_CODES = new Set([1000, 1001, 1005, 1006, 1007, 1008, 1009, 1011, 1012, 1013, 4000, 4001, 4002, 4003, 4004, 4005, 4007, 4008, 4009, 4010]);

/**
 * The gateway's Prometheus metrics (served by `/metrics` with the rest):
 * - `parley_ws_sessions` (gauge): open, authenticated gateway connections;
 * - `parley_ws_connections` (gauge): open sockets, authenticated or not;
 * - `parley_ws_frames_in_total{type}` / `parley_ws_frames_out_total{type}` (counters);
 * - `parley_ws_closes_total{code}` (counter): connections closed by the server, by close code
 *   (`1006` counts connections the client dropped without a close frame);
 * - `parley_ws_fanout_latency_seconds` (histogram): from the event's publication (right after its
 *   transaction committed) to the socket write of its last recipient.
 *
 * Counters are incremented through cached label children, once per fan-out (not per recipient).
 */
export interface GatewayMetrics {
  frameIn(type: string): void;
  framesOut(type: string, count: number): void;
  closed(code: number): void;
  fanoutLatency(seconds: number): void;
}

export function createGatewayMetrics(
  client: PromClient,
  gauges: { sessions: () => number; connections: () => number },
): GatewayMetrics {
  const { register } = client;
  const fresh = (name: string) => register.removeSingleMetric(name);

  fresh('parley_ws_sessions');
  new client.Gauge({
    name: 'parley_ws_sessions',
    help: 'Authenticated WebSocket gateway connections currently open.',
    collect() {
      this.set(gauges.sessions());
    },
  });
  fresh('parley_ws_connections');
  new client.Gauge({
    name: 'parley_ws_connections',
    help: 'WebSocket gateway sockets currently open (authenticated or not).',
    collect() {
      this.set(gauges.connections());
    },
  });
  fresh('parley_ws_frames_in_total');
  const framesIn = new client.Counter({
    name: 'parley_ws_frames_in_total',
    help: 'Client frames received, by frame type (`invalid`, `unknown` and `rate_limited` for frames refused with 4002, 4001 and 4008).',
    labelNames: ['type'],
  });
  fresh('parley_ws_frames_out_total');
  const framesOut = new client.Counter({
    name: 'parley_ws_frames_out_total',
    help: 'Server frames sent, by frame type.',
    labelNames: ['type'],
  });
  fresh('parley_ws_closes_total');
  const closes = new client.Counter({
    name: 'parley_ws_closes_total',
    help: 'Gateway connections closed, by WebSocket close code.',
    labelNames: ['code'],
  });
  fresh('parley_ws_fanout_latency_seconds');
  const fanout = new client.Histogram({
    name: 'parley_ws_fanout_latency_seconds',
    help: 'Time from an event being published after commit to the socket write of its last recipient.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  });

  const inChildren = new Map<string, { inc(value?: number): void }>();
  const outChildren = new Map<string, { inc(value?: number): void }>();
  const child = (cache: typeof inChildren, counter: typeof framesIn, label: string) => {
    let found = cache.get(label);
    if (!found) {
      found = counter.labels(label);
      cache.set(label, found);
    }
    return found;
  };

  return {
    frameIn: (type) => child(inChildren, framesIn, type).inc(),
    framesOut: (type, count) => {
      if (count > 0) child(outChildren, framesOut, type).inc(count);
    },
    // Client close codes are arbitrary numbers: unexpected ones share one label.
    closed: (code) => closes.labels(KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other').inc(),
    fanoutLatency: (seconds) => fanout.observe(seconds),
  };
}
