import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, type HubConfig } from '../config.js';
import { createHub, type Hub } from '../hub.js';
import { createLogger } from '../logger.js';
import { MemoryStore } from '../store/memory.js';
import { connectRedis, RedisStore } from '../store/redis.js';
import type { Store } from '../store/store.js';
import { deleteByPrefix } from '../store/redis-client.js';

export type StoreKind = 'memory' | 'redis';

/** The store kinds every hub test runs against: the embedded store and a real Redis. */
export const STORE_KINDS: StoreKind[] = ['memory', 'redis'];

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface RunningHub extends Hub {
  url: string;
  config: HubConfig;
  store: Store;
  server: Server;
  close(): Promise<void>;
}

export async function openTestStore(kind: StoreKind): Promise<Store> {
  return kind === 'redis' ? new RedisStore(await connectRedis(TEST_REDIS_URL)) : new MemoryStore();
}

/**
 * A hub on an ephemeral loopback port, on the chosen store, under a unique key prefix so
 * tests sharing one Redis never see each other's data. Its keys are removed on close.
 */
export async function startTestHub(kind: StoreKind, env: Record<string, string> = {}, store?: Store): Promise<RunningHub> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const prefix = `test:${randomUUID()}:`;
  const config = loadConfig({ HUB_ISSUER: url, KEY_PREFIX: prefix, LOG_LEVEL: 'silent', ...env });
  const openedStore = store ?? (await openTestStore(kind));
  const hub = await createHub(config, openedStore, createLogger('silent'));
  server.on('request', hub.app);
  return {
    ...hub,
    url,
    config,
    store: openedStore,
    server,
    async close() {
      hub.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (openedStore instanceof RedisStore && openedStore.client.isOpen) {
        await deleteByPrefix(openedStore.client, prefix);
      }
      if (!store) await openedStore.close();
    },
  };
}
