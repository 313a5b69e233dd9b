/**
 * Scenario 5 — auth under load: A gateway sessions heartbeat (a `ping` every second each, carrying
 * its send time in `ref`, so the ping→pong round trip shows any stall) while logins run at 20/s
 * (argon2id verification). Figures: the server's event-loop delay p99 (monitorEventLoopDelay, read
 * from the `nodejs_eventloop_lag_p99_seconds` gauge of GET /metrics, which resets on every read),
 * ping→pong p99 and login latency p99; the same loop figures with heartbeats only, for reference.
 */
import type { BenchContext, ScenarioRecorder } from '../lib/context.ts';
import { closeSessions, closedSessions, openSessions, startHeartbeats, stopHeartbeats } from '../lib/gateway-clients.ts';
import { login } from '../lib/parley-api.ts';
import { metricsHeaders, type ParleyServer } from '../lib/servers.ts';
import { formatNumber, percentiles, Samples, sleep } from '../lib/stats.ts';
import { CpuMeter } from '../lib/system.ts';

const PONG = Buffer.from('"type":"pong"');
/** Each session pings this often; its pong's round trip is the stall probe. */
const HEARTBEAT_MS = 1000;
const REF = Buffer.from('"ref":"');

/** The event-loop delay p99 (ms) since the previous read (prom-client resets the histogram on collect). */
async function eventLoopP99(server: ParleyServer): Promise<{ p99: number; max: number }> {
  const response = await fetch(`${server.baseUrl}/metrics`, { headers: metricsHeaders });
  const text = await response.text();
  const read = (name: string) => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)`, 'm').exec(text);
    return match ? Number(match[1]) * 1000 : Number.NaN;
  };
  return { p99: read('nodejs_eventloop_lag_p99_seconds'), max: read('nodejs_eventloop_lag_max_seconds') };
}

export async function authScenario(ctx: BenchContext, rec: ScenarioRecorder): Promise<void> {
  const { authSessions, authLoginsPerSecond, authSeconds } = ctx.sizes;
  const shape = `${authLoginsPerSecond} logins/s while ${authSessions.toLocaleString('en-US')} sessions heartbeat`;
  rec.figure('loop_p99', `Parley: event-loop delay p99 (${shape})`, 'ms', 'lower', { baseline: 'loop_p99_quiet' });
  rec.figure('loop_max', 'Parley: event-loop delay max (same window)', 'ms', 'lower');
  rec.figure('login_p50', 'Parley: login latency p50', 'ms', 'lower');
  rec.figure('login_p99', 'Parley: login latency p99', 'ms', 'lower');
  rec.figure('pong_p99', 'Parley: ping→pong round trip p99 during logins', 'ms', 'lower', { baseline: 'pong_p99_quiet' });
  rec.figure('loop_p99_quiet', 'reference: event-loop delay p99 with heartbeats only (no logins)', 'ms', 'lower', { is_baseline: true });
  rec.figure('pong_p99_quiet', 'reference: ping→pong round trip p99 with heartbeats only', 'ms', 'lower', { is_baseline: true });

  for (let round = 1; round <= ctx.repeat; round++) {
    ctx.log(` auth: round ${round}/${ctx.repeat}`);
    const server = await ctx.startParley('auth');
    try {
      const users = await ctx.users(server);
      const opened = await openSessions({
        count: authSessions,
        urlOf: (index) => `${server.wsUrl}?token=${users[index % users.length]!.token}`,
        concurrency: 50,
      });
      try {
        if (opened.failures.length > 0) rec.note(`auth: ${opened.failures.length} sessions failed to open (first: ${opened.failures[0]})`);
        let pongs = new Samples();
        for (const session of opened.sessions) {
          session.onFrame = (data: Buffer) => {
            if (data.indexOf(PONG) < 0) return;
            const at = data.indexOf(REF);
            if (at < 0) return;
            const sent = Number(data.toString('latin1', at + REF.length, data.indexOf(34, at + REF.length)));
            pongs.push(performance.now() - sent);
          };
        }
        startHeartbeats(opened.sessions, HEARTBEAT_MS, () => `{"type":"ping","ref":"${performance.now().toFixed(3)}"}`);
        await ctx.waitQuiet(server.pid);
        await ctx.waitIdle('auth (heartbeats only)');

        // Reference window: heartbeats only.
        await eventLoopP99(server);
        pongs = new Samples();
        await sleep(authSeconds * 1000);
        const quiet = await eventLoopP99(server);
        const [quietPong] = percentiles(pongs.view(), [99]);
        rec.record('loop_p99_quiet', quiet.p99);
        rec.record('pong_p99_quiet', quietPong!);

        // Logins at a fixed rate (open loop), round-robin over the bench users.
        const logins = new Samples();
        const failures: number[] = [];
        const total = ctx.sizes.authMaxLogins ?? authLoginsPerSecond * authSeconds;
        const meter = new CpuMeter(server.pid, server.databasePids);
        await eventLoopP99(server);
        pongs = new Samples();
        meter.start();
        const started = performance.now();
        const pending: Promise<void>[] = [];
        for (let i = 0; i < total; i++) {
          const due = started + (i * 1000) / authLoginsPerSecond;
          const wait = due - performance.now();
          if (wait > 0) await sleep(wait);
          const user = users[i % users.length]!;
          const t0 = performance.now();
          pending.push(
            login(server.baseUrl, user.username).then((status) => {
              logins.push(performance.now() - t0);
              if (status !== 200) failures.push(status);
            }),
          );
        }
        await Promise.all(pending);
        // A short login window (the smoke run's 3 logins take 150 ms) may end between two heartbeats:
        // keep it open until a pong was measured in it, for at most two heartbeat intervals.
        const pongDeadline = performance.now() + 2 * HEARTBEAT_MS;
        while (pongs.view().length === 0 && performance.now() < pongDeadline) await sleep(20);
        const loaded = await eventLoopP99(server);
        rec.cpu(`Parley: ${shape}`, meter.stop());
        const [pongP99] = percentiles(pongs.view(), [99]);
        const [loginP50, loginP99] = percentiles(logins.view(), [50, 99]);
        if (failures.length > 0) rec.note(`auth: ${failures.length} logins failed (statuses ${[...new Set(failures)].join(', ')})`);
        rec.record('loop_p99', loaded.p99);
        rec.record('loop_max', loaded.max);
        rec.record('login_p50', loginP50!);
        rec.record('login_p99', loginP99!);
        rec.record('pong_p99', pongP99!);
        ctx.log(
          `  loop p99 ${formatNumber(loaded.p99)} ms (quiet ${formatNumber(quiet.p99)} ms), max ${formatNumber(loaded.max)} ms; login p50 ${formatNumber(loginP50!)} ms, p99 ${formatNumber(loginP99!)} ms; pong p99 ${formatNumber(pongP99!)} ms (quiet ${formatNumber(quietPong!)} ms)`,
        );
        stopHeartbeats(opened.sessions);
        const dropped = closedSessions(opened.sessions);
        if (dropped.length > 0) rec.note(`auth: ${dropped.length} sessions closed by the server (first code ${dropped[0]!.closeCode})`);
      } finally {
        await closeSessions(opened.sessions);
      }
    } finally {
      await server.stop();
    }
  }
  rec.note(
    'Event-loop delay comes from monitorEventLoopDelay with a 10 ms timer (prom-client default): an idle loop reads about 10 ms, so the figure includes that sampling interval.',
  );
  const p99 = rec.median('loop_p99');
  rec.target('Auth: event-loop lag p99 under 50 ms', Number.isFinite(p99) ? p99 < 50 : null, `${formatNumber(p99)} ms (median of the repeats' p99)`);
}
