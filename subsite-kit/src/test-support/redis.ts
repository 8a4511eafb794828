import { createClient } from 'redis';
import type { RedisClientType } from 'redis';
import type { RedisClient } from '../options.js';

/** The Redis the kit's tests run against (CI may start its own on another port). */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The client options the README recommends: no per-command AbortSignal timer (node-redis's 5 s
 * default keeps every request alive that long), one idle timeout on the socket instead, kept
 * from firing on a quiet connection by pings, and a reconnect after it fires.
 */
export const RECOMMENDED_CLIENT_OPTIONS = {
  commandOptions: { timeout: 0 },
  // node-redis does not reconnect after a socket timeout by default: the client would close for good.
  socket: { socketTimeout: 5_000, reconnectStrategy: (retries: number) => Math.min(retries * 100, 2_000) },
  pingInterval: 1_000,
} as const;

/** A connected client for tests; errors surface through the failing commands. */
export async function connectTestRedis(url = TEST_REDIS_URL): Promise<RedisClientType> {
  const redis = createClient({ url, ...RECOMMENDED_CLIENT_OPTIONS }) as RedisClientType;
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}

/** Deletes every key a test wrote under `prefix` (SCAN, never KEYS) and closes the client. */
export async function cleanUpTestRedis(redis: RedisClient, prefix: string): Promise<void> {
  const keys: string[] = [];
  if ('masters' in redis) {
    // A cluster: each master SCANs only its own keys.
    for (const master of redis.masters) {
      const node = await redis.nodeClient(master);
      for await (const batch of node.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) keys.push(...batch);
    }
  } else if ('getMasterNode' in redis) {
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) keys.push(...batch);
  } else {
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) keys.push(...batch);
  }
  // One DEL per key: on a cluster the keys lie in many slots.
  await Promise.all(keys.map((key) => redis.del(key)));
  await redis.destroy();
}
