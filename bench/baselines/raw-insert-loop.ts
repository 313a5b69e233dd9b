/**
 * Baseline for the ingest scenario: raw single-row INSERTs through `pg`, with the same number of
 * concurrent senders as Parley's ingest scenario, each inserting its next row when the previous one
 * committed (autocommit: one transaction per row, like one acked message). The table is a copy of
 * `messages` (same columns, generated search vector and indexes) that the orchestrator creates.
 *
 *   node bench/baselines/raw-insert-loop.ts --database-url=postgres://... --table=bench_raw_messages \
 *     --params=params.json --concurrency=500 --pool=10 --warmup-ms=2000 --duration-ms=10000
 * params.json: {"channel_ids": [...], "author_ids": [...]}
 * Prints {"ready":true} when connected, then one JSON result line.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';

const arg = (name: string) => process.argv.find((value) => value.startsWith(`--${name}=`))?.slice(name.length + 3);
const table = arg('table') ?? 'bench_raw_messages';
if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`bad table name ${table}`);
const params = JSON.parse(readFileSync(arg('params')!, 'utf8')) as { channel_ids: string[]; author_ids: string[] };
const concurrency = Number(arg('concurrency') ?? 500);
const warmupMs = Number(arg('warmup-ms') ?? 2000);
const durationMs = Number(arg('duration-ms') ?? 10_000);
const pool = new pg.Pool({ connectionString: arg('database-url'), max: Number(arg('pool') ?? 10) });

// Same work per row as a stored message: a time-ordered id, the row, its generated tsvector and indexes.
const insert = `INSERT INTO ${table} (id, channel_id, author_id, content) VALUES (next_id(), $1, $2, $3) RETURNING id, created_at`;
await pool.query('SELECT 1');
console.log(JSON.stringify({ ready: true, pid: process.pid }));

let measuring = false;
let stopping = false;
let count = 0;
let errors = 0;
let firstError: string | undefined;
const latencies: number[] = [];

async function sender(index: number): Promise<void> {
  const channelId = params.channel_ids[index % params.channel_ids.length]!;
  const authorId = params.author_ids[index % params.author_ids.length]!;
  let n = 0;
  while (!stopping) {
    const started = performance.now();
    const inWindow = measuring;
    try {
      await pool.query(insert, [channelId, authorId, `raw#${index}#${n++} ingest payload for the raw insert baseline`]);
      if (inWindow && measuring) {
        count += 1;
        latencies.push(performance.now() - started);
      }
    } catch (error) {
      errors += 1;
      firstError ??= (error as Error).message;
    }
  }
}

const senders = Array.from({ length: concurrency }, (_, index) => sender(index));
await new Promise((resolve) => setTimeout(resolve, warmupMs));
measuring = true;
const started = performance.now();
await new Promise((resolve) => setTimeout(resolve, durationMs));
measuring = false;
const elapsed = (performance.now() - started) / 1000;
stopping = true;
await Promise.all(senders);
await pool.end();
latencies.sort((a, b) => a - b);
const pick = (p: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil((p / 100) * latencies.length) - 1))] ?? Number.NaN;
console.log(
  JSON.stringify({
    inserts: count,
    duration_s: elapsed,
    inserts_per_s: count / elapsed,
    latency_p50_ms: pick(50),
    latency_p99_ms: pick(99),
    errors,
    ...(firstError ? { first_error: firstError } : {}),
  }),
);
