import { connect, createServer, type Socket } from 'node:net';
import { TEST_REDIS_URL } from './redis.js';

/** A TCP proxy to the test Redis that can stop forwarding: a Redis that stalls mid-command. */
export async function stallableProxy(): Promise<{ url: string; stall(): void; resume(): void; close(): Promise<void> }> {
  const target = new URL(TEST_REDIS_URL);
  let stalled = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => {
      if (!stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!stalled) client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined).on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    stall: () => {
      stalled = true;
    },
    resume: () => {
      stalled = false;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
