/**
 * The benchmark must never rot: `node bench/run.ts --smoke` (tiny sizes, every scenario, against
 * Parley started the README's way and the bare baselines) exits 0 and prints a figure for every
 * scenario. No timing thresholds here: timings belong in BENCHMARKS.md, not in tests.
 */
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCENARIOS = ['idle', 'fanout', 'ingest', 'history', 'auth', 'search', 'slow-consumer'];
const smokeFile = path.join(root, 'bench/results/smoke.json');

/**
 * Notes the scenarios write when part of the load failed (logins refused, sessions that did not
 * open or were closed, deliveries missing, error frames, failed requests): in a smoke run each is
 * a broken scenario, not a remark. The other notes (machine not idle, loaded load generator, how
 * a figure is measured) are remarks.
 */
const FAILURE_NOTE = /fail|missing|error|closed by the server|unexpected/i;

/**
 * Figures that are differences (memory growth: a garbage collection between the two readings
 * can make them zero or negative) or counts of bad events (zero is the good value) need only be
 * numbers; every other Parley figure (a rate or a latency) is above zero when the load was served.
 */
const mayBeZero = (unit: string) => unit === 'KiB' || unit === 'MiB' || unit === 'closes';
/**
 * CPU of a helper process read from /proc in 10 ms ticks: redis-server's over a one-second smoke
 * phase of a few dozen messages is often under one tick, so zero is a measurement, not a failure.
 */
const countsTicks = (key: string) => key.includes('_bus_cpu_');
/** Time in V8's GC per request over a smoke window: a window without a collection reads zero. */
const countsGcTime = (key: string) => key.endsWith('_gc_us');

interface SmokeResults {
  smoke: boolean;
  scenarios: Record<string, { name: string; notes: string[]; figures: { key: string; unit: string; values: number[]; is_baseline?: boolean }[] }>;
}

t.test('npm run bench -- --smoke runs every scenario end to end', { timeout: 240_000 }, async (t) => {
  await rm(smokeFile, { force: true });
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

  const results = JSON.parse(await readFile(smokeFile, 'utf8')) as SmokeResults;
  t.equal(results.smoke, true, 'this run wrote the smoke results');
  t.same(Object.keys(results.scenarios).sort(), [...SCENARIOS].sort(), 'results for every scenario');
  // Equal work: the bare ws baseline writes frames of exactly the size of Parley's, measured in the same round.
  const fanoutFigure = (key: string) => results.scenarios.fanout?.figures.find((figure) => figure.key === key)?.values;
  t.ok((fanoutFigure('parley_frame_bytes')?.[0] ?? 0) > 0, 'the size of Parley\'s message_created frame was measured');
  t.same(fanoutFigure('bare_frame_bytes'), fanoutFigure('parley_frame_bytes'), 'the bare ws baseline sent frames of Parley\'s size');
  for (const scenario of Object.values(results.scenarios)) {
    t.same(
      scenario.notes.filter((note) => FAILURE_NOTE.test(note)),
      [],
      `${scenario.name}: no failed logins, missing deliveries, error frames or failed requests`,
    );
    const parley = scenario.figures.filter((figure) => !figure.is_baseline);
    t.ok(parley.length > 0, `${scenario.name} has Parley figures`);
    for (const figure of parley) {
      t.ok(figure.values.length > 0, `${scenario.name} ${figure.key} was measured`);
      for (const value of figure.values) {
        if (mayBeZero(figure.unit) || countsTicks(figure.key) || countsGcTime(figure.key)) t.ok(Number.isFinite(value), `${scenario.name} ${figure.key} is a number (${value} ${figure.unit})`);
        else t.ok(Number.isFinite(value) && value > 0, `${scenario.name} ${figure.key} is above zero (${value} ${figure.unit})`);
      }
    }
  }
});
