/**
 * Checks of a RedisStore that the password and TLS tests share: that it writes and reads keys
 * on every node, that it writes again after a failover, and why a target could not be reached.
 */
import { expect } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { unreachableRedisMessage } from '../src/store/index.js';
import { connectRedis, type RedisStore, type RedisTarget } from '../src/store/redis.js';
import { StoreUnavailableError } from '../src/store/store.js';

/** Why `target` could not be reached, as the hub's start and the CLI say it. */
export async function refusal(target: RedisTarget): Promise<string> {
  const error = await connectRedis(target).then(
    async (client) => {
      await client.close();
      return undefined;
    },
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(StoreUnavailableError);
  return unreachableRedisMessage(target, (error as StoreUnavailableError).cause);
}

/** Writes and reads back several keys (on a cluster they fall in several slots, so on every master); each with a TTL. */
export async function roundTrip(store: RedisStore, label: string, count = 8): Promise<void> {
  const keys = Array.from({ length: count }, (_, i) => `${label}:${String.fromCharCode(97 + i)}:${randomUUID()}`);
  for (const key of keys) await store.set(key, 'v', { ttlSeconds: 60 });
  for (const key of keys) expect(await store.get(key)).toBe('v');
}

/** Whether the store takes a write again within `withinMs` (after a primary crashed and a replica is promoted). */
export async function writesAgain(store: RedisStore, label: string, withinMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await store.set(`${label}:after:${randomUUID()}`, 'v', { ttlSeconds: 60 }).then(() => true, () => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}
