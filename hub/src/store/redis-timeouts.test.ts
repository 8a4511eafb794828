import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { connectRedis, RedisStore } from './redis.js';
import { StoreUnavailableError } from './store.js';
import { startOwnRedisCluster, startOwnRedisSentinel } from '../testing/redis-server.js';

const REDIS_URL = new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `test:redis-timeouts:${randomUUID()}:`;

/** A TCP proxy to the shared Redis that can stop forwarding: a Redis that stalls mid-command. */
async function stallableProxy(): Promise<{ url: string; stall(): void; close(): Promise<void>; clientsOpen(): number }> {
  let stalled = false;
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(REDIS_URL.port || 6379), REDIS_URL.hostname);
    sockets.add(client).add(upstream);
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('data', (chunk) => { if (!stalled) upstream.write(chunk); });
    upstream.on('data', (chunk) => { if (!stalled) client.write(chunk); });
    for (const s of [client, upstream]) s.on('error', () => {}).on('close', () => { client.destroy(); upstream.destroy(); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    stall: () => { stalled = true; },
    /** Connections from the client under test that it has not closed (a stalled proxy never closes them itself). */
    clientsOpen: () => clients.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('RedisStore command timeouts', () => {
  let store: RedisStore | undefined;
  afterAll(async () => {
    if (store) {
      await store.del(`${prefix}k`);
      await store.close();
    }
  });

  it("creates no per-command AbortSignal.timeout timer (node-redis's 5 s default is off)", async () => {
    store = new RedisStore(await connectRedis(REDIS_URL.toString()));
    const timeouts = jest.spyOn(AbortSignal, 'timeout');
    await Promise.all(Array.from({ length: 50 }, (_, i) => store!.set(`${prefix}k`, String(i), { ttlSeconds: 60 })));
    await Promise.all(Array.from({ length: 50 }, () => store!.get(`${prefix}k`)));
    expect(timeouts).not.toHaveBeenCalled();
  });

  it('bounds commands with one shared timer, not a timer (and a Promise.race) per command', async () => {
    store ??= new RedisStore(await connectRedis(REDIS_URL.toString()));
    await store.get(`${prefix}k`);
    const timeouts = jest.spyOn(globalThis, 'setTimeout');
    const intervals = jest.spyOn(globalThis, 'setInterval');
    const races = jest.spyOn(Promise, 'race');
    await Promise.all(Array.from({ length: 100 }, (_, i) => store!.set(`${prefix}k`, String(i), { ttlSeconds: 60 })));
    await Promise.all(Array.from({ length: 100 }, () => store!.get(`${prefix}k`)));
    expect(timeouts.mock.calls.length + intervals.mock.calls.length).toBeLessThanOrEqual(2);
    expect(races).not.toHaveBeenCalled();
  });

  it.each([
    ['a Redis Cluster', async () => {
      const cluster = await startOwnRedisCluster();
      return { client: await connectRedis({ kind: 'cluster', nodes: cluster.rootNodes }), stop: () => cluster.stop() };
    }],
    ['Redis Sentinel', async () => {
      const sentinel = await startOwnRedisSentinel();
      return { client: await connectRedis({ kind: 'sentinel', sentinels: sentinel.sentinelRootNodes, name: sentinel.name }), stop: () => sentinel.stop() };
    }],
  ])('creates no per-command AbortSignal.timeout timer on %s either', async (_name, start) => {
    const { client, stop } = await start();
    const own = new RedisStore(client, { waitReplicas: 0 });
    try {
      const timeouts = jest.spyOn(AbortSignal, 'timeout');
      await Promise.all(Array.from({ length: 50 }, (_, i) => own.set(`${prefix}k${i}`, String(i), { ttlSeconds: 60 })));
      await Promise.all(Array.from({ length: 50 }, (_, i) => own.get(`${prefix}k${i}`)));
      await own.swap(`${prefix}swap`, null, '1', 60);
      expect(timeouts).not.toHaveBeenCalled();
    } finally {
      await own.close();
      await stop();
    }
  });

  it('a Redis that stalls mid-command still gives StoreUnavailableError within the store deadline', async () => {
    const proxy = await stallableProxy();
    const stalled = new RedisStore(await connectRedis(proxy.url));
    try {
      expect(await stalled.ping()).toBe(true);
      proxy.stall();
      const started = Date.now();
      await expect(stalled.get(`${prefix}stalled`)).rejects.toBeInstanceOf(StoreUnavailableError);
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(1_900);
      expect(took).toBeLessThan(3_500); // the store's 2 s deadline, not node-redis's 5 s
    } finally {
      stalled.client.destroy();
      await proxy.close();
    }
  });

  it('close() on a stalled Redis with commands still pending returns within the deadline (the connection is cut)', async () => {
    // Found by bench/tools/faults-under-load.ts: a hub SIGTERM'd while Redis was paused waited
    // in close() for the replies of commands its deadline had already given up on, until the
    // process's hard bound (SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + 2 s), and exited 1.
    const proxy = await stallableProxy();
    const stalled = new RedisStore(await connectRedis(proxy.url));
    try {
      expect(await stalled.ping()).toBe(true);
      proxy.stall();
      await expect(stalled.get(`${prefix}stalled`)).rejects.toBeInstanceOf(StoreUnavailableError);
      const started = Date.now();
      let giveUp: NodeJS.Timeout | undefined;
      const closed = await Promise.race([stalled.close().then(() => 'closed'), new Promise((resolve) => { giveUp = setTimeout(() => resolve('still waiting'), 6_000); })]);
      clearTimeout(giveUp); // else it holds the jest worker for 6 s after the run (CI's "a worker failed to exit")
      expect(closed).toBe('closed');
      expect(Date.now() - started).toBeLessThan(3_500);
      expect(stalled.client.isOpen).toBe(false);
      // Cut, not left open: node-redis's close() takes isOpen to false at once, so a check of
      // isOpen after the deadline never cut anything (the socket and its pending replies stayed,
      // and a process that does not call process.exit, the CLI, waited on them).
      const cutBy = Date.now() + 1_000;
      while (proxy.clientsOpen() > 0 && Date.now() < cutBy) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(proxy.clientsOpen()).toBe(0);
    } finally {
      if (stalled.client.isOpen) stalled.client.destroy();
      await proxy.close();
    }
  });
});
