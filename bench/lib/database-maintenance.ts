/**
 * PostgreSQL's background maintenance around a measured window.
 *
 * Node and PostgreSQL share the server core, so a checkpoint's writes and fsyncs, or an autovacuum
 * worker, landing in a 10-second window stall Parley while a baseline without a database (bare
 * `ws`) runs untouched. The record's worst tails were the first window after a phase that wrote a
 * lot (the idle scenario's 10,000 logins before the fan-out, the 1,000,000-message seed before the
 * history pages).
 *
 * - `settleDatabase` runs before a window: `VACUUM (ANALYZE)` and `CHECKPOINT`, so what earlier
 *   phases left (dead rows, tables due for autovacuum, dirty pages) is done before the clock
 *   starts. pgbench vacuums before its runs for the same reason. Every build and baseline that uses
 *   the database gets the same step.
 * - `MaintenanceMeter` counts the checkpoints and autovacuum/autoanalyze runs that happened inside
 *   the window anyway, so a tail that lines up with one shows in the log.
 */
import pg from 'pg';

export interface MaintenanceCounts {
  checkpoints: number;
  buffersWritten: number;
  autovacuums: number;
  autoanalyzes: number;
  /** autovacuum workers running when the window closed (their count only moves when they finish). */
  autovacuumRunning: number;
}

const COUNTS_SQL = `
  SELECT (SELECT num_timed + num_requested FROM pg_stat_checkpointer)::int8 AS checkpoints,
         (SELECT buffers_written FROM pg_stat_checkpointer)::int8 AS buffers_written,
         (SELECT coalesce(sum(autovacuum_count), 0) FROM pg_stat_all_tables)::int8 AS autovacuums,
         (SELECT coalesce(sum(autoanalyze_count), 0) FROM pg_stat_all_tables)::int8 AS autoanalyzes,
         (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker')::int8 AS autovacuum_running`;

async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function readCounts(client: pg.Client): Promise<MaintenanceCounts> {
  // Cumulative statistics are cached per transaction; a fresh snapshot for every read.
  await client.query('SELECT pg_stat_clear_snapshot()');
  const row = (await client.query(COUNTS_SQL)).rows[0] as Record<string, string>;
  return {
    checkpoints: Number(row.checkpoints),
    buffersWritten: Number(row.buffers_written),
    autovacuums: Number(row.autovacuums),
    autoanalyzes: Number(row.autoanalyzes),
    autovacuumRunning: Number(row.autovacuum_running),
  };
}

/** VACUUM (ANALYZE) then CHECKPOINT; returns how long it took (ms). */
export async function settleDatabase(databaseUrl: string): Promise<number> {
  const started = performance.now();
  await withClient(databaseUrl, async (client) => {
    await client.query('VACUUM (ANALYZE)');
    await client.query('CHECKPOINT');
  });
  return performance.now() - started;
}

export class MaintenanceMeter {
  readonly #databaseUrl: string;
  #before?: MaintenanceCounts;

  constructor(databaseUrl: string) {
    this.#databaseUrl = databaseUrl;
  }

  async start(): Promise<void> {
    this.#before = await withClient(this.#databaseUrl, readCounts);
  }

  /** What happened since start(), or undefined when nothing did. */
  async stop(): Promise<string | undefined> {
    const before = this.#before;
    if (!before) throw new Error('MaintenanceMeter.stop() before start()');
    const after = await withClient(this.#databaseUrl, readCounts);
    const parts: string[] = [];
    if (after.checkpoints > before.checkpoints) {
      parts.push(`${after.checkpoints - before.checkpoints} checkpoint(s) writing ${after.buffersWritten - before.buffersWritten} buffers`);
    }
    if (after.autovacuums > before.autovacuums) parts.push(`${after.autovacuums - before.autovacuums} autovacuum run(s)`);
    if (after.autoanalyzes > before.autoanalyzes) parts.push(`${after.autoanalyzes - before.autoanalyzes} autoanalyze run(s)`);
    if (after.autovacuumRunning > 0) parts.push(`${after.autovacuumRunning} autovacuum worker(s) still running`);
    return parts.length > 0 ? parts.join(', ') : undefined;
  }
}
