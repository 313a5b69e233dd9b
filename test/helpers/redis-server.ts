import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { findBinary } from '../../scripts/system-deps.ts';
import { freePort } from './accounts.ts';

export interface RedisProcess {
  url: string;
  port: number;
  readonly pid: number | undefined;
  /** Stops the server (SIGKILL: no goodbye to clients) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is saved). */
  start(): Promise<void>;
}

/**
 * A real redis-server on an ephemeral port with a temp folder and no persistence, stopped at
 * teardown. redis-server comes from Debian (scripts/system-deps.ts; npm test checks it is there).
 */
export async function startRedis(t: Test): Promise<RedisProcess> {
  const binary = findBinary('redis-server');
  if (!binary) throw new Error('redis-server is missing: npm test installs it or says how (scripts/system-deps.ts)');
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-redis-'));
  let child: ChildProcess | undefined;

  const start = async () => {
    const spawned = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = spawned;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      };
      spawned.stdout!.on('data', onData);
      spawned.stderr!.on('data', onData);
      spawned.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${output}`)));
    });
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  t.teardown(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid;
    },
    stop,
    start,
  };
}
