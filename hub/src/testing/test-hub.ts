import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, type HubConfig } from '../config.js';
import { createHub, type Hub } from '../hub.js';
import { createLogger, type Logger } from '../logger.js';
import { MemoryStore } from '../store/memory.js';
import { connectRedis, RedisStore, type RedisClient, type RedisStoreOptions } from '../store/redis.js';
import { startOwnRedisCluster, startOwnRedisSentinel } from './redis-server.js';
import type { Store } from '../store/store.js';
import { deleteByPrefix } from '../store/redis-client.js';

/** `redis-cluster` and `redis-sentinel` start servers of their own (testing/redis-server.ts). */
export type StoreKind = 'memory' | 'redis' | 'redis-cluster' | 'redis-sentinel';

/** The store kinds every hub test runs against: the embedded store and a real Redis. */
export const STORE_KINDS: StoreKind[] = ['memory', 'redis'];

const ALL_KINDS: readonly StoreKind[] = ['memory', 'redis', 'redis-cluster', 'redis-sentinel'];

/**
 * The kinds a parametrised suite runs on: `TEST_STORE_KINDS` (comma-separated, e.g.
 * `redis-cluster,redis-sentinel`) or {@link STORE_KINDS}. Read when the suite is defined.
 */
export function testStoreKinds(): StoreKind[] {
  const asked = process.env.TEST_STORE_KINDS?.split(',').map((kind) => kind.trim()).filter(Boolean);
  if (!asked?.length) return STORE_KINDS;
  const unknown = asked.filter((kind) => !ALL_KINDS.includes(kind as StoreKind));
  if (unknown.length) throw new TypeError(`TEST_STORE_KINDS: unknown kind(s) ${unknown.join(', ')}; known: ${ALL_KINDS.join(', ')}`);
  return asked as StoreKind[];
}

/**
 * Runs `define` (which calls describe.each(testStoreKinds()) …) with TEST_STORE_KINDS set to
 * `kinds`, then restores it: a variant file of a suite (e.g. protocol on a cluster) imports the
 * suite inside, and the jest worker's later files see the environment unchanged.
 */
export async function withStoreKinds(kinds: StoreKind[], define: () => Promise<unknown>): Promise<void> {
  const before = process.env.TEST_STORE_KINDS;
  process.env.TEST_STORE_KINDS = kinds.join(',');
  try {
    await define();
  } finally {
    if (before === undefined) delete process.env.TEST_STORE_KINDS;
    else process.env.TEST_STORE_KINDS = before;
  }
}

/** A RedisStore on servers of its own, which close() stops (and removes their files). */
class OwnServersStore extends RedisStore {
  constructor(client: RedisClient, options: RedisStoreOptions, private readonly stopServers: () => Promise<void>) {
    super(client, options);
  }

  override async close(): Promise<void> {
    await super.close();
    await this.stopServers();
  }
}

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface RunningHub extends Hub {
  url: string;
  config: HubConfig;
  store: Store;
  server: Server;
  close(): Promise<void>;
}

export async function openTestStore(kind: StoreKind): Promise<Store> {
  switch (kind) {
    case 'memory':
      return new MemoryStore();
    case 'redis':
      return new RedisStore(await connectRedis(TEST_REDIS_URL));
    case 'redis-cluster': {
      const cluster = await startOwnRedisCluster();
      return new OwnServersStore(await connectRedis({ kind: 'cluster', nodes: cluster.rootNodes }), {}, () => cluster.stop());
    }
    case 'redis-sentinel': {
      const sentinel = await startOwnRedisSentinel();
      const client = await connectRedis({ kind: 'sentinel', sentinels: sentinel.sentinelRootNodes, name: sentinel.name });
      // As the hub runs with Sentinel by default: each single-use claim waits for the replica.
      return new OwnServersStore(client, { waitReplicas: 1, waitTimeoutMs: 2_000 }, () => sentinel.stop());
    }
  }
}

/**
 * A hub on an ephemeral loopback port, on the chosen store, under a unique key prefix so
 * tests sharing one Redis never see each other's data. Its keys are removed on close. A test
 * that reads the log passes its own `logger` (for example `captureLogger()`'s).
 */
export async function startTestHub(kind: StoreKind, env: Record<string, string> = {}, store?: Store, logger: Logger = createLogger('silent')): Promise<RunningHub> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const prefix = `test:${randomUUID()}:`;
  const config = loadConfig({ HUB_ISSUER: url, KEY_PREFIX: prefix, LOG_LEVEL: 'silent', ...env });
  const openedStore = store ?? (await openTestStore(kind));
  const hub = await createHub(config, openedStore, logger);
  server.on('request', hub.app);
  await hub.services.owned.publish(); // as main.ts does once it listens
  return {
    ...hub,
    url,
    config,
    store: openedStore,
    server,
    async close() {
      // No request is answered any more, then the hub stops (a store check in flight and the
      // audit entries still lingering land now), then the clean-up: nothing written after it.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // A test that started the delivery worker (as main.ts does): its deliveries in flight
      // finish and write their audit entries before the clean-up, not after it.
      await hub.deliveryWorker.stop();
      await hub.stop();
      // As main.ts before it closes the store: no audit tries later.
      hub.services.audit.stop();
      await hub.services.audit.flush();
      if (openedStore instanceof RedisStore && openedStore.client.isOpen) {
        // A cluster node's connection may still be coming back (a test that cut it off): try again for a while.
        for (let attempt = 1; ; attempt += 1) {
          try {
            await deleteByPrefix(openedStore.client, prefix);
            break;
          } catch (error) {
            if (attempt >= 40) throw error;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
      }
      if (!store) await openedStore.close();
    },
  };
}
