/**
 * Scenario 6 — search when most traffic is in channels the searcher cannot read (issue 9, item 11):
 * 1,000,000 messages in 1,000 public rooms, written in turn to every room (so unreadable traffic is
 * as recent as readable), the searcher a member of every tenth room: 90% of the messages are in
 * rooms it cannot read.
 *
 * Before and after side by side, in the same run against the same database: the search query as
 * it was (bench/baselines/search-before.ts) and the repository's searchMessages now, each called
 * straight through a Slonik pool like Parley's (10 connections) by 16 closed-loop workers, so the
 * figures are the queries' own cost. Their order alternates between repeats. Then
 * GET /messages/search through Parley (the current query end to end, 16 keep-alive connections).
 * Words: one word in ~0.6% of messages (`w0`..`w499`), and one in every message (`lorem`).
 */
import { createDatabasePool } from '../../src/db/pool.ts';
import { searchMessages } from '../../src/repositories/messages-repository.ts';
import { searchMessagesBefore } from '../baselines/search-before.ts';
import type { BenchContext, ScenarioRecorder } from '../lib/context.ts';
import { httpLoad } from '../lib/http-load.ts';
import type { ParleyServer } from '../lib/servers.ts';
import { seedHistory, VOCABULARY, type SeededHistory } from '../lib/seed.ts';
import { formatNumber, percentiles, Samples, sleep } from '../lib/stats.ts';
import { CpuMeter } from '../lib/system.ts';

/** The searcher joins every READER_EVERY-th room: 1 in 10, so 90% of the messages are unreadable. */
const READER_EVERY = 10;
/** bench_u1: bench_u0 reads every room of the history scenario when both run on one DATA_DIR. */
const SEARCHER = 1;
const POOL_SIZE = 10;

const seeded = new Map<string, SeededHistory>();

const rareWord = (i: number) => `w${(i * 37) % VOCABULARY}`;

interface LoadResult {
  /** Calls in the measured window. */
  requests: number;
  /** Calls from the first (warm-up included): the CPU meter covers them all. */
  calls: number;
  errors: number;
  requests_per_s: number;
  latencies_ms: Float64Array;
  sample_error?: string;
}

/** Closed loop: `workers` callers, each starting its next call when the previous one returns. */
async function queryLoad(call: (i: number) => Promise<unknown>, options: { workers: number; warmupMs: number; durationMs: number }): Promise<LoadResult> {
  const latencies = new Samples(1 << 14);
  let counter = 0;
  let requests = 0;
  let errors = 0;
  let sampleError: string | undefined;
  let measuring = false;
  let stopping = false;
  const worker = async () => {
    while (!stopping) {
      const started = performance.now();
      const inMeasure = measuring;
      try {
        await call(counter++);
        if (inMeasure && measuring) {
          latencies.push(performance.now() - started);
          requests += 1;
        }
      } catch (error) {
        errors += 1;
        sampleError ??= (error as Error).message.slice(0, 300);
      }
    }
  };
  const running = Array.from({ length: options.workers }, worker);
  await sleep(options.warmupMs);
  measuring = true;
  const measureStart = performance.now();
  await sleep(options.durationMs);
  measuring = false;
  const seconds = (performance.now() - measureStart) / 1000;
  stopping = true;
  await Promise.all(running);
  return { requests, calls: counter, errors, requests_per_s: requests / seconds, latencies_ms: latencies.view().slice(), ...(sampleError ? { sample_error: sampleError } : {}) };
}

async function seed(ctx: BenchContext, server: ParleyServer, users: { id: string }[]): Promise<SeededHistory> {
  let history = seeded.get(ctx.dataDir);
  if (history) return history;
  ctx.log(`  seeding ${ctx.sizes.historyMessages.toLocaleString('en-US')} messages in ${ctx.sizes.historyChannels} channels (the searcher in 1 of ${READER_EVERY})…`);
  history = await seedHistory(await server.databaseUrl(), {
    label: 'search',
    channels: ctx.sizes.historyChannels,
    messages: ctx.sizes.historyMessages,
    readerId: users[SEARCHER]!.id,
    readerEvery: READER_EVERY,
    authorIds: users.slice(0, 50).map((user) => user.id),
    log: ctx.log,
  });
  ctx.log(`  seed ${history.reused ? 'reused' : 'written'} in ${history.seconds.toFixed(1)} s`);
  seeded.set(ctx.dataDir, history);
  return history;
}

export async function searchScenario(ctx: BenchContext, rec: ScenarioRecorder): Promise<void> {
  const { httpConnections, historyMessages, historyChannels } = ctx.sizes;
  const shape = `${historyMessages.toLocaleString('en-US')} messages in ${historyChannels.toLocaleString('en-US')} rooms, 90% unreadable; the query alone, ${httpConnections} callers, pool of ${POOL_SIZE}`;
  const words = [
    { key: 'rare', label: 'one word in ~0.6% of messages', word: rareWord },
    { key: 'common', label: '`lorem`, in every message', word: () => 'lorem' },
  ];
  for (const { key, label } of words) {
    rec.figure(`${key}_after_qps`, `Parley: search query now, ${label} (${shape}) queries/s`, 'queries/s', 'higher', { baseline: `${key}_before_qps` });
    rec.figure(`${key}_after_p50`, `Parley: search query now, ${label}, p50`, 'ms', 'lower', { baseline: `${key}_before_p50` });
    rec.figure(`${key}_after_p99`, `Parley: search query now, ${label}, p99`, 'ms', 'lower', { baseline: `${key}_before_p99` });
    rec.figure(`${key}_after_pgms`, `Parley: search query now, ${label}, PostgreSQL CPU per query`, 'ms', 'lower', { baseline: `${key}_before_pgms` });
    rec.figure(`${key}_before_qps`, `search query before (baseline): ${label}, queries/s`, 'queries/s', 'higher', { is_baseline: true });
    rec.figure(`${key}_before_p50`, `search query before (baseline): ${label}, p50`, 'ms', 'lower', { is_baseline: true });
    rec.figure(`${key}_before_p99`, `search query before (baseline): ${label}, p99`, 'ms', 'lower', { is_baseline: true });
    rec.figure(`${key}_before_pgms`, `search query before (baseline): ${label}, PostgreSQL CPU per query`, 'ms', 'lower', { is_baseline: true });
  }
  rec.figure('http_rps', `Parley: GET /messages/search end to end, one word in ~0.6% of messages (${httpConnections} connections) req/s`, 'req/s', 'higher');
  rec.figure('http_p50', 'Parley: GET /messages/search end to end, p50', 'ms', 'lower');
  rec.figure('http_p99', 'Parley: GET /messages/search end to end, p99', 'ms', 'lower');

  for (let round = 1; round <= ctx.repeat; round++) {
    ctx.log(` search: round ${round}/${ctx.repeat}`);
    const server = await ctx.startParley('search');
    try {
      const users = await ctx.users(server, Math.min(ctx.sizes.users, 50));
      await seed(ctx, server, users);
      const searcher = users[SEARCHER]!;
      await ctx.waitQuiet(server.pid);
      const pool = await createDatabasePool(await server.databaseUrl(), POOL_SIZE);
      try {
        // One idle wait per repeat, not per window: before and after run back to back, so they
        // see the same machine (it is shared and busy), and the ratio is the figure to use.
        await ctx.waitIdle('search queries, before and now');
        const measure = async (label: string, prefix: string, call: (i: number) => Promise<unknown>) => {
          const meter = new CpuMeter(server.pid, server.databasePids);
          const started = performance.now();
          meter.start();
          const result = await queryLoad(call, { workers: httpConnections, warmupMs: ctx.sizes.warmupMs, durationMs: ctx.sizes.httpSeconds * 1000 });
          const cpu = meter.stop();
          rec.cpu(label, cpu);
          // CPU per query is what a busy shared machine changes least: a window in which
          // PostgreSQL got less of its core shows fewer queries/s, not more CPU per query.
          const databaseMs = (cpu.database_cpu_percent / 100) * (performance.now() - started);
          if (result.errors > 0 || result.requests === 0) rec.note(`${label}: ${result.errors} failed of ${result.requests} calls (first: ${result.sample_error ?? 'none'})`);
          const [p50, p99] = percentiles(result.latencies_ms, [50, 99]);
          rec.record(`${prefix}_qps`, result.requests_per_s);
          rec.record(`${prefix}_p50`, p50!);
          rec.record(`${prefix}_p99`, p99!);
          rec.record(`${prefix}_pgms`, databaseMs / Math.max(1, result.calls));
          ctx.log(
            `  ${label}: ${formatNumber(result.requests_per_s)} queries/s, p50 ${formatNumber(p50!)} ms, p99 ${formatNumber(p99!)} ms, ` +
              `PostgreSQL ${formatNumber(databaseMs / Math.max(1, result.calls))} ms CPU per query`,
          );
        };
        for (const { key, label, word } of words) {
          const input = (i: number) => ({ userId: searcher.id, guildChannelIds: [], q: word(i), limit: 50 });
          const before = () => measure(`search query before (${label})`, `${key}_before`, (i) => searchMessagesBefore(pool, input(i)));
          const after = () => measure(`search query now (${label})`, `${key}_after`, (i) => searchMessages(pool, input(i)));
          // Alternate the order between repeats (a warmer cache favours the second).
          if (round % 2 === 1) {
            await before();
            await after();
          } else {
            await after();
            await before();
          }
        }
      } finally {
        await pool.end();
      }

      const meter = new CpuMeter(server.pid, server.databasePids);
      meter.start();
      const result = await httpLoad({
        port: server.port,
        headers: { authorization: `Bearer ${searcher.token}` },
        path: (i) => `/api/v1/messages/search?q=${rareWord(i)}`,
        connections: httpConnections,
        warmupMs: ctx.sizes.warmupMs,
        durationMs: ctx.sizes.httpSeconds * 1000,
      });
      rec.cpu('Parley GET /messages/search', meter.stop());
      if (result.errors > 0 || result.requests === 0) {
        rec.note(`GET /messages/search: ${result.errors} failed of ${result.requests} requests (${JSON.stringify(result.statuses)}; first: ${result.sample_error ?? 'none'})`);
      }
      const [p50, p99] = percentiles(result.latencies_ms, [50, 99]);
      rec.record('http_rps', result.requests_per_s);
      rec.record('http_p50', p50!);
      rec.record('http_p99', p99!);
      ctx.log(`  Parley GET /messages/search: ${formatNumber(result.requests_per_s)} req/s, p50 ${formatNumber(p50!)} ms, p99 ${formatNumber(p99!)} ms`);
    } finally {
      await server.stop();
    }
  }

  for (const { key, label } of words) {
    const after = rec.median(`${key}_after_pgms`);
    const before = rec.median(`${key}_before_pgms`);
    rec.target(
      `Search (${label}), 90% of the traffic unreadable: the query now costs PostgreSQL no more CPU than before`,
      Number.isFinite(after / before) ? after <= before : null,
      `${formatNumber(after)} vs ${formatNumber(before)} ms per query = ×${formatNumber(after / before)}` +
        ` (${formatNumber(rec.median(`${key}_after_qps`))} vs ${formatNumber(rec.median(`${key}_before_qps`))} queries/s)`,
    );
  }
}
