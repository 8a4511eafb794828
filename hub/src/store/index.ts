import { MemoryStore } from './memory.js';
import { connectRedis, RedisStore } from './redis.js';
import type { Store } from './store.js';

export type { Store, SetOptions } from './store.js';
export { StoreUnavailableError } from './store.js';
export { MemoryStore } from './memory.js';
export { RedisStore, connectRedis } from './redis.js';

/** Redis when a URL is given, else the embedded in-process store. */
export async function openStore(redisUrl: string | undefined): Promise<Store> {
  if (!redisUrl) return new MemoryStore();
  return new RedisStore(await connectRedis(redisUrl));
}
