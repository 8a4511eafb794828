import { isCluster, isSentinel, type RedisClient } from './redis-client.js';

/** The only `maxmemory-policy` under which Redis never deletes the hub's keys (users, clients, counters) to make room. */
export const SAFE_EVICTION_POLICY = 'noeviction';

/** What the Redis server(s) the client reaches say of their eviction. */
export interface EvictionStatus {
  /** The distinct `maxmemory-policy` values of the servers read, sorted; empty when none could be read. */
  policies: string[];
  /** `evicted_keys` (INFO stats) summed over the servers read; undefined when none could be read. */
  evictedKeys: number | undefined;
}

/** How long one read may take: it runs inside the periodic store check, which must not wait on it. */
const READ_WITHIN_MS = 1_000;

type Send = (args: string[]) => Promise<unknown>;

/** The value of `field` in an INFO reply (`field:value` lines). */
function infoField(info: unknown, field: string): string | undefined {
  return new RegExp(`^${field}:(\\S+)`, 'm').exec(String(info))?.[1];
}

/** `CONFIG GET maxmemory-policy` (a flat list in RESP2, a map in RESP3), else undefined. */
function configValue(reply: unknown, name: string): string | undefined {
  if (Array.isArray(reply)) {
    const at = reply.indexOf(name);
    return at >= 0 && typeof reply[at + 1] === 'string' ? (reply[at + 1] as string) : undefined;
  }
  if (reply instanceof Map) return typeof reply.get(name) === 'string' ? (reply.get(name) as string) : undefined;
  if (reply && typeof reply === 'object') {
    const value = (reply as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

/**
 * One server: its policy from `CONFIG GET` or, where CONFIG is disabled or renamed (managed
 * Redis), from `INFO memory`'s `maxmemory_policy`; its `evicted_keys` from `INFO stats`.
 * Sent together (node-redis pipelines commands of one tick). Anything unreadable is undefined.
 */
async function readOne(send: Send): Promise<{ policy: string | undefined; evictedKeys: number | undefined }> {
  const [config, stats] = await Promise.allSettled([send(['CONFIG', 'GET', 'maxmemory-policy']), send(['INFO', 'stats'])]);
  let policy = config.status === 'fulfilled' ? configValue(config.value, 'maxmemory-policy') : undefined;
  if (policy === undefined) policy = infoField(await send(['INFO', 'memory']).catch(() => ''), 'maxmemory_policy');
  const evicted = stats.status === 'fulfilled' ? Number(infoField(stats.value, 'evicted_keys')) : Number.NaN;
  return { policy: policy?.toLowerCase(), evictedKeys: Number.isFinite(evicted) ? evicted : undefined };
}

async function readAll(client: RedisClient): Promise<EvictionStatus> {
  let reads: Promise<{ policy: string | undefined; evictedKeys: number | undefined }>[];
  if (isCluster(client)) {
    // Every master the client knows (the keys live there); a node that does not answer is skipped.
    reads = client.masters.map(async (master) => {
      const node = await client.nodeClient(master);
      return readOne((args) => node.sendCommand(args));
    });
  } else if (isSentinel(client)) {
    reads = [readOne((args) => client.sendCommand(false, args))];
  } else {
    reads = [readOne((args) => client.sendCommand(args))];
  }
  const answers = (await Promise.allSettled(reads)).flatMap((each) => (each.status === 'fulfilled' ? [each.value] : []));
  const policies = [...new Set(answers.flatMap((each) => (each.policy ? [each.policy] : [])))].sort();
  const counts = answers.flatMap((each) => (each.evictedKeys === undefined ? [] : [each.evictedKeys]));
  return { policies, evictedKeys: counts.length ? counts.reduce((sum, n) => sum + n, 0) : undefined };
}

/**
 * Reads the eviction policy and evicted-key count of the Redis server(s) `client` reaches
 * (on a cluster, each master; with Sentinel, the primary). Never rejects: what cannot be read
 * in time is left out (`policies` empty, `evictedKeys` undefined).
 */
export async function readEvictionStatus(client: RedisClient): Promise<EvictionStatus> {
  let timer: NodeJS.Timeout | undefined;
  const nothing: EvictionStatus = { policies: [], evictedKeys: undefined };
  try {
    return await Promise.race([
      readAll(client),
      new Promise<EvictionStatus>((resolve) => {
        timer = setTimeout(() => resolve(nothing), READ_WITHIN_MS);
      }),
    ]);
  } catch {
    return nothing;
  } finally {
    clearTimeout(timer);
  }
}

/** What the log says when Redis may evict the hub's keys: the policy and what to do. */
export function unsafePolicyMessage(policies: string[]): string {
  const named = policies.filter((policy) => policy !== SAFE_EVICTION_POLICY).join(', ');
  return `Redis maxmemory-policy is ${named}: set maxmemory-policy ${SAFE_EVICTION_POLICY}: with ${named} Redis deletes users, clients and rate-limit counters when memory runs out; README 'What Redis holds'`;
}
