/**
 * Scenario 7 — slow consumers (issue 9 item 2): does a member that stops reading cost the others
 * their latency? One room; session 0 sends 4 KB messages with `send_message` at a fixed rate (open
 * loop, a bounded count, loopback only) and a reading member measures send → `message_created`
 * latency (one clock: this process). Two configurations, side by side on the same server:
 *
 *   (a) baseline: three more members that read normally;
 *   (b) the same three members with their client TCP sockets paused (`ws.pause()`: they never read),
 *       so the server's writes fill the kernel buffers and then its per-connection outbound buffer
 *       until WS_MAX_BUFFERED_BYTES closes them with 4010 "slow consumer".
 *
 * On loopback the kernel (socket buffers) absorbs about 4 MB per paused socket before the server's
 * own buffer grows at all, so the full run sends 20 s × 100 msg/s × 4 KB (≈ 9 MB per member, bounded)
 * to get past that plus the 1 MiB default of WS_MAX_BUFFERED_BYTES; smoke mode sends far less and
 * sees no closes.
 *
 * Figures: the reader's p50/p99 in (a) and (b) and their ratio, the server's RSS growth over each
 * window (peak minus the reading before it), and the 4010 closes counted by
 * parley_ws_closes_total{code="4010"} on GET /metrics during (b).
 */
import WebSocket from 'ws';
import { HIGH_FRAME_RATE_ENV, type BenchContext, type ScenarioRecorder } from '../lib/context.ts';
import { closeSessions, openSessions, startHeartbeats, type ClientSession } from '../lib/gateway-clients.ts';
import { addMember, createRoom, type BenchUser } from '../lib/parley-api.ts';
import { metricsHeaders, type ParleyServer } from '../lib/servers.ts';
import { ACK, benchNumber, ERROR, MARK } from '../lib/frame-marks.ts';
import { formatNumber, percentiles, Samples, sleep } from '../lib/stats.ts';
import { CpuMeter, processRssBytes } from '../lib/system.ts';

/** Members besides the sender and the reader: reading in (a), paused in (b). */
const STALLED = 3;
/** Content of about 4 KB (the contract allows 4000 characters). */
const PADDING = 'x'.repeat(3980);
/** The unmeasured pass on each fresh server before (a) and (b). */
const WARMUP_SECONDS = 3;

/** parley_ws_closes_total{code="4010"} (0 when the series does not exist yet). */
async function slowConsumerCloses(server: ParleyServer): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`, { headers: metricsHeaders })).text();
  const match = /^parley_ws_closes_total\{[^}]*code="4010"[^}]*\}\s+([0-9.eE+-]+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}

interface WindowResult {
  latencies: Float64Array;
  delivered: number;
  measured: number;
  rssGrowth: number;
  closes4010: number;
  errors: number;
  firstError?: string;
}

/** One configuration: opens sender, reader and the STALLED members, sends, measures, closes them. */
async function runWindow(
  ctx: BenchContext,
  rec: ScenarioRecorder,
  server: ParleyServer,
  users: BenchUser[],
  room: string,
  stalled: boolean,
  label: string,
  seconds: number,
): Promise<WindowResult> {
  const count = 2 + STALLED;
  // Always the `ws` client: its public pause() stops reading the TCP socket.
  const opened = await openSessions({ count, urlOf: (index) => `${server.wsUrl}?token=${users[index]!.token}`, concurrency: count, client: 'ws' });
  const sessions = opened.sessions;
  try {
    if (opened.failures.length > 0 || sessions.length !== count) throw new Error(`${label}: sessions failed to open (${opened.failures[0]})`);
    startHeartbeats(sessions);
    const [sender, reader, ...others] = sessions as [ClientSession, ClientSession, ...ClientSession[]];
    await ctx.waitQuiet(server.pid);
    await ctx.waitIdle(`slow-consumer ${label}`);

    const rate = ctx.sizes.slowRate;
    const warmupCount = Math.round((rate * ctx.sizes.warmupMs) / 1000);
    const measured = Math.round(rate * seconds);
    const total = warmupCount + measured;
    const sendTimes = new Float64Array(total);
    const latencies = new Samples(measured);
    let delivered = 0;
    let errors = 0;
    let firstError: string | undefined;
    reader.onFrame = (data) => {
      const at = data.indexOf(MARK);
      if (at < 0 || data.indexOf(ACK) >= 0) return;
      const n = benchNumber(data, at);
      if (n < warmupCount || n >= total) return;
      delivered += 1;
      latencies.push(performance.now() - sendTimes[n]!);
    };
    sender.onFrame = (data) => {
      if (data.indexOf(ERROR) >= 0) {
        errors += 1;
        firstError ??= data.toString().slice(0, 300);
      }
    };
    for (const other of others) other.onFrame = () => {};

    const closesBefore = await slowConsumerCloses(server);
    const rssBefore = processRssBytes(server.pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, processRssBytes(server.pid));
    }, 100);
    if (stalled) for (const other of others) (other.ws as WebSocket).pause();

    const meter = new CpuMeter(server.pid, server.databasePids);
    meter.start();
    let next = 0;
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
        while (next < due) {
          const n = next++;
          sendTimes[n] = performance.now();
          sender.ws.send(`{"type":"send_message","ref":"${n}","channel_id":"${room}","content":"bench#${n}# ${PADDING}"}`);
        }
        if (next >= total) resolve();
        else setTimeout(tick, 1);
      };
      tick();
    });
    const deadline = performance.now() + 5000;
    while (delivered < measured && performance.now() < deadline) await sleep(20);
    const cpu = meter.stop();
    if (label !== 'warm-up') rec.cpu(`${label}: ${rate} msg/s × 4 KB`, cpu);
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, processRssBytes(server.pid));
    const closes4010 = (await slowConsumerCloses(server)) - closesBefore;
    return { latencies: latencies.view(), delivered, measured, rssGrowth: rssPeak - rssBefore, closes4010, errors, ...(firstError ? { firstError } : {}) };
  } finally {
    await closeSessions(sessions);
  }
}

export async function slowConsumerScenario(ctx: BenchContext, rec: ScenarioRecorder): Promise<void> {
  rec.result.server_env_overrides = HIGH_FRAME_RATE_ENV;
  const { slowRate: rate, slowSeconds } = ctx.sizes;
  const load = `${rate} msg/s × 4 KB, ${Math.round(rate * slowSeconds).toLocaleString('en-US')} messages measured`;
  rec.figure('stalled_p50', `Parley: reader send-to-delivery p50 with ${STALLED} stalled members (${load})`, 'ms', 'lower', { baseline: 'base_p50' });
  rec.figure('stalled_p99', `Parley: reader send-to-delivery p99 with ${STALLED} stalled members`, 'ms', 'lower', { baseline: 'base_p99' });
  rec.figure('stalled_rss', `Parley: server RSS growth over the window with ${STALLED} stalled members (peak − before)`, 'MiB', 'lower', {
    baseline: 'base_rss',
  });
  rec.figure('stalled_closes', `Parley: 4010 slow-consumer closes during the window (of ${STALLED} stalled)`, 'closes', 'higher');
  rec.figure('base_p50', `no stalled members (baseline): reader send-to-delivery p50 (${STALLED} more members reading)`, 'ms', 'lower', {
    is_baseline: true,
  });
  rec.figure('base_p99', 'no stalled members (baseline): reader send-to-delivery p99', 'ms', 'lower', { is_baseline: true });
  rec.figure('base_rss', 'no stalled members (baseline): server RSS growth over the window', 'MiB', 'lower', { is_baseline: true });

  for (let round = 1; round <= ctx.repeat; round++) {
    ctx.log(` slow-consumer: round ${round}/${ctx.repeat}`);
    const server = await ctx.startParley('slow-consumer', HIGH_FRAME_RATE_ENV);
    try {
      const users = await ctx.users(server, Math.max(ctx.sizes.users, 2 + STALLED));
      const owner = users[0]!;
      // A fresh room per round: the paused members of (b) must not inherit anything from (a).
      const room = await createRoom(server.baseUrl, owner.token, `bench-slow-${Date.now()}`, 'public');
      for (const user of users.slice(1, 2 + STALLED)) await addMember(server.baseUrl, user.token, room, user.id);
      // An unmeasured pass first: a fresh process (JIT, pools, PostgreSQL caches) would otherwise
      // make (a), which runs first, look slower than it is.
      if (!ctx.smoke) await runWindow(ctx, rec, server, users, room, false, 'warm-up', WARMUP_SECONDS);
      for (const [stalled, prefix, label] of [
        [false, 'base', 'no stalled members'],
        [true, 'stalled', `${STALLED} stalled members`],
      ] as const) {
        const result = await runWindow(ctx, rec, server, users, room, stalled, label, slowSeconds);
        const [p50, p99] = percentiles(result.latencies, [50, 99]);
        rec.record(`${prefix}_p50`, p50!);
        rec.record(`${prefix}_p99`, p99!);
        rec.record(`${prefix}_rss`, result.rssGrowth / 2 ** 20);
        if (stalled) rec.record('stalled_closes', result.closes4010);
        else if (result.closes4010 > 0) rec.note(`${label}: ${result.closes4010} unexpected 4010 closes`);
        if (result.delivered < result.measured) rec.note(`${label}: ${result.measured - result.delivered} of ${result.measured} deliveries to the reader missing after 5 s`);
        if (result.errors > 0) rec.note(`${label}: ${result.errors} error frames (first: ${result.firstError})`);
        ctx.log(
          `  ${label}: reader p50 ${formatNumber(p50!)} ms, p99 ${formatNumber(p99!)} ms, ${result.delivered}/${result.measured} delivered, ` +
            `RSS +${formatNumber(result.rssGrowth / 2 ** 20)} MiB, ${result.closes4010} closes 4010`,
        );
      }
    } finally {
      await server.stop();
    }
  }
}
