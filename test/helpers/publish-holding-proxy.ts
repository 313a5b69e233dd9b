import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

/**
 * A TCP proxy in front of redis-server for one instance that can hold that instance's PUBLISH
 * commands (and everything it sends after them, so the connection's order is kept) until
 * released: a barrier that makes "instance B committed first but its event reaches the bus last"
 * happen on purpose, without sleeps. Commands before the first held PUBLISH (rate-limit scripts,
 * the subscription) pass, so the instance keeps answering REST while its events wait.
 */
export interface PublishHoldingProxy {
  url: string;
  /** From now on, the first chunk carrying a PUBLISH and all later client bytes are held. */
  hold(): void;
  /** Sends everything held, in order, and stops holding. */
  release(): void;
  /** Whether a PUBLISH is being held (the event to race against is parked). */
  readonly holding: boolean;
}

export async function startPublishHoldingProxy(t: Test, upstreamUrl: string): Promise<PublishHoldingProxy> {
  const upstream = new URL(upstreamUrl);
  let armed = false;
  const links = new Set<{ client: Socket; server: Socket; held: Buffer[] | null }>();
  const server: Server = createServer((client) => {
    const link = { client, server: connect(Number(upstream.port), upstream.hostname), held: null as Buffer[] | null };
    links.add(link);
    client.on('data', (chunk: Buffer) => {
      if (link.held === null && armed && /PUBLISH/i.test(chunk.toString('latin1'))) link.held = [];
      if (link.held !== null) link.held.push(chunk);
      else link.server.write(chunk);
    });
    link.server.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      link.server.destroy();
      links.delete(link);
    };
    client.on('error', end).on('close', end);
    link.server.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const link of links) {
      link.client.destroy();
      link.server.destroy();
    }
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold() {
      armed = true;
    },
    release() {
      armed = false;
      for (const link of links) {
        for (const chunk of link.held ?? []) link.server.write(chunk);
        link.held = null;
      }
    },
    get holding() {
      return [...links].some((link) => link.held !== null && link.held.length > 0);
    },
  };
}
