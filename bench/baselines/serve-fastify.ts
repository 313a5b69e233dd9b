/**
 * What the bare Fastify baselines share: listen on the port given, print the one JSON line the
 * harness waits for (bench/lib/servers.ts startBaseline), and close the app and its pool on
 * SIGTERM/SIGINT.
 */
import type { FastifyInstance } from 'fastify';

export async function serveBaseline(app: FastifyInstance, port: number, pool: { end(): Promise<void> }): Promise<void> {
  await app.listen({ host: '127.0.0.1', port });
  const address = app.server.address();
  console.log(JSON.stringify({ ready: true, port: typeof address === 'object' && address ? address.port : port, pid: process.pid }));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      void app
        .close()
        .then(() => pool.end())
        .finally(() => process.exit(0));
    });
  }
}
