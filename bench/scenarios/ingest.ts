/**
 * Scenario 3 — ingest: S senders, each in its own small room (the sender and one other member),
 * all sending concurrently, each sending its next message when the previous one is acked (ack =
 * committed). Figures: persisted messages per second and ack latency p50/p99. Baseline: raw
 * single-row INSERTs through `pg` with the same concurrency into a copy of `messages`.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { HIGH_FRAME_RATE_ENV, type BenchContext, type ScenarioRecorder } from '../lib/context.ts';
import { closeSessions, closedSessions, openSessions, startHeartbeats } from '../lib/gateway-clients.ts';
import { addMember, createRoom, inBatches, type BenchUser } from '../lib/parley-api.ts';
import { startBaseline, type ParleyServer } from '../lib/servers.ts';
import { ACK, ERROR } from '../lib/frame-marks.ts';
import { formatNumber, percentiles, Samples, sleep } from '../lib/stats.ts';
import { CpuMeter } from '../lib/system.ts';

const RAW_TABLE = 'bench_raw_messages';
const roomsByDataDir = new Map<string, string[]>();

/** Room r: owned by user r, with user r+1 as the second member. */
async function ingestRooms(ctx: BenchContext, baseUrl: string, users: BenchUser[], count: number): Promise<string[]> {
  let rooms = roomsByDataDir.get(ctx.dataDir);
  if (rooms) return rooms;
  const created: string[] = new Array(count);
  await inBatches(
    Array.from({ length: count }, (_, index) => index),
    16,
    async (index) => {
      const owner = users[index]!;
      const other = users[(index + 1) % users.length]!;
      const room = await createRoom(baseUrl, owner.token, `bench-ingest-${index}-${Date.now()}`, 'private');
      await addMember(baseUrl, owner.token, room, other.id);
      created[index] = room;
    },
  );
  rooms = created;
  roomsByDataDir.set(ctx.dataDir, rooms);
  return rooms;
}

/** A copy of Parley's messages table (columns, generated search vector, indexes), without foreign keys. */
async function ensureRawTable(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS ${RAW_TABLE} (LIKE messages INCLUDING ALL)`);
  } finally {
    await client.end();
  }
}

async function parleyRound(ctx: BenchContext, rec: ScenarioRecorder, server: ParleyServer, users: BenchUser[], rooms: string[]): Promise<void> {
  const senders = rooms.length;
  const opened = await openSessions({ count: senders, urlOf: (index) => `${server.wsUrl}?token=${users[index]!.token}`, concurrency: 50 });
  try {
    if (opened.failures.length > 0) throw new Error(`ingest: ${opened.failures.length} sessions failed to open (first: ${opened.failures[0]})`);
    startHeartbeats(opened.sessions);
    await ctx.waitQuiet(server.pid);
    await ctx.waitIdle('Parley ingest');
    let measuring = false;
    let stopping = false;
    let acked = 0;
    let errors = 0;
    let firstError: string | undefined;
    const latencies = new Samples(1 << 16);
    const loops = opened.sessions.map(
      (session) =>
        new Promise<void>((resolve) => {
          const room = rooms[session.index]!;
          let n = 0;
          let sentAt = 0;
          let inWindow = false;
          const sendNext = () => {
            if (stopping) return resolve();
            inWindow = measuring;
            sentAt = performance.now();
            session.ws.send(`{"type":"send_message","ref":"${n}","channel_id":"${room}","content":"ingest#${session.index}#${n++} a short chat message"}`);
          };
          session.onFrame = (data: Buffer) => {
            if (data.indexOf(ACK) >= 0) {
              if (inWindow && measuring) {
                acked += 1;
                latencies.push(performance.now() - sentAt);
              }
              sendNext();
            } else if (data.indexOf(ERROR) >= 0) {
              errors += 1;
              firstError ??= data.toString().slice(0, 300);
              sendNext();
            }
          };
          session.ws.once('close', () => resolve());
          sendNext();
        }),
    );
    await sleep(ctx.sizes.warmupMs);
    const meter = new CpuMeter(server.pid, server.databasePids);
    meter.start();
    measuring = true;
    const started = performance.now();
    await sleep(ctx.sizes.ingestSeconds * 1000);
    measuring = false;
    const seconds = (performance.now() - started) / 1000;
    rec.cpu(`Parley: ${senders} concurrent senders`, meter.stop());
    stopping = true;
    await Promise.race([Promise.all(loops), sleep(10_000)]);
    const [p50, p99] = percentiles(latencies.view(), [50, 99]);
    rec.record('parley_messages_per_s', acked / seconds);
    rec.record('parley_ack_p50', p50!);
    rec.record('parley_ack_p99', p99!);
    if (errors > 0) rec.note(`Parley ingest: ${errors} error frames (first: ${firstError})`);
    const dropped = closedSessions(opened.sessions);
    if (dropped.length > 0) rec.note(`Parley ingest: ${dropped.length} sessions closed by the server (first code ${dropped[0]!.closeCode})`);
    ctx.log(`  Parley: ${formatNumber(acked / seconds)} persisted msg/s, ack p50 ${formatNumber(p50!)} ms, p99 ${formatNumber(p99!)} ms`);
  } finally {
    await closeSessions(opened.sessions);
  }
}

async function rawRound(ctx: BenchContext, rec: ScenarioRecorder, server: ParleyServer, users: BenchUser[], rooms: string[]): Promise<void> {
  const databaseUrl = await server.databaseUrl();
  await ensureRawTable(databaseUrl);
  const paramsFile = path.join(ctx.workDir, 'raw-insert-params.json');
  await writeFile(paramsFile, JSON.stringify({ channel_ids: rooms, author_ids: users.slice(0, rooms.length).map((user) => user.id) }));
  await ctx.waitIdle('raw INSERT loop');
  const loop = await startBaseline(
    'raw-insert-loop.ts',
    [
      `--database-url=${databaseUrl}`,
      `--table=${RAW_TABLE}`,
      `--params=${paramsFile}`,
      `--concurrency=${rooms.length}`,
      // The same pool size as Parley's (DATABASE_POOL_SIZE default).
      '--pool=10',
      `--warmup-ms=${ctx.sizes.warmupMs}`,
      `--duration-ms=${ctx.sizes.ingestSeconds * 1000}`,
    ],
    { cpus: ctx.serverCpus, logFile: path.join(ctx.workDir, 'raw-insert.log') },
  );
  await sleep(ctx.sizes.warmupMs);
  const meter = new CpuMeter(loop.pid, server.databasePids);
  meter.start();
  await sleep(ctx.sizes.ingestSeconds * 1000);
  // Stop the meter before the loop exits: its PostgreSQL backends end with it.
  const cpu = meter.stop();
  const result = (await loop.result()) as { inserts_per_s: number; latency_p50_ms: number; latency_p99_ms: number; errors: number; first_error?: string };
  rec.cpu(`raw INSERT loop: ${rooms.length} concurrent`, cpu);
  if (result.errors > 0) rec.note(`raw INSERT loop: ${result.errors} errors (first: ${result.first_error})`);
  rec.record('raw_inserts_per_s', result.inserts_per_s);
  rec.record('raw_p50', result.latency_p50_ms);
  rec.record('raw_p99', result.latency_p99_ms);
  ctx.log(
    `  raw INSERT loop: ${formatNumber(result.inserts_per_s)} rows/s, p50 ${formatNumber(result.latency_p50_ms)} ms, p99 ${formatNumber(result.latency_p99_ms)} ms`,
  );
}

export async function ingestScenario(ctx: BenchContext, rec: ScenarioRecorder): Promise<void> {
  rec.result.server_env_overrides = HIGH_FRAME_RATE_ENV;
  const senders = ctx.sizes.ingestSenders;
  rec.figure('parley_messages_per_s', `Parley: persisted messages/s (${senders} senders in ${senders} rooms, ack after commit)`, 'msg/s', 'higher', {
    baseline: 'raw_inserts_per_s',
  });
  rec.figure('raw_inserts_per_s', `raw single-row INSERT loop: rows/s (${senders} concurrent, pool 10)`, 'rows/s', 'higher', { is_baseline: true });
  rec.figure('parley_ack_p50', 'Parley: ack latency p50', 'ms', 'lower', { baseline: 'raw_p50' });
  rec.figure('parley_ack_p99', 'Parley: ack latency p99', 'ms', 'lower', { baseline: 'raw_p99' });
  rec.figure('raw_p50', 'raw INSERT loop: latency p50', 'ms', 'lower', { is_baseline: true });
  rec.figure('raw_p99', 'raw INSERT loop: latency p99', 'ms', 'lower', { is_baseline: true });

  for (let round = 1; round <= ctx.repeat; round++) {
    ctx.log(` ingest: round ${round}/${ctx.repeat}`);
    const server = await ctx.startParley('ingest', HIGH_FRAME_RATE_ENV);
    try {
      const users = await ctx.users(server);
      if (users.length < senders) throw new Error(`ingest needs ${senders} users, have ${users.length}`);
      const rooms = await ingestRooms(ctx, server.baseUrl, users, senders);
      await parleyRound(ctx, rec, server, users, rooms);
      // The baseline uses the same PostgreSQL, with Parley idle beside it.
      await rawRound(ctx, rec, server, users, rooms);
    } finally {
      await server.stop();
    }
  }

  const rate = rec.median('parley_messages_per_s');
  const raw = rec.median('raw_inserts_per_s');
  rec.target('Ingest: at least 10,000 persisted messages per second', Number.isFinite(rate) ? rate >= 10_000 : null, `${formatNumber(rate)} msg/s (median)`);
  rec.target(
    "Ingest: at least the raw single-row INSERT loop's rate",
    Number.isFinite(rate) && Number.isFinite(raw) ? rate >= raw : null,
    `${formatNumber(rate)} vs ${formatNumber(raw)} rows/s = ${formatNumber((rate / raw) * 100)}%`,
  );
}
