import { isCluster, isSentinel } from './redis-client.js';
import { RedisStore } from './redis.js';
import type { Store } from './store.js';

/**
 * The primary a single Redis replicates, when REDIS_URL names a replica (a managed Redis's
 * reader endpoint, a read replica, a former primary after a failover): it answers every read
 * and PING and refuses every write with READONLY. A hub started on one listened and then stayed
 * not ready, saying only "the store is unavailable: check REDIS_URL" (an operator review).
 * Undefined for a primary, for Sentinel and Cluster (which find their primaries), and where
 * `ROLE` cannot be run (a managed Redis that renamed it).
 */
export async function replicaOf(store: Store): Promise<string | undefined> {
  if (!(store instanceof RedisStore)) return undefined;
  const client = store.client;
  if (isCluster(client) || isSentinel(client)) return undefined;
  try {
    const role = (await client.sendCommand(['ROLE'])) as unknown[];
    if (role[0] !== 'slave' && role[0] !== 'replica') return undefined;
    return `${String(role[1])}:${String(role[2])}`;
  } catch {
    return undefined;
  }
}

/** What the start-up and the CLI say of a replica: `where` names the Redis as their other messages do. */
export function replicaMessage(where: string, primary: string): string {
  return `${where} answered, but is a read-only replica (of ${primary}): it refuses every write (READONLY); point REDIS_URL at the primary, or use REDIS_SENTINELS, which finds it`;
}
