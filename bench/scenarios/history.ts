/**
 * Scenario 4 — history and search over a seeded database (1,000,000 messages in 1,000 channels):
 * GET /channels/{id}/messages?limit=50 (the newest page, and deep `before` pages) requests per
 * second and p99, and GET /messages/search p50/p99, each with a fixed number of keep-alive
 * connections. Baseline for the pages: a bare Fastify + `pg` route doing the same work
 * (bench/baselines/bare-history-route.ts: HS256 check, session and membership lookups, the same
 * prepared page query, the same JSON through a response schema), run between Parley's two page
 * loads in every repeat; its bytes are compared with Parley's. A bare `SELECT 1` route stays as
 * a reference line (the cost of Fastify + one round trip alone).
 */
import path from 'node:path';
import type { BenchContext, ScenarioRecorder } from '../lib/context.ts';
import { httpLoad, type HttpLoadOptions } from '../lib/http-load.ts';
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { gcSeconds } from '../lib/parley-metrics.ts';
import { onFreePort, startBaseline, startParley, type ParleyServer } from '../lib/servers.ts';
import { seedHistory, VOCABULARY, type SeededHistory } from '../lib/seed.ts';
import { formatNumber, percentiles } from '../lib/stats.ts';
import { CpuMeter, freePort } from '../lib/system.ts';

/**
 * BENCH_HISTORY_COMPARE_ROOT=<checkout>[,<checkout>...]: other checkouts of Parley (e.g. `git
 * worktree`s of earlier commits, with node_modules linked) also serve the newest page in every
 * repeat, one after the other on the same database and core: the before/after of each change
 * within one run. `<checkout>|<node flags>` runs that checkout with extra node flags after the
 * start script's (V8 takes the last value of a flag): e.g. `$PWD|--max-semi-space-size=8` compares
 * a V8 setting on the same code in the same run.
 */
const compareBuilds = (process.env.BENCH_HISTORY_COMPARE_ROOT ?? '')
  .split(',')
  .filter((entry) => entry !== '')
  .map((entry, index) => {
    const [root = '', flags = ''] = entry.split('|');
    const nodeArgs = flags.split(' ').filter(Boolean);
    let label: string;
    try {
      label = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      label = path.basename(root);
    }
    if (nodeArgs.length > 0) label += ` ${nodeArgs.join(' ')}`;
    return { root, label, nodeArgs, prefix: `compare${index + 1}_newest` };
  });

const seeded = new Map<string, SeededHistory>();

async function load(
  ctx: BenchContext,
  rec: ScenarioRecorder,
  label: string,
  prefix: string,
  pid: number,
  database: { pids: () => number[]; url: string },
  options: Omit<HttpLoadOptions, 'connections' | 'warmupMs' | 'durationMs'>,
  /** A Parley build's base URL: its GC time over the window is read from GET /metrics and recorded per request. */
  gcOf?: string,
): Promise<void> {
  const percentilesWanted = [50, 99];
  const { result, gcMs } = await ctx.databaseWindow(label, database.url, async () => {
    const meter = new CpuMeter(pid, database.pids);
    const gcBefore = gcOf === undefined ? 0 : await gcSeconds(gcOf);
    meter.start();
    const measured = await httpLoad({ ...options, connections: ctx.sizes.httpConnections, warmupMs: ctx.sizes.warmupMs, durationMs: ctx.sizes.httpSeconds * 1000 });
    rec.cpu(label, meter.stop());
    // Over warm-up, window and the requests in flight at its end: per request sent in all of them.
    return { result: measured, gcMs: gcOf === undefined ? Number.NaN : ((await gcSeconds(gcOf)) - gcBefore) * 1000 };
  });
  if (gcOf !== undefined) {
    const requests = result.sent;
    const gcUs = (gcMs * 1000) / Math.max(1, requests);
    rec.record(`${prefix}_gc_us`, gcUs);
    ctx.log(`  ${label}: GC ${formatNumber(gcUs)} µs per request (${formatNumber(gcMs)} ms over ${requests} requests, warm-up included; GET /metrics)`);
  }
  const values = percentiles(result.latencies_ms, percentilesWanted);
  if (result.errors > 0 || result.requests === 0) {
    rec.note(`${label}: ${result.errors} failed of ${result.requests} requests (${JSON.stringify(result.statuses)}; first: ${result.sample_error ?? 'none'})`);
  }
  rec.record(`${prefix}_rps`, result.requests_per_s);
  percentilesWanted.forEach((p, i) => rec.record(`${prefix}_p${p}`, values[i]!));
  ctx.log(`  ${label}: ${formatNumber(result.requests_per_s)} req/s, ${percentilesWanted.map((p, i) => `p${p} ${formatNumber(values[i]!)} ms`).join(', ')}`);
}

/**
 * The baseline must do the same work: its page must be Parley's, byte for byte (same rows, same
 * shape, same timestamps). A difference is recorded as a note, so a run never compares unequal work silently.
 */
async function sameBytes(rec: ScenarioRecorder, parleyPort: number, barePort: number, channelId: string, headers: Record<string, string>): Promise<void> {
  const get = async (port: number, prefix: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${prefix}/channels/${channelId}/messages?limit=50`, { headers });
    return { status: response.status, body: await response.text() };
  };
  const parley = await get(parleyPort, '/api/v1');
  const bare = await get(barePort, '');
  if (parley.status !== 200 || bare.status !== 200 || parley.body !== bare.body) {
    rec.note(
      `bare history route: the same-bytes check failed, its page differs from Parley's (HTTP ${bare.status} vs ${parley.status}, ${bare.body.length} vs ${parley.body.length} bytes): the comparison is not of equal work`,
    );
  }
}

async function seed(ctx: BenchContext, server: ParleyServer): Promise<SeededHistory> {
  let history = seeded.get(ctx.dataDir);
  if (history) return history;
  const users = await ctx.users(server);
  ctx.log(`  seeding ${ctx.sizes.historyMessages.toLocaleString('en-US')} messages in ${ctx.sizes.historyChannels} channels…`);
  history = await seedHistory(await server.databaseUrl(), {
    channels: ctx.sizes.historyChannels,
    messages: ctx.sizes.historyMessages,
    readerId: users[0]!.id,
    authorIds: users.slice(0, 50).map((user) => user.id),
    log: ctx.log,
  });
  ctx.log(`  seed ${history.reused ? 'reused' : 'written'} in ${history.seconds.toFixed(1)} s`);
  seeded.set(ctx.dataDir, history);
  return history;
}

/**
 * The newest page against the bare same-work route in short interleaved slices (Parley, bare, bare,
 * Parley, ...) with both servers up: the ratio of each pair of neighbouring slices. On this
 * machine a single 10 s window moves by ±30% with the host, so the ratio of two medians of
 * windows taken minutes apart does not resolve a difference of 10% (bench/analysis.md, history,
 * round 5); slices seconds apart see the same host. Alternating which goes first cancels a drift
 * within a pair.
 */
async function pairedSlices(
  ctx: BenchContext,
  rec: ScenarioRecorder,
  server: ParleyServer,
  database: { pids: () => number[]; url: string },
  channels: readonly string[],
  headers: Record<string, string>,
): Promise<void> {
  const pairs = ctx.smoke ? 2 : 8;
  const sliceMs = ctx.smoke ? 300 : 3000;
  const bareRoute = await onFreePort((port) =>
    startBaseline('bare-history-route.ts', [`--port=${port}`, `--database-url=${database.url}`, '--pool=10', `--jwt-secret=${ctx.jwtSecret}`], {
      cpus: ctx.serverCpus,
      logFile: path.join(ctx.workDir, 'bare_history_paired.log'),
    }),
  );
  try {
    const barePort = Number(bareRoute.ready.port);
    await sameBytes(rec, server.port, barePort, channels[0]!, headers);
    const sides = [
      { name: 'Parley', port: server.port, prefix: '/api/v1' },
      { name: 'bare', port: barePort, prefix: '' },
    ];
    const slice = (side: (typeof sides)[number], warmupMs: number, durationMs: number) =>
      httpLoad({ port: side.port, headers, connections: ctx.sizes.httpConnections, warmupMs, durationMs, path: (i) => `${side.prefix}/channels/${channels[i % channels.length]}/messages?limit=50` });
    // The bare route's JIT and pool warm, as Parley's are by the loads before.
    await slice(sides[1]!, 0, ctx.sizes.warmupMs);
    await ctx.databaseWindow('paired slices: Parley newest page / bare route', database.url, async () => {
      const ratios: string[] = [];
      for (let pair = 0; pair < pairs; pair++) {
        const order = pair % 2 === 0 ? sides : [...sides].reverse();
        const rps = new Map<string, number>();
        for (const side of order) {
          const result = await slice(side, 500, sliceMs);
          if (result.errors > 0) rec.note(`paired slices: ${side.name} had ${result.errors} failed requests (${JSON.stringify(result.statuses)})`);
          rps.set(side.name, result.requests_per_s);
        }
        const ratio = (100 * rps.get('Parley')!) / rps.get('bare')!;
        rec.record('paired_ratio', ratio);
        ratios.push(`${formatNumber(rps.get('Parley')!)}/${formatNumber(rps.get('bare')!)} = ${formatNumber(ratio)}%`);
      }
      ctx.log(`  paired slices (${pairs} × ${sliceMs / 1000} s each side): ${ratios.join(', ')}`);
    });
  } finally {
    await bareRoute.stop();
  }
}

export async function historyScenario(ctx: BenchContext, rec: ScenarioRecorder): Promise<void> {
  const { httpConnections, historyMessages, historyChannels } = ctx.sizes;
  const shape = `${historyMessages.toLocaleString('en-US')} messages in ${historyChannels.toLocaleString('en-US')} channels, ${httpConnections} connections`;
  rec.figure('newest_rps', `Parley: newest page (limit=50) req/s (${shape})`, 'req/s', 'higher', { baseline: 'bare_history_rps' });
  rec.figure('newest_p50', 'Parley: newest page p50', 'ms', 'lower', { baseline: 'bare_history_p50' });
  rec.figure('newest_p99', 'Parley: newest page p99', 'ms', 'lower', { baseline: 'bare_history_p99' });
  rec.figure('newest_gc_us', 'Parley: newest page, time in V8 GC per request (GET /metrics; warm-up included)', 'µs', 'lower');
  rec.figure('paired_ratio', "Parley's newest page req/s over the bare same-work route's, per pair of interleaved 3 s slices", '%', 'higher');
  rec.figure('deep_rps', 'Parley: deep `before` page (limit=50, ~90% back) req/s', 'req/s', 'higher', { baseline: 'newest_rps' });
  rec.figure('deep_p50', 'Parley: deep `before` page p50', 'ms', 'lower', { baseline: 'newest_p50' });
  rec.figure('deep_p99', 'Parley: deep `before` page p99', 'ms', 'lower', { baseline: 'newest_p99' });
  rec.figure('search_rps', 'Parley: search across all readable channels req/s (one word in ~0.6% of messages)', 'req/s', 'higher');
  rec.figure('search_p50', 'Parley: search across all readable channels p50', 'ms', 'lower');
  rec.figure('search_p99', 'Parley: search across all readable channels p99', 'ms', 'lower');
  rec.figure('search_channel_rps', 'Parley: search in one channel (`channel_id`) req/s', 'req/s', 'higher');
  rec.figure('search_channel_p50', 'Parley: search in one channel (`channel_id`) p50', 'ms', 'lower');
  rec.figure('search_channel_p99', 'Parley: search in one channel (`channel_id`) p99', 'ms', 'lower');
  for (const build of compareBuilds) {
    rec.figure(`${build.prefix}_rps`, `Parley at ${build.label} (A/B): newest page req/s`, 'req/s', 'higher', { baseline: 'bare_history_rps' });
    rec.figure(`${build.prefix}_p50`, `Parley at ${build.label} (A/B): newest page p50`, 'ms', 'lower', { baseline: 'bare_history_p50' });
    rec.figure(`${build.prefix}_p99`, `Parley at ${build.label} (A/B): newest page p99`, 'ms', 'lower', { baseline: 'bare_history_p99' });
    rec.figure(`${build.prefix}_gc_us`, `Parley at ${build.label} (A/B): newest page, time in V8 GC per request`, 'µs', 'lower', { baseline: 'newest_gc_us' });
  }
  rec.figure('bare_history_rps', 'bare Fastify + pg history route, same work (newest page, limit=50) req/s', 'req/s', 'higher', { is_baseline: true });
  rec.figure('bare_history_p50', 'bare Fastify + pg history route p50', 'ms', 'lower', { is_baseline: true });
  rec.figure('bare_history_p99', 'bare Fastify + pg history route p99', 'ms', 'lower', { is_baseline: true });
  rec.figure('bare_history1_rps', "bare Fastify + pg history route with Parley's one-round-trip query req/s", 'req/s', 'higher', { is_baseline: true });
  rec.figure('bare_history1_p50', 'bare Fastify + pg history route, one round trip, p50', 'ms', 'lower', { is_baseline: true });
  rec.figure('bare_history1_p99', 'bare Fastify + pg history route, one round trip, p99', 'ms', 'lower', { is_baseline: true });
  rec.figure('select1_rps', 'bare Fastify + pg `SELECT 1` req/s', 'req/s', 'higher', { is_baseline: true });
  rec.figure('select1_p50', 'bare Fastify + pg `SELECT 1` p50', 'ms', 'lower', { is_baseline: true });
  rec.figure('select1_p99', 'bare Fastify + pg `SELECT 1` p99', 'ms', 'lower', { is_baseline: true });

  for (let round = 1; round <= ctx.repeat; round++) {
    ctx.log(` history: round ${round}/${ctx.repeat}`);
    const server = await ctx.startParley('history');
    try {
      const users = await ctx.users(server);
      const history = await seed(ctx, server);
      const token = users[0]!.token;
      const headers = { authorization: `Bearer ${token}` };
      const channels = history.channelIds;
      await ctx.waitQuiet(server.pid);

      // Warm-up: every channel's newest and deep page once, so neither load starts on a cold cache.
      await httpLoad({
        port: server.port,
        headers,
        connections: ctx.sizes.httpConnections,
        warmupMs: 0,
        durationMs: 120_000,
        maxRequests: channels.length * 2,
        path: (i) =>
          `/api/v1/channels/${channels[Math.floor(i / 2) % channels.length]}/messages?limit=50${i % 2 === 1 ? `&before=${history.deepCursors[Math.floor(i / 2) % channels.length]}` : ''}`,
      });
      const databaseUrl = await server.databaseUrl();
      const database = { pids: server.databasePids, url: databaseUrl };
      // The bare route twice: with the issue's two lookups (the target's baseline), and with
      // Parley's one-round-trip query (everything but the query design compared).
      const bare = async () => {
        for (const variant of [
          { prefix: 'bare_history', label: 'bare history route (same work)', args: [] as string[] },
          { prefix: 'bare_history1', label: 'bare history route, one round trip', args: ['--one-round-trip'] },
        ]) {
          const bareHistory = await onFreePort((port) =>
            startBaseline(
              'bare-history-route.ts',
              [`--port=${port}`, `--database-url=${databaseUrl}`, '--pool=10', `--jwt-secret=${ctx.jwtSecret}`, ...variant.args],
              {
                cpus: ctx.serverCpus,
                logFile: path.join(ctx.workDir, `${variant.prefix}.log`),
                // With --profile the baseline is profiled too, for the per-stage comparison in bench/analysis.md.
                nodeArgs: ctx.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`, `--cpu-prof-name=${variant.prefix}-${round}.cpuprofile`] : [],
              },
            ),
          );
          try {
            const barePort = Number(bareHistory.ready.port);
            await sameBytes(rec, server.port, barePort, channels[0]!, headers);
            await load(ctx, rec, variant.label, variant.prefix, bareHistory.pid, database, {
              port: barePort,
              headers,
              path: (i) => `/channels/${channels[i % channels.length]}/messages?limit=50`,
            });
          } finally {
            await bareHistory.stop();
          }
        }
      };
      // Alternate the order of the two history loads between repeats (cache warm-up favours the
      // second); the bare route runs between them, next to the newest page in both orders.
      const newest = () =>
        load(
          ctx,
          rec,
          'Parley newest page',
          'newest',
          server.pid,
          database,
          { port: server.port, headers, path: (i) => `/api/v1/channels/${channels[i % channels.length]}/messages?limit=50` },
          server.baseUrl,
        );
      const deep = () =>
        load(ctx, rec, 'Parley deep before page', 'deep', server.pid, database, {
          port: server.port,
          headers,
          path: (i) => `/api/v1/channels/${channels[i % channels.length]}/messages?limit=50&before=${history.deepCursors[i % channels.length]}`,
        });
      // The A/B builds, when asked for: each a second Parley on the same database (DATABASE_URL).
      const compare = async () => {
        for (const build of compareBuilds) {
          const compareDir = path.join(ctx.workDir, `${build.prefix}-data`);
          await mkdir(compareDir, { recursive: true });
          const other = await startParley({
            root: build.root,
            dataDir: compareDir,
            port: await freePort(),
            pgPort: await freePort(),
            cpus: ctx.serverCpus,
            jwtSecret: ctx.jwtSecret,
            logFile: path.join(ctx.workDir, `parley-${build.prefix}-${round}.log`),
            env: { DATABASE_URL: databaseUrl },
            // The same experiment's flags as the main build (e.g. bench/allocation-sampler.ts), so the two compare.
            nodeArgs: [...ctx.parleyNodeArgs, ...build.nodeArgs],
          });
          try {
            await ctx.waitQuiet(other.pid);
            await load(
              ctx,
              rec,
              `Parley at ${build.label} newest page`,
              build.prefix,
              other.pid,
              database,
              { port: other.port, headers, path: (i) => `/api/v1/channels/${channels[i % channels.length]}/messages?limit=50` },
              other.baseUrl,
            );
          } finally {
            await other.stop();
          }
        }
      };
      if (round % 2 === 1) {
        await newest();
        await compare();
        await bare();
        await deep();
      } else {
        await deep();
        await bare();
        await compare();
        await newest();
      }
      await pairedSlices(ctx, rec, server, database, channels, headers);
      await load(ctx, rec, 'Parley search (all channels)', 'search', server.pid, database, {
        port: server.port,
        headers,
        path: (i) => `/api/v1/messages/search?q=w${(i * 37) % VOCABULARY}`,
      });
      await load(
        ctx,
        rec,
        'Parley search (one channel)',
        'search_channel',
        server.pid,
        database,
        { port: server.port, headers, path: (i) => `/api/v1/messages/search?q=w${(i * 37) % VOCABULARY}&channel_id=${channels[i % channels.length]}` },
      );

      const select1 = await onFreePort((port) =>
        startBaseline('bare-fastify-select1.ts', [`--port=${port}`, `--database-url=${databaseUrl}`, '--pool=10'], {
          cpus: ctx.serverCpus,
          logFile: path.join(ctx.workDir, 'bare-fastify.log'),
        }),
      );
      const port = Number(select1.ready.port);
      try {
        await load(ctx, rec, 'bare Fastify SELECT 1', 'select1', select1.pid, database, { port, path: () => '/select1' });
      } finally {
        await select1.stop();
      }
    } finally {
      await server.stop();
    }
  }

  const newest = rec.median('newest_rps');
  const deep = rec.median('deep_rps');
  const bareRps = rec.median('bare_history_rps');
  const newestP99 = rec.median('newest_p99');
  const bareP99 = rec.median('bare_history_p99');
  rec.target(
    "History: at least 80% of the bare same-work route's requests per second (newest page)",
    Number.isFinite(newest / bareRps) ? newest / bareRps >= 0.8 : null,
    `newest page ${formatNumber(newest)} vs ${formatNumber(bareRps)} req/s = ${formatNumber((newest / bareRps) * 100)}%`,
  );
  const paired = rec.median('paired_ratio');
  rec.target(
    "History, interleaved slices: at least 80% of the bare same-work route's requests per second (median of the pairs' ratios)",
    Number.isFinite(paired) ? paired >= 80 : null,
    `median of ${ctx.repeat * (ctx.smoke ? 2 : 8)} pairs ${formatNumber(paired)}%`,
  );
  const bare1Rps = rec.median('bare_history1_rps');
  rec.target(
    "History (stricter): at least 80% of the bare route's requests per second when it uses Parley's one-round-trip query",
    Number.isFinite(newest / bare1Rps) ? newest / bare1Rps >= 0.8 : null,
    `newest page ${formatNumber(newest)} vs ${formatNumber(bare1Rps)} req/s = ${formatNumber((newest / bare1Rps) * 100)}%`,
  );
  rec.target(
    "History: newest page p99 at most 1.5× the bare same-work route's p99",
    Number.isFinite(newestP99 / bareP99) ? newestP99 / bareP99 <= 1.5 : null,
    `p99 ${formatNumber(newestP99)} vs ${formatNumber(bareP99)} ms = ×${(newestP99 / bareP99).toFixed(2)}`,
  );
  rec.target(
    'History: deep pages as fast as the newest page (≥ 90% of its req/s)',
    Number.isFinite(deep / newest) ? deep / newest >= 0.9 : null,
    `deep ${formatNumber(deep)} vs newest ${formatNumber(newest)} req/s = ${formatNumber((deep / newest) * 100)}%`,
  );
}
