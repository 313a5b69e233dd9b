/**
 * Where a request's time goes, by stage, from a V8 .cpuprofile of `npm run bench -- --profile`
 * (Parley, or a baseline profiled by its scenario). The profile is cut into busy segments (the
 * load windows: the harness waits for an idle machine between them, which the profile shows as
 * idle), and each sample of the chosen segment is given to the innermost frame that names a
 * stage (pg driver, slonik, zod, serialisation, JWT, hooks, ...).
 *
 *   node bench/profile-stages.ts <file.cpuprofile>                    lists the busy segments
 *   node bench/profile-stages.ts <file.cpuprofile> --segment=2 --requests=7600
 *                                                                     stages of segment 2, µs per request
 *
 * The sampler runs on wall time: a sample taken while the main thread is runnable but descheduled
 * (PostgreSQL on the same core, woken by the query just written) lands in the frame that was
 * running, usually the socket `writev` of pg. That stage is therefore "socket write to PostgreSQL,
 * including PostgreSQL running on the shared core", not Node's own CPU.
 */
import { readCpuProfile, type ProfileNode } from './lib/cpu-profile.ts';
import { profileCommandLine } from './lib/profile-cli.ts';
import path from 'node:path';


const { file, option } = profileCommandLine('node bench/profile-stages.ts <file.cpuprofile> [--segment=N --requests=N] [--gap-ms=800]');
const gapMs = Number(option('gap-ms') ?? 800);
const { profile, byId, parent } = readCpuProfile(file);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
// Relative to the checkout the profile was taken in (this one or a worktree elsewhere).
const where = (node: ProfileNode) =>
  node.callFrame.url
    .replace(`file://${root}/`, '')
    .replace(/^.*node_modules\//, 'nm/')
    .replace(/^file:\/\/.*?\/(src|bench|scripts)\//, '$1/');

/** Stage rules, tried on each frame from the leaf up; the first frame any rule matches decides. */
const rules: [stage: string, test: (name: string, url: string) => boolean][] = [
  ['GC', (name) => name === '(garbage collector)'],
  ['routing (find-my-way)', (_n, url) => url.startsWith('nm/find-my-way/')],
  ['JWT verify (fast-jwt, HMAC)', (_n, url) => url.startsWith('nm/fast-jwt/') || url.startsWith('nm/@fastify/jwt/')],
  ['metrics hooks (fastify-metrics, prom-client)', (_n, url) => /^nm\/(fastify-metrics|prom-client|@prometheus-io)\//.test(url)],
  ['logging (pino)', (_n, url) => url.startsWith('nm/pino')],
  ['security headers (helmet)', (_n, url) => url.startsWith('nm/helmet/') || url.endsWith('src/plugins/security-headers.ts')],
  ['cookie hooks', (_n, url) => url.startsWith('nm/@fastify/cookie/')],
  ['zod row validation', (_n, url) => url.startsWith('nm/zod/')],
  ['row type parsers / result interceptor (src/db)', (_n, url) => url.startsWith('src/db/')],
  ['slonik (query building, interceptors, pool)', (_n, url) => url.startsWith('nm/slonik/') || url.startsWith('nm/@slonik/')],
  ['pg driver (protocol parsing, rows)', (_n, url) => url.startsWith('nm/pg/') || url.startsWith('nm/pg-protocol/') || url.startsWith('nm/pg-pool/')],
  ['response serialisation (fast-json-stringify)', (name, url) => url.startsWith('nm/fast-json-stringify/') || (url === 'nm/fastify/lib/reply.js' && name === 'serialize')],
  ['request validation (ajv: params, query)', (_n, url) => url.startsWith('nm/ajv/') || url === 'nm/fastify/lib/validation.js' || url.endsWith('src/request-validation.ts')],
  ['openapi-glue', (_n, url) => url.startsWith('nm/fastify-openapi-glue/')],
  ['auth (token check, session cache)', (_n, url) => /src\/(auth\/|services\/auth-service\.ts|domain\/access-claims\.ts)/.test(url)],
  ['access check (channel, membership)', (_n, url) => /src\/(services\/channel-access\.ts|repositories\/channels-repository\.ts)/.test(url)],
  ['history handler (service, repository, mapping)', (_n, url) => /src\/(services\/messages-service\.ts|repositories\/(messages-repository|embedded-user)\.ts|handlers\/)/.test(url)],
  ['Parley hooks and plugins (src/)', (_n, url) => url.startsWith('src/')],
  ['baseline handler', (_n, url) => url.startsWith('bench/baselines/')],
  ['fastify core (request, hooks, reply)', (_n, url) => url.startsWith('nm/fastify/') || url.startsWith('nm/avvio/') || url.startsWith('nm/light-my-request/')],
  ['node http (parser, response write)', (_n, url) => /^node:(_http|http|net|internal\/(http|stream|streams))/.test(url)],
];
const socketWrite = /^(writev|writeBuffer|writeUtf8String|writeLatin1String)$/;

function stageOf(sampleId: number): string {
  const leaf = byId.get(sampleId)!;
  const name = leaf.callFrame.functionName;
  if (name === '(idle)') return 'idle';
  if (name === '(program)') return '(program: native, outside JS)';
  const stack: ProfileNode[] = [];
  for (let current: number | undefined = sampleId; current !== undefined; current = parent.get(current)) stack.push(byId.get(current)!);
  if (socketWrite.test(name)) {
    if (stack.some((node) => where(node).startsWith('nm/pg/'))) return 'socket write to PostgreSQL (incl. PostgreSQL on the shared core)';
    return 'socket write of the HTTP response';
  }
  for (const node of stack) {
    const url = where(node);
    for (const [stage, test] of rules) if (test(node.callFrame.functionName, url)) return stage;
  }
  return 'other (microtasks, timers, native)';
}

// Samples with their times (µs since the profile's start), the delta to the next one as weight.
const times: number[] = [];
let t = 0;
for (const delta of profile.timeDeltas) times.push((t += delta));
const weight = (i: number) => profile.timeDeltas[i + 1] ?? 0;
const isIdle = (i: number) => byId.get(profile.samples[i]!)!.callFrame.functionName === '(idle)';

// Busy segments: runs of samples without an idle stretch longer than gapMs.
const segments: { from: number; to: number; busyUs: number }[] = [];
let current: { from: number; to: number; busyUs: number } | undefined;
let idleSince: number | undefined;
for (let i = 0; i < profile.samples.length; i++) {
  if (isIdle(i)) {
    idleSince ??= times[i]!;
    if (current && times[i]! - idleSince > gapMs * 1000) {
      segments.push(current);
      current = undefined;
    }
    continue;
  }
  idleSince = undefined;
  current ??= { from: i, to: i, busyUs: 0 };
  current.to = i;
  current.busyUs += weight(i);
}
if (current) segments.push(current);
const significant = segments.filter((segment) => segment.busyUs > 200_000);

const wanted = option('segment');
if (wanted === undefined) {
  console.log(`${file}: busy segments (over 0.2 s busy; gaps of idle over ${gapMs} ms separate them)`);
  significant.forEach((segment, index) => {
    const wall = (times[segment.to]! - times[segment.from]!) / 1e6;
    console.log(`  ${index}: at ${(times[segment.from]! / 1e6).toFixed(1)} s, ${wall.toFixed(1)} s long, ${(segment.busyUs / 1e6).toFixed(2)} s busy (${((100 * segment.busyUs) / (wall * 1e6)).toFixed(0)}%)`);
  });
  process.exit(0);
}
const segment = significant[Number(wanted)];
if (!segment) throw new Error(`no segment ${wanted}`);
const requests = Number(option('requests') ?? Number.NaN);
const byStage = new Map<string, number>();
let busy = 0;
for (let i = segment.from; i <= segment.to; i++) {
  const stage = stageOf(profile.samples[i]!);
  if (stage === 'idle') continue;
  byStage.set(stage, (byStage.get(stage) ?? 0) + weight(i));
  busy += weight(i);
}
console.log(`${file} segment ${wanted}: ${(busy / 1e6).toFixed(2)} s busy${Number.isFinite(requests) ? `, ${requests} requests: ${(busy / requests).toFixed(0)} µs busy per request` : ''}`);
const perRequest = (us: number) => (Number.isFinite(requests) ? `${(us / requests).toFixed(1).padStart(7)} µs/req  ` : '');
for (const [stage, us] of [...byStage.entries()].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${perRequest(us)}${stage}`);
}
// --frames=N: the N functions with the most self time in the segment, with their stage.
const frames = Number(option('frames') ?? 0);
if (frames > 0) {
  const self = new Map<string, { us: number; stage: string }>();
  for (let i = segment.from; i <= segment.to; i++) {
    const node = byId.get(profile.samples[i]!)!;
    if (node.callFrame.functionName === '(idle)') continue;
    const name = `${node.callFrame.functionName || '(anonymous)'} ${where(node)}:${node.callFrame.lineNumber + 1}`;
    const entry = self.get(name) ?? { us: 0, stage: stageOf(profile.samples[i]!) };
    entry.us += weight(i);
    self.set(name, entry);
  }
  console.log(`\nself time, top ${frames}`);
  for (const [name, { us, stage }] of [...self.entries()].sort((a, b) => b[1].us - a[1].us).slice(0, frames)) {
    console.log(`  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${perRequest(us)}${name}  [${stage}]`);
  }
}
