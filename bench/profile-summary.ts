/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --profile`): the functions with the most
 * self time and the most inclusive time, so a hot path can be named without a flame-graph viewer.
 *
 *   node bench/profile-summary.ts bench/results/profiles/parley-2-fanout.cpuprofile [--top=25] [--filter=src/]
 */
import { readCpuProfile, type ProfileNode } from './lib/cpu-profile.ts';
import { profileCommandLine } from './lib/profile-cli.ts';
import path from 'node:path';


const { file, option } = profileCommandLine('node bench/profile-summary.ts <file.cpuprofile> [--top=25] [--filter=substring]');
const top = Number(option('top') ?? 25);
const filter = option('filter');
const { profile, byId, parent } = readCpuProfile(file);

// Time per sample: the delta to the next sample (µs).
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i + 1] ?? 0;
  selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + delta);
}
const totalUs = [...selfUs.values()].reduce((sum, value) => sum + value, 0);

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const nameOf = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(`file://${root}/`, '').replace(/^.*node_modules\//, 'nm/')}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  self.set(nameOf(node), (self.get(nameOf(node)) ?? 0) + us);
  const seen = new Set<string>();
  for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
    const name = nameOf(byId.get(current)!);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusive.set(name, (inclusive.get(name) ?? 0) + us);
  }
}

const print = (title: string, table: Map<string, number>) => {
  console.log(`\n${title}`);
  const rows = [...table.entries()].filter(([name]) => !filter || name.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [name, us] of rows) console.log(`${((100 * us) / totalUs).toFixed(1).padStart(6)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
};
console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s sampled`);
print('self time', self);
print('inclusive time', inclusive);
