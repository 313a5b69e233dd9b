/**
 * Scenario 1 — idle sessions: N authenticated gateway sessions (tokens from a few hundred users,
 * many sockets per token), heartbeating at the announced interval. Figure: server RSS per session
 * after warm-up = (RSS with N sessions − RSS before connecting) / N, read from /proc/<pid>/status.
 * Baseline: the bare `ws` server with the same number of idle connections.
 */
import type { BenchContext, ScenarioRecorder } from '../lib/context.ts';
import { closeSessions, closedSessions, openSessions, startHeartbeats } from '../lib/gateway-clients.ts';
import { fetchMetrics, metricValue } from '../lib/parley-metrics.ts';
import { startBareWs } from '../lib/servers.ts';
import { formatNumber, sleep } from '../lib/stats.ts';
import { CpuMeter, processRssBytes } from '../lib/system.ts';

async function stableRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    samples.push(processRssBytes(pid));
    await sleep(200);
  }
  return samples.sort((a, b) => a - b)[1]!;
}

interface HeapFigures {
  heap: number;
  external: number;
  /** Committed size of V8's young generation (semi-spaces) and old generation. */
  newSpace: number;
  oldSpace: number;
}

/** V8 heap used, external memory and the committed heap spaces (bytes) from Parley's /metrics (prom-client default metrics). */
async function heapFigures(baseUrl: string): Promise<HeapFigures> {
  const text = await fetchMetrics(baseUrl);
  const read = (name: string, labels?: string) => metricValue(text, name, labels);
  const space = (name: string) => read('nodejs_heap_space_size_total_bytes', `\\{space="${name}"\\}`);
  return {
    heap: read('nodejs_heap_size_used_bytes'),
    external: read('nodejs_external_memory_bytes'),
    newSpace: space('new'),
    oldSpace: space('old'),
  };
}

async function measure(
  ctx: BenchContext,
  rec: ScenarioRecorder,
  label: string,
  pid: number,
  urlOf: (index: number) => string,
  databasePids: () => number[],
  metricsBaseUrl?: string,
): Promise<{ perSessionKiB: number; opened: number; connectRate: number; heapKiB?: number; externalKiB?: number; newSpaceKiB?: number; oldSpaceKiB?: number }> {
  const count = ctx.sizes.idleSessions;
  await ctx.waitQuiet(pid);
  await ctx.waitIdle(`${label} idle`);
  const heapBefore = metricsBaseUrl ? await heapFigures(metricsBaseUrl) : undefined;
  const before = await stableRss(pid);
  const meter = new CpuMeter(pid, databasePids);
  meter.start();
  const opened = await openSessions({ count, urlOf, concurrency: 50, timeoutMs: 120_000 });
  rec.cpu(`${label}: connecting ${count} sessions`, meter.stop());
  if (opened.failures.length > 0) {
    rec.note(`${label}: ${opened.failures.length} of ${count} sessions failed to open (first: ${opened.failures[0]})`);
  }
  startHeartbeats(opened.sessions);
  // Warm-up: connection storms (ready, presence) settle, then a fixed pause.
  await ctx.waitQuiet(pid);
  await sleep(ctx.sizes.warmupMs * 2);
  const idleMeter = new CpuMeter(pid, databasePids);
  idleMeter.start();
  await sleep(ctx.smoke ? 200 : 2000);
  rec.cpu(`${label}: ${count} idle sessions`, idleMeter.stop());
  const after = await stableRss(pid);
  const heapAfter = metricsBaseUrl ? await heapFigures(metricsBaseUrl) : undefined;
  const dropped = closedSessions(opened.sessions);
  if (dropped.length > 0) rec.note(`${label}: ${dropped.length} sessions were closed by the server while idle (first code ${dropped[0]!.closeCode})`);
  const live = opened.sessions.length - dropped.length;
  await closeSessions(opened.sessions);
  const perSessionKiB = live > 0 ? (after - before) / live / 1024 : Number.NaN;
  ctx.log(
    `  ${label}: RSS ${formatNumber(before / 1048576)} → ${formatNumber(after / 1048576)} MiB with ${live} sessions = ${formatNumber(perSessionKiB)} KiB/session (opened in ${opened.connect_s.toFixed(1)} s)`,
  );
  const heap =
    heapBefore && heapAfter && live > 0
      ? {
          heapKiB: (heapAfter.heap - heapBefore.heap) / live / 1024,
          externalKiB: (heapAfter.external - heapBefore.external) / live / 1024,
          newSpaceKiB: (heapAfter.newSpace - heapBefore.newSpace) / live / 1024,
          oldSpaceKiB: (heapAfter.oldSpace - heapBefore.oldSpace) / live / 1024,
        }
      : {};
  return { perSessionKiB, opened: live, connectRate: opened.sessions.length / opened.connect_s, ...heap };
}

export async function idleScenario(ctx: BenchContext, rec: ScenarioRecorder): Promise<void> {
  const count = ctx.sizes.idleSessions;
  rec.figure('parley_rss_per_session', `Parley: server RSS per authenticated idle session (${count.toLocaleString('en-US')} sessions)`, 'KiB', 'lower', {
    baseline: 'bare_rss_per_connection',
  });
  rec.figure('parley_heap_per_session', 'Parley: of which V8 heap used per session (GET /metrics)', 'KiB', 'lower');
  rec.figure('parley_external_per_session', 'Parley: of which external memory (Buffers) per session', 'KiB', 'lower');
  rec.figure('parley_new_space_per_session', 'Parley: V8 young generation committed, growth per session', 'KiB', 'lower');
  rec.figure('parley_old_space_per_session', 'Parley: V8 old space committed, growth per session', 'KiB', 'lower');
  rec.figure('bare_rss_per_connection', `bare ws: server RSS per idle connection (${count.toLocaleString('en-US')} connections)`, 'KiB', 'lower', { is_baseline: true });
  rec.figure('parley_connect_rate', 'Parley: sessions opened per second (upgrade + token check + ready)', 'sessions/s', 'higher', {
    baseline: 'bare_connect_rate',
  });
  rec.figure('bare_connect_rate', 'bare ws: connections opened per second (upgrade + hello)', 'connections/s', 'higher', { is_baseline: true });

  for (let round = 1; round <= ctx.repeat; round++) {
    ctx.log(` idle: round ${round}/${ctx.repeat}`);
    const server = await ctx.startParley('idle');
    try {
      const users = await ctx.users(server);
      // The first session of every user first (one presence change each), then the rest round-robin.
      const parley = await measure(
        ctx,
        rec,
        'Parley',
        server.pid,
        (index) => `${server.wsUrl}?token=${users[index % users.length]!.token}`,
        server.databasePids,
        server.baseUrl,
      );
      rec.record('parley_rss_per_session', parley.perSessionKiB);
      rec.record('parley_heap_per_session', parley.heapKiB ?? Number.NaN);
      rec.record('parley_external_per_session', parley.externalKiB ?? Number.NaN);
      rec.record('parley_new_space_per_session', parley.newSpaceKiB ?? Number.NaN);
      rec.record('parley_old_space_per_session', parley.oldSpaceKiB ?? Number.NaN);
      rec.record('parley_connect_rate', parley.connectRate);
    } finally {
      await server.stop();
    }

    const { process: bare, port } = await startBareWs({ ...(ctx.serverCpus !== undefined ? { cpus: ctx.serverCpus } : {}), workDir: ctx.workDir });
    try {
      const result = await measure(ctx, rec, 'bare ws', bare.pid, () => `ws://127.0.0.1:${port}/`, () => []);
      rec.record('bare_rss_per_connection', result.perSessionKiB);
      rec.record('bare_connect_rate', result.connectRate);
    } finally {
      await bare.stop();
    }
  }

  const perSession = rec.median('parley_rss_per_session');
  rec.target(
    'Idle: at most 16 KiB of server RSS per authenticated session',
    Number.isFinite(perSession) ? perSession <= 16 : null,
    `${formatNumber(perSession)} KiB per session (median)`,
  );
  const bare = rec.median('bare_rss_per_connection');
  rec.target(
    'Idle: at most 1.5× the bare ws RSS per connection',
    Number.isFinite(perSession / bare) ? perSession <= 1.5 * bare : null,
    `${formatNumber(perSession)} vs ${formatNumber(bare)} KiB = ×${formatNumber(perSession / bare)}`,
  );
}
