/**
 * The benchmark must never rot: `node bench/run.ts --smoke` (tiny sizes, every scenario, against
 * Parley started the README's way and the bare baselines) exits 0 and prints a figure for every
 * scenario. No timing thresholds here: timings belong in BENCHMARKS.md, not in tests.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCENARIOS = ['idle', 'fanout', 'ingest', 'history', 'auth', 'search', 'slow-consumer'];

t.test('npm run bench -- --smoke runs every scenario end to end', { timeout: 240_000 }, async (t) => {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, ['bench/run.ts', '--smoke'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (exitCode) => resolve({ code: exitCode, output }));
  });
  t.equal(code, 0, `bench --smoke exits 0\n${code === 0 ? '' : output.slice(-6000)}`);
  for (const scenario of SCENARIOS) {
    // A figure line: "[scenario] label   <number> unit …".
    const figure = new RegExp(`^\\[${scenario}\\] .+?\\s{2}\\d[\\d,.]*(?: \\[[\\d,.]+–[\\d,.]+\\])? \\S`, 'm');
    t.match(output, figure, `printed a figure for ${scenario}`);
    t.notMatch(output, new RegExp(`✗ ${scenario} failed`), `${scenario} did not fail`);
  }
  t.match(output, /bench: 7 of 7 scenarios ran/m);
});
