/**
 * `npm run bench` — Parley's benchmarks beside bare baselines, in one run on one machine.
 *
 *   node bench/run.ts                      every scenario, 3 repeats, results in bench/results/latest.json
 *   node bench/run.ts --write-md           … and render BENCHMARKS.md
 *   node bench/run.ts --scenario=fanout    one scenario (idle, fanout, ingest, history, auth, search, slow-consumer); merged into latest.json
 *   node bench/run.ts --repeat=5           repeats per figure (default 3; smoke 1)
 *   node bench/run.ts --smoke              tiny sizes, a few seconds per scenario (run by `npm test`)
 *   node bench/run.ts --render-md          only render BENCHMARKS.md from bench/results/latest.json
 *   node bench/run.ts --profile            Parley (and the fan-out's bare ws baseline) runs with --cpu-prof; profiles in bench/results/profiles/
 *                                          (summarise one with node bench/profile-summary.ts <file>)
 *   node bench/run.ts --data-dir=/tmp/pb   keep Parley's DATA_DIR (users, the seeded history) for the next run
 *   node bench/run.ts --raw-clients        fan-out receivers use a minimal WebSocket client instead of `ws`
 *                                          (about 15-20% less load-generator CPU per received frame)
 *   node bench/run.ts --parley-node-args="--max-semi-space-size=4"   node flags for Parley's process only (experiments)
 *   node bench/run.ts --fanout-single      fan-out without the 2-instance (Redis bus) rounds (iterating on one instance)
 *   --server-cpus=0 --load-cpus=1 --no-pin CPU pinning (default: server + PostgreSQL on core 0, load generator on core 1)
 *
 * This entry only decides the CPU pinning: it re-executes itself under `taskset` on the load
 * generator's cores, then runs bench/lib/orchestrate.ts.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { hasTaskset } from './lib/system.ts';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.find((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
const value = (name: string) => flag(name)?.split('=').slice(1).join('=');

const cores = os.cpus().length;
const half = Math.max(1, Math.floor(cores / 2));
const pin = !flag('no-pin') && !flag('render-md') && cores >= 2 && hasTaskset();
const serverCpus = value('server-cpus') ?? (cores >= 4 ? `0-${half - 1}` : '0');
const loadCpus = value('load-cpus') ?? (cores >= 4 ? `${half}-${cores - 1}` : '1');

if (pin && process.env.PARLEY_BENCH_LOAD_CPUS === undefined) {
  const child = spawn('taskset', ['-c', loadCpus, process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
    stdio: 'inherit',
    env: { ...process.env, PARLEY_BENCH_LOAD_CPUS: loadCpus, PARLEY_BENCH_SERVER_CPUS: serverCpus },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
} else {
  const { main } = await import('./lib/orchestrate.ts');
  const pinnedTo = process.env.PARLEY_BENCH_LOAD_CPUS;
  process.exitCode = await main(argv, {
    serverCpus: pinnedTo !== undefined ? process.env.PARLEY_BENCH_SERVER_CPUS : undefined,
    loadCpus: pinnedTo,
  });
}
