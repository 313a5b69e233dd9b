/**
 * Baseline for the history scenario: a bare Fastify route doing `SELECT 1` through a `pg` Pool
 * against the same PostgreSQL as Parley, with a pool of the same size and no logging.
 *
 *   node bench/baselines/bare-fastify-select1.ts --port=9001 --database-url=postgres://... --pool=10
 * Prints one JSON line {"ready":true,"port":...} when listening. GET /select1 answers {"ok":1}.
 */
import Fastify from 'fastify';
import pg from 'pg';
import { serveBaseline } from './serve-fastify.ts';

const arg = (name: string) => process.argv.find((value) => value.startsWith(`--${name}=`))?.slice(name.length + 3);
const port = Number(arg('port') ?? 0);
const pool = new pg.Pool({ connectionString: arg('database-url'), max: Number(arg('pool') ?? 10) });

const app = Fastify({ logger: false });
app.get('/select1', async () => {
  const result = await pool.query('SELECT 1 AS ok');
  return { ok: result.rows[0].ok as number };
});

await serveBaseline(app, port, pool);
