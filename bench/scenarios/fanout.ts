/**
 * Scenario 2 — fan-out: one room with K member sessions (users joined over REST); session 0 sends
 * persisted messages with `send_message` at fixed rates (open loop) and then as fast as acks allow
 * (the next send when the previous ack arrives). Figures: deliveries per second, and send-to-delivery
 * latency p50/p99 at the fixed rates (sender and receivers share one clock: this process; the send
 * number travels in the content). Baseline: the bare `ws` server broadcasting pre-serialised frames,
 * padded or cut to the size of Parley's `message_created` frame as measured in the same round (equal bytes
 * per delivery), and, as a reference line, with its own frame (what the ratio was against before).
 */
import { HIGH_FRAME_RATE_ENV, type BenchContext, type ScenarioRecorder } from '../lib/context.ts';
import { closeSessions, closedSessions, openSessions, startHeartbeats, type ClientSession } from '../lib/gateway-clients.ts';
import { addMember, createRoom, inBatches, type BenchUser } from '../lib/parley-api.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startBareWs, startRedisServer } from '../lib/servers.ts';
import { ACK, benchNumber, ERROR, MARK } from '../lib/frame-marks.ts';
import { formatNumber, percentiles, Samples, sleep } from '../lib/stats.ts';
import { CpuMeter } from '../lib/system.ts';

const PADDING = 'fan-out benchmark message with a realistic length of about eighty characters';

interface PhaseStats {
  deliveries: number;
  latencies: Samples;
}

class FanoutDriver {
  readonly sendTimes = new Float64Array(2_000_000);
  readonly ackTimes = new Float64Array(2_000_000);
  /** Per message: its slowest delivery's send-to-delivery latency (fixed-rate phases). */
  readonly slowestDelivery = new Float64Array(2_000_000);
  /** The last fixed-rate phase's measured messages [first, end). */
  measuredRange: [number, number] = [0, 0];
  next = 0;
  /** Messages [from, to) belong to the measured part of the current phase. */
  from = 0;
  to = 0;
  countAll = false;
  windowOpen = false;
  /** Messages measured in the last fixed-rate phase. */
  measured = 0;
  lastDeliveryAt = 0;
  phase: PhaseStats = { deliveries: 0, latencies: new Samples() };
  ackLatencies = new Samples();
  errors = 0;
  firstError?: string;
  /** Payload bytes of the first message frame a receiver got (Parley's frame size, for the baseline). */
  frameBytes = 0;
  #ackWaiter?: () => void;

  readonly sender: ClientSession;
  readonly channelId: string;

  constructor(sender: ClientSession, channelId: string) {
    this.sender = sender;
    this.channelId = channelId;
  }

  attach(sessions: ClientSession[]): void {
    const onDelivery = (data: Buffer) => {
      const at = data.indexOf(MARK);
      if (at < 0) return;
      const now = performance.now();
      this.lastDeliveryAt = now;
      if (this.frameBytes === 0) this.frameBytes = data.length;
      const n = benchNumber(data, at);
      if (n < this.from || n >= this.to) return;
      if (this.countAll) {
        // As fast as acks allow: every delivery of this phase's messages inside the window.
        if (this.windowOpen) this.phase.deliveries += 1;
        return;
      }
      this.phase.deliveries += 1;
      const latency = now - this.sendTimes[n]!;
      this.phase.latencies.push(latency);
      if (latency > this.slowestDelivery[n]!) this.slowestDelivery[n] = latency;
    };
    for (const session of sessions) session.onFrame = onDelivery;
    this.sender.onFrame = (data: Buffer) => {
      if (data.indexOf(ACK) >= 0) {
        const at = data.indexOf(MARK);
        if (at >= 0) {
          const n = benchNumber(data, at);
          const now = performance.now();
          this.ackTimes[n] = now;
          if (n >= this.from && n < this.to) this.ackLatencies.push(now - this.sendTimes[n]!);
        }
        const waiter = this.#ackWaiter;
        this.#ackWaiter = undefined;
        waiter?.();
      } else if (data.indexOf(ERROR) >= 0) {
        this.errors += 1;
        this.firstError ??= data.toString().slice(0, 300);
        const waiter = this.#ackWaiter;
        this.#ackWaiter = undefined;
        waiter?.();
      } else {
        onDelivery(data);
      }
    };
  }

  send(): number {
    const n = this.next++;
    this.sendTimes[n] = performance.now();
    this.sender.ws.send(`{"type":"send_message","ref":"${n}","channel_id":"${this.channelId}","content":"bench#${n}# ${PADDING}"}`);
    return n;
  }

  resetPhase(): void {
    this.phase = { deliveries: 0, latencies: new Samples(1 << 16) };
    this.ackLatencies = new Samples();
  }

  /** Open loop at `rate` messages/s for warm-up + duration; measures the messages sent after warm-up. */
  async fixedRate(rate: number, warmupMs: number, durationMs: number, receivers: number): Promise<void> {
    const warmupCount = Math.round((rate * warmupMs) / 1000);
    const measuredCount = Math.round((rate * durationMs) / 1000);
    this.resetPhase();
    this.countAll = false;
    const first = this.next;
    this.from = first + warmupCount;
    this.to = this.from + measuredCount;
    const total = warmupCount + measuredCount;
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
        while (this.next - first < due) this.send();
        if (this.next - first >= total) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    // Let the last deliveries arrive (every measured message reaches every receiver, or 5 s pass).
    const deadline = performance.now() + 5000;
    while (this.phase.deliveries < measuredCount * receivers && performance.now() < deadline) await sleep(20);
    this.measured = measuredCount;
    this.measuredRange = [this.from, this.to];
    this.to = this.from; // late deliveries no longer count
    await this.drain();
  }

  /**
   * The last fixed-rate phase's slowest messages: where a tail's time went. An ack is written after
   * the commit (Parley: after the author's own sessions got the event), so a slow ack puts the time
   * before or in the commit; a quick ack with a slow last delivery puts it in the fan-out.
   */
  slowestMessages(count: number): { n: number; ackMs: number; lastDeliveryMs: number }[] {
    const [first, end] = this.measuredRange;
    const messages = [];
    for (let n = first; n < end; n++) {
      messages.push({ n, ackMs: this.ackTimes[n]! > 0 ? this.ackTimes[n]! - this.sendTimes[n]! : Number.NaN, lastDeliveryMs: this.slowestDelivery[n]! });
    }
    return messages.sort((a, b) => b.lastDeliveryMs - a.lastDeliveryMs).slice(0, count);
  }

  /** Waits until no delivery has arrived for 500 ms (a backlog of an overloaded phase), at most 60 s. */
  async drain(): Promise<void> {
    const deadline = performance.now() + 60_000;
    while (performance.now() - this.lastDeliveryAt < 500 && performance.now() < deadline) await sleep(100);
  }

  /** Closed loop: each send waits for the previous ack. Counts every delivery in the window. */
  async asFastAsAcksAllow(warmupMs: number, durationMs: number): Promise<{ messages: number; deliveries: number; seconds: number }> {
    this.resetPhase();
    this.from = this.next;
    this.to = Number.POSITIVE_INFINITY;
    this.countAll = true;
    this.windowOpen = false;
    let stop = false;
    let sentInWindow = 0;
    let measuring = false;
    const loop = (async () => {
      while (!stop) {
        const acked = new Promise<void>((resolve) => {
          this.#ackWaiter = resolve;
        });
        this.send();
        if (measuring) sentInWindow += 1;
        await acked;
      }
    })();
    await sleep(warmupMs);
    this.phase.deliveries = 0;
    this.windowOpen = true;
    measuring = true;
    const started = performance.now();
    await sleep(durationMs);
    this.windowOpen = false;
    const deliveries = this.phase.deliveries;
    const seconds = (performance.now() - started) / 1000;
    measuring = false;
    stop = true;
    await Promise.race([loop, sleep(5000)]);
    this.countAll = false;
    await this.drain();
    return { messages: sentInWindow, deliveries, seconds };
  }
}

/**
 * Server CPU per delivery (µs) over a whole phase (warm-up, window and drain): the server process's
 * CPU time divided by every delivery of the phase's messages. PostgreSQL's CPU is not included (it is
 * in the CPU table). A figure a busy machine changes little, unlike deliveries/s.
 */
function cpuPerDelivery(cpu: { server_cpu_percent: number }, startedAt: number, messages: number, receivers: number): number {
  const cpuSeconds = (cpu.server_cpu_percent / 100) * ((performance.now() - startedAt) / 1000);
  return (cpuSeconds * 1e6) / Math.max(1, messages * receivers);
}

/**
 * Voluntary context switches (the thread blocked: nothing to read, or waiting for PostgreSQL) of
 * the main threads of the load generator (this process) and the server.
 */
class SleepMeter {
  readonly #pid: number;
  readonly #loadgen = mainThreadSleeps(process.pid);
  readonly #server: number;

  constructor(pid: number) {
    this.#pid = pid;
    this.#server = mainThreadSleeps(pid);
  }

  stop(): { loadgen: number; server: number } {
    return { loadgen: mainThreadSleeps(process.pid) - this.#loadgen, server: mainThreadSleeps(this.#pid) - this.#server };
  }
}

/** Voluntary context switches of the main thread of `pid` (NaN when unreadable). */
function mainThreadSleeps(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
    return Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

const roomByDataDir = new Map<string, string>();

async function fanoutRoom(ctx: BenchContext, baseUrl: string, users: BenchUser[]): Promise<string> {
  let room = roomByDataDir.get(ctx.dataDir);
  if (room) return room;
  const owner = users[0]!;
  room = await createRoom(baseUrl, owner.token, `bench-fanout-${Date.now()}`, 'public');
  await inBatches(users.slice(1), 16, (user) => addMember(baseUrl, user.token, room!, user.id));
  roomByDataDir.set(ctx.dataDir, room);
  return room;
}

async function runAgainst(
  ctx: BenchContext,
  rec: ScenarioRecorder,
  prefix: 'parley' | 'bare' | 'bare_small' | 'bus2',
  label: string,
  pid: number,
  urlOf: (index: number) => string,
  channelId: string,
  databasePids: () => number[],
  /** Parley's database: settled before each phase, its maintenance inside a phase logged (bench/lib/database-maintenance.ts). */
  databaseUrl: string | undefined,
  /** The bus process (redis-server): its CPU per message is recorded. */
  busPid?: number,
): Promise<number> {
  const window = <T>(phaseLabel: string, measure: () => Promise<T>): Promise<T> =>
    databaseUrl === undefined ? ctx.waitIdle(phaseLabel).then(measure) : ctx.databaseWindow(phaseLabel, databaseUrl, measure);
  const count = ctx.sizes.fanoutSessions;
  const opened = await openSessions({ count, urlOf, concurrency: 50, timeoutMs: 60_000, client: ctx.fanoutClient });
  try {
    if (opened.failures.length > 0) rec.note(`${label}: ${opened.failures.length} of ${count} sessions failed to open (first: ${opened.failures[0]})`);
    if (opened.sessions[0]?.index !== 0) throw new Error(`${label}: the sender session did not open`);
    const receivers = opened.sessions.length;
    startHeartbeats(opened.sessions);
    await ctx.waitQuiet(pid);
    const driver = new FanoutDriver(opened.sessions[0]!, channelId);
    driver.attach(opened.sessions);
    const warmupMs = ctx.sizes.warmupMs;
    const durationMs = ctx.sizes.fanoutSeconds * 1000;

    for (const rate of ctx.sizes.fanoutRates) {
      const meter = new CpuMeter(pid, databasePids);
      const busMeter = busPid === undefined ? undefined : new CpuMeter(busPid);
      const { cpu, phaseStarted, sentBefore } = await window(`${label} fan-out ${rate}/s`, async () => {
        meter.start();
        busMeter?.start();
        const started = { phaseStarted: performance.now(), sentBefore: driver.next };
        await driver.fixedRate(rate, warmupMs, durationMs, receivers);
        return { cpu: meter.stop(), ...started };
      });
      rec.cpu(`${label}: ${rate} msg/s × ${receivers}`, cpu);
      if (prefix !== 'bus2') rec.record(`${prefix}_cpu_us_per_delivery_${rate}`, cpuPerDelivery(cpu, phaseStarted, driver.next - sentBefore, receivers));
      if (busMeter) {
        // redis-server CPU over the whole phase, per message published (each message is one PUBLISH
        // in and one delivery per instance out).
        const busSeconds = (busMeter.stop().server_cpu_percent / 100) * ((performance.now() - phaseStarted) / 1000);
        rec.record(`${prefix}_bus_cpu_us_per_message_${rate}`, (busSeconds * 1e6) / Math.max(1, driver.next - sentBefore));
      }
      const measured = driver.measured * receivers;
      const [p50, p99] = percentiles(driver.phase.latencies.view(), [50, 99]);
      if (driver.phase.deliveries < measured) {
        rec.note(`${label} at ${rate}/s: ${measured - driver.phase.deliveries} of ${measured} deliveries missing after 5 s`);
      }
      rec.record(`${prefix}_latency_p50_${rate}`, p50!);
      rec.record(`${prefix}_latency_p99_${rate}`, p99!);
      rec.record(`${prefix}_deliveries_${rate}`, driver.phase.deliveries / (durationMs / 1000));
      ctx.log(`  ${label} ${rate}/s × ${receivers}: p50 ${formatNumber(p50!)} ms, p99 ${formatNumber(p99!)} ms, ${driver.phase.deliveries}/${measured} delivered`);
      const [ackP50, ackP99] = percentiles(driver.ackLatencies.view(), [50, 99]);
      const slowest = driver
        .slowestMessages(3)
        .map((message) => `ack ${formatNumber(message.ackMs)} / last delivery ${formatNumber(message.lastDeliveryMs)} ms`)
        .join('; ');
      ctx.log(`    ack p50 ${formatNumber(ackP50!)} ms, p99 ${formatNumber(ackP99!)} ms; slowest 3 messages: ${slowest}`);
    }

    const meter = new CpuMeter(pid, databasePids);
    const { max, cpu, slept, maxStarted, sentBeforeMax } = await window(`${label} fan-out max`, async () => {
      meter.start();
      const sleeps = new SleepMeter(pid);
      const started = { maxStarted: performance.now(), sentBeforeMax: driver.next };
      const fastest = await driver.asFastAsAcksAllow(warmupMs, durationMs);
      return { max: fastest, cpu: meter.stop(), slept: sleeps.stop(), ...started };
    });
    {
      // How often each side went to sleep waiting for the other (voluntary context switches) per
      // delivery: a write to a loopback socket whose reader sleeps must wake it, which costs the
      // writer far more than queueing bytes for a reader that is busy (bench/analysis.md, round 3).
      const deliveries = Math.max(1, (driver.next - sentBeforeMax) * receivers);
      ctx.log(
        `  ${label} as fast as acks allow: sleeps per 1,000 deliveries: load generator ${formatNumber((1000 * slept.loadgen) / deliveries)}, server ${formatNumber((1000 * slept.server) / deliveries)}`,
      );
    }
    rec.cpu(`${label}: as fast as acks allow × ${receivers}`, cpu);
    if (prefix !== 'bus2') rec.record(`${prefix}_cpu_us_per_delivery_max`, cpuPerDelivery(cpu, maxStarted, driver.next - sentBeforeMax, receivers));
    rec.record(`${prefix}_max_deliveries`, max.deliveries / max.seconds);
    rec.record(`${prefix}_max_messages`, max.messages / max.seconds);
    ctx.log(
      `  ${label} as fast as acks allow: ${formatNumber(max.messages / max.seconds)} msg/s, ${formatNumber(max.deliveries / max.seconds)} deliveries/s`,
    );
    if (driver.errors > 0) rec.note(`${label}: ${driver.errors} error frames (first: ${driver.firstError})`);
    const dropped = closedSessions(opened.sessions);
    if (dropped.length > 0) rec.note(`${label}: ${dropped.length} sessions were closed by the server (first code ${dropped[0]!.closeCode})`);
    if (prefix !== 'bus2') rec.record(`${prefix}_frame_bytes`, driver.frameBytes);
    return driver.frameBytes;
  } finally {
    await closeSessions(opened.sessions);
  }
}

export async function fanoutScenario(ctx: BenchContext, rec: ScenarioRecorder): Promise<void> {
  rec.result.server_env_overrides = HIGH_FRAME_RATE_ENV;
  if (ctx.fanoutClient === 'raw') rec.note('Receivers used the minimal WebSocket client of bench/lib/raw-ws-client.ts (--raw-clients) instead of `ws`.');
  const count = ctx.sizes.fanoutSessions;
  const members = `${count.toLocaleString('en-US')} sessions`;
  rec.figure('parley_max_deliveries', `Parley: deliveries/s, as fast as acks allow (${members})`, 'deliveries/s', 'higher', { baseline: 'bare_max_deliveries' });
  rec.figure('bare_max_deliveries', `bare ws, frame of Parley's size: deliveries/s, as fast as acks allow (${members})`, 'deliveries/s', 'higher', { is_baseline: true });
  rec.figure('bare_small_max_deliveries', `reference: bare ws, its own frame: deliveries/s, as fast as acks allow`, 'deliveries/s', 'higher', { is_baseline: true });
  for (const phase of ['max', ...ctx.sizes.fanoutRates.map(String)]) {
    const when = phase === 'max' ? 'as fast as acks allow' : `at ${phase} msg/s`;
    rec.figure(`parley_cpu_us_per_delivery_${phase}`, `Parley: server CPU per delivery, ${when} (whole phase; PostgreSQL not included)`, 'µs', 'lower', { baseline: `bare_cpu_us_per_delivery_${phase}` });
    rec.figure(`bare_cpu_us_per_delivery_${phase}`, `bare ws, frame of Parley's size: server CPU per delivery, ${when}`, 'µs', 'lower', { is_baseline: true });
    rec.figure(`bare_small_cpu_us_per_delivery_${phase}`, `reference: bare ws, its own frame: server CPU per delivery, ${when}`, 'µs', 'lower', { is_baseline: true });
  }
  rec.figure('parley_frame_bytes', 'Parley: `message_created` frame payload (measured)', 'bytes', 'lower', { baseline: 'bare_small_frame_bytes' });
  rec.figure('bare_frame_bytes', 'bare ws: frame payload, padded to Parley\'s', 'bytes', 'lower', { is_baseline: true });
  rec.figure('bare_small_frame_bytes', 'reference: bare ws: its own frame payload', 'bytes', 'lower', { is_baseline: true });
  rec.figure('parley_max_messages', 'Parley: messages/s, as fast as acks allow (one sender, one in flight)', 'msg/s', 'higher', { baseline: 'bare_max_messages' });
  rec.figure('bare_max_messages', 'bare ws: messages/s, as fast as acks allow', 'msg/s', 'higher', { is_baseline: true });
  rec.figure('bare_small_max_messages', 'reference: bare ws, its own frame: messages/s, as fast as acks allow', 'msg/s', 'higher', { is_baseline: true });
  for (const rate of ctx.sizes.fanoutRates) {
    rec.figure(`parley_latency_p50_${rate}`, `Parley: send-to-delivery p50 at ${rate} msg/s × ${members}`, 'ms', 'lower', { baseline: `bare_latency_p50_${rate}` });
    rec.figure(`parley_latency_p99_${rate}`, `Parley: send-to-delivery p99 at ${rate} msg/s × ${members}`, 'ms', 'lower', { baseline: `bare_latency_p99_${rate}` });
    rec.figure(`parley_deliveries_${rate}`, `Parley: deliveries/s at ${rate} msg/s`, 'deliveries/s', 'higher', { baseline: `bare_deliveries_${rate}` });
    rec.figure(`bare_latency_p50_${rate}`, `bare ws, frame of Parley's size: send-to-delivery p50 at ${rate} msg/s`, 'ms', 'lower', { is_baseline: true });
    rec.figure(`bare_latency_p99_${rate}`, `bare ws, frame of Parley's size: send-to-delivery p99 at ${rate} msg/s`, 'ms', 'lower', { is_baseline: true });
    rec.figure(`bare_deliveries_${rate}`, `bare ws, frame of Parley's size: deliveries/s at ${rate} msg/s`, 'deliveries/s', 'higher', { is_baseline: true });
    rec.figure(`bare_small_latency_p50_${rate}`, `reference: bare ws, its own frame: send-to-delivery p50 at ${rate} msg/s`, 'ms', 'lower', { is_baseline: true });
    rec.figure(`bare_small_latency_p99_${rate}`, `reference: bare ws, its own frame: send-to-delivery p99 at ${rate} msg/s`, 'ms', 'lower', { is_baseline: true });
    rec.figure(`bare_small_deliveries_${rate}`, `reference: bare ws, its own frame: deliveries/s at ${rate} msg/s`, 'deliveries/s', 'higher', { is_baseline: true });
  }

  for (let round = 1; round <= ctx.repeat; round++) {
    ctx.log(` fan-out: round ${round}/${ctx.repeat}`);
    const server = await ctx.startParley('fanout', HIGH_FRAME_RATE_ENV);
    let parleyFrameBytes: number;
    try {
      const users = await ctx.users(server);
      const room = await fanoutRoom(ctx, server.baseUrl, users);
      parleyFrameBytes = await runAgainst(
        ctx,
        rec,
        'parley',
        'Parley',
        server.pid,
        (index) => `${server.wsUrl}?token=${users[index % users.length]!.token}`,
        room,
        server.databasePids,
        await server.databaseUrl(),
      );
    } finally {
      await server.stop();
    }
    // The baseline writes as many bytes per delivery as Parley did (its frame padded), then, as a
    // reference line, its own frame.
    for (const [prefix, label, frameBytes] of [
      ['bare', `bare ws (${parleyFrameBytes}-byte frame)`, parleyFrameBytes],
      ['bare_small', 'bare ws (own frame)', 0],
    ] as const) {
      const cpus = ctx.serverCpus !== undefined ? { cpus: ctx.serverCpus } : {};
      // With --profile the baseline is profiled too: its per-delivery path beside Parley's.
      const nodeArgs = ctx.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`, `--cpu-prof-name=${prefix}-ws-${round}-fanout.cpuprofile`] : [];
      const { process: bare, port } = await startBareWs({ ...cpus, workDir: ctx.workDir, frameBytes, nodeArgs });
      try {
        await runAgainst(ctx, rec, prefix, label, bare.pid, () => `ws://127.0.0.1:${port}/`, '7262148410531840100', () => [], undefined);
      } finally {
        await bare.stop();
      }
    }
  }

  if (ctx.fanoutBus) await busRounds(ctx, rec, members);
  fanoutTargets(rec, members);
}

/** Two instances on one database and a redis-server: half the receivers on each, the sender on the first. */
async function busRounds(ctx: BenchContext, rec: ScenarioRecorder, members: string): Promise<void> {
  rec.figure('bus2_max_deliveries', `Parley ×2 on the Redis bus: deliveries/s, as fast as acks allow (${members})`, 'deliveries/s', 'higher', { baseline: 'parley_max_deliveries' });
  rec.figure('bus2_max_messages', 'Parley ×2 on the Redis bus: messages/s, as fast as acks allow', 'msg/s', 'higher', { baseline: 'parley_max_messages' });
  for (const rate of ctx.sizes.fanoutRates) {
    rec.figure(`bus2_latency_p50_${rate}`, `Parley ×2 (Redis bus): commit-to-delivery p50 at ${rate} msg/s × ${members}`, 'ms', 'lower', { baseline: `parley_latency_p50_${rate}` });
    rec.figure(`bus2_latency_p99_${rate}`, `Parley ×2 (Redis bus): commit-to-delivery p99 at ${rate} msg/s × ${members}`, 'ms', 'lower', { baseline: `parley_latency_p99_${rate}` });
    rec.figure(`bus2_deliveries_${rate}`, `Parley ×2 (Redis bus): deliveries/s at ${rate} msg/s`, 'deliveries/s', 'higher', { baseline: `parley_deliveries_${rate}` });
    rec.figure(`bus2_bus_cpu_us_per_message_${rate}`, `redis-server CPU per message at ${rate} msg/s (2 subscribers)`, 'µs', 'lower');
  }
  for (let round = 1; round <= ctx.repeat; round++) {
    ctx.log(` fan-out over 2 instances (Redis bus): round ${round}/${ctx.repeat}`);
    // Smoke mode's shared process holds the data folder: stop it (the next scenario starts another).
    await ctx.close();
    const redis = await startRedisServer({ ...(ctx.serverCpus !== undefined ? { cpus: ctx.serverCpus } : {}), workDir: ctx.workDir });
    const env = { ...HIGH_FRAME_RATE_ENV, EVENT_BUS: 'redis', REDIS_URL: redis.url };
    let first: Awaited<ReturnType<typeof ctx.startFreshParley>> | undefined;
    let second: typeof first;
    try {
      first = await ctx.startFreshParley('fanout-bus-a', env);
      const databaseUrl = await first.databaseUrl();
      second = await ctx.startFreshParley('fanout-bus-b', { ...env, DATABASE_URL: databaseUrl }, path.join(ctx.workDir, 'instance-b'));
      const users = await ctx.users(first);
      const room = await fanoutRoom(ctx, first.baseUrl, users);
      const [a, b] = [first, second];
      await runAgainst(
        ctx,
        rec,
        'bus2',
        'Parley ×2 (Redis bus)',
        a.pid,
        (index) => `${(index % 2 === 0 ? a : b).wsUrl}?token=${users[index % users.length]!.token}`,
        room,
        () => [...a.databasePids(), b.pid],
        databaseUrl,
        redis.pid,
      );
    } finally {
      await second?.stop();
      await first?.stop();
      await redis.stop();
    }
  }

}

function fanoutTargets(rec: ScenarioRecorder, members: string): void {
  const parleyMax = rec.median('parley_max_deliveries');
  const bareMax = rec.median('bare_max_deliveries');
  const ratio = parleyMax / bareMax;
  rec.target(
    `Fan-out: at least 80% of the bare ws deliveries per second, with a frame of Parley's size (${formatNumber(rec.median('parley_frame_bytes'))} bytes)`,
    Number.isFinite(ratio) ? ratio >= 0.8 : null,
    `${formatNumber(parleyMax)} vs ${formatNumber(bareMax)} deliveries/s = ${formatNumber(ratio * 100)}% (bare ws with its own ${formatNumber(rec.median('bare_small_frame_bytes'))}-byte frame: ${formatNumber(rec.median('bare_small_max_deliveries'))})`,
  );
  const p99At20 = rec.median('parley_latency_p99_20');
  const bareP99At20 = rec.median('bare_latency_p99_20');
  rec.target(
    `Fan-out: p99 send-to-delivery at 20 msg/s × ${members} under 2× bare ws (frame of Parley's size)`,
    Number.isFinite(p99At20 / bareP99At20) ? p99At20 < 2 * bareP99At20 : null,
    `${formatNumber(p99At20)} vs ${formatNumber(bareP99At20)} ms = ×${formatNumber(p99At20 / bareP99At20)}`,
  );
  const p99 = rec.median('parley_latency_p99_100');
  rec.target(
    `Fan-out: p99 send-to-delivery at 100 msg/s × ${members} under 25 ms`,
    Number.isFinite(p99) ? p99 < 25 : null,
    `${formatNumber(p99)} ms (median of the repeats' p99)`,
  );
}
