import { answeringNodes, answersNow, refusedCredentials, tlsMismatch, wrongKindOfRedis } from './redis-probe.js';
import { credentialSettings } from './redis-access.js';
import { MemoryStore } from './memory.js';
import { tlsFailureHint } from './redis-tls.js';
import { tlsRefusal } from './redis-tls-probe.js';
import { closeRedis, ClusterNotServingError, connectRedis, errorMessagesOf, secretsOf, isAuthFailure, isOutOfMemory, redactCredentials, type RedisTarget } from './redis-client.js';
import { RedisStore, type RedisStoreOptions } from './redis.js';
import type { Store } from './store.js';

export type { Store, SetOptions } from './store.js';
export { StoreUnavailableError } from './store.js';
export { MemoryStore } from './memory.js';
export { RedisStore, connectRedis } from './redis.js';
export type { RedisTarget, RedisNode } from './redis-client.js';

/** What opening the store needs from the configuration (see config.ts). */
export interface StoreSettings {
  redis: RedisTarget | undefined;
  redisWaitReplicas?: number;
  REDIS_WAIT_TIMEOUT_MS?: number;
}

/** Redis (one server, a cluster or Sentinel) when configured, else the embedded in-process store. */
export async function openStore(settings: StoreSettings | string | undefined): Promise<Store> {
  const resolved: StoreSettings = typeof settings === 'string' || settings === undefined ? { redis: settings ? { kind: 'single', url: settings } : undefined } : settings;
  if (!resolved.redis) return new MemoryStore();
  const options: RedisStoreOptions = {
    ...(resolved.redisWaitReplicas !== undefined ? { waitReplicas: resolved.redisWaitReplicas } : {}),
    ...(resolved.REDIS_WAIT_TIMEOUT_MS !== undefined ? { waitTimeoutMs: resolved.REDIS_WAIT_TIMEOUT_MS } : {}),
  };
  const client = await connectRedis(resolved.redis);
  // On a cluster that waits for replicas, the claims and their WAITs get connections of their own
  // (RedisStoreOptions.durable): a WAIT holds the connection it is sent on until it returns.
  if (resolved.redis.kind === 'cluster' && (options.waitReplicas ?? 0) > 0) {
    try {
      options.durable = await connectRedis(resolved.redis);
    } catch (error) {
      await closeRedis(client).catch(() => undefined);
      throw error;
    }
  }
  return new RedisStore(client, options);
}

/** `error` or one of its causes that is a `kind`. */
function errorOf<T extends Error>(error: unknown, kind: new (...args: never[]) => T): T | undefined {
  for (let at = error, depth = 0; at instanceof Error && depth < 4; at = at.cause, depth += 1) if (at instanceof kind) return at;
  return undefined;
}

/** What the start-up log says about the store (addresses only: no credentials). */
export function describeRedis(target: RedisTarget, waitReplicas: number): Record<string, unknown> {
  const wait = waitReplicas > 0 ? { waitReplicas } : {};
  if (target.kind === 'cluster') return { redis: 'cluster', nodes: target.nodes.map(({ host, port }) => `${host}:${port}`), ...wait };
  // `sentinelName`, not `name`: the logger's own `name` field (the process's) would overwrite it.
  if (target.kind === 'sentinel') return { redis: 'sentinel', sentinelName: target.name, sentinels: target.sentinels.map(({ host, port }) => `${host}:${port}`), ...wait };
  const url = new URL(target.url);
  return { redis: 'single', address: `${url.hostname}:${url.port || 6379}`, ...wait };
}

/**
 * What to say when the configured Redis did not answer at start: where it was looked for, and
 * which settings to check; for a Sentinel or Cluster setting whose first address answers as
 * another kind of server, that instead (`wrongKindOfRedis`).
 */
export async function unreachableRedisMessage(target: RedisTarget, cause?: unknown): Promise<string> {
  const description = describeRedis(target, 0);
  const where = `Redis ${String(description.address ?? description.nodes ?? description.sentinels)} (${String(description.redis)})`;
  // It answered, and refused the database number (`redis://host:6379/99`): not "did not answer".
  if (target.kind === 'single' && /DB index is out of range/i.test(cause instanceof Error ? cause.message : String(cause ?? ''))) {
    const db = new URL(target.url).pathname.replace(/^\//, '');
    return `${where} answered, but has no database ${db} (the /${db} of REDIS_URL): a Redis server has databases 0 to 15 unless its "databases" setting says more; use one of those, or leave the path off for database 0`;
  }
  // It answered, and refused a write for memory (`OOM command not allowed when used memory >
  // 'maxmemory'`, under noeviction): it is running, and its address and password are right.
  const causes = errorMessagesOf(cause);
  if (isOutOfMemory(causes)) {
    return `${where} answered, but is out of memory and refuses writes (maxmemory reached, eviction off): raise maxmemory or free memory on the Redis server, then run the command again`;
  }
  // It answered, and refused the credentials (a password changed on the server, a wrong one).
  if (isAuthFailure(causes)) {
    // A server with requirepass and a REDIS_URL without a password: said as that, not as a refusal
    // of credentials that were never given (with Redis's two-line NOAUTH text about HELLO).
    if (target.kind === 'single' && /\bNOAUTH\b/.test(causes) && secretsOf(target).length === 0) {
      return `${where} answered, but asks for a password, and REDIS_URL has none: write it in REDIS_URL as redis://:PASSWORD@host:port (or redis://USER:PASSWORD@host:port for a Redis ACL user; a password with / ? # @ or % is written percent-encoded)`;
    }
    return `${where} answered, but refused the credentials (${redactCredentials(causes.replace(/^.*?\b(NOAUTH|WRONGPASS)\b/s, '$1'), secretsOf(target))}): check ${credentialSettings(target.kind)} against the Redis server's`;
  }
  // It refused the TLS handshake, or this hub refused its certificate: OpenSSL's words name no setting.
  const tlsHint = tlsFailureHint(causes);
  if (tlsHint) return `${where} did not complete the TLS handshake: ${tlsHint}`;
  // Often node-redis saw only the connection closed (the server's alert lost): the handshake asked alone.
  const tlsRefused = await tlsRefusal(target);
  if (tlsRefused) return `${where} did not complete the TLS handshake with ${tlsRefused.who}: ${tlsRefused.hint}`;
  // A cluster's or Sentinel's refusal that node-redis kept to itself: asked again, with the same credentials.
  const refused = await refusedCredentials(target);
  if (refused) return `${where} answered, but ${refused.who} refused the credentials (${redactCredentials(refused.refusal, secretsOf(target))}): check ${refused.settings} against the Redis server's`;
  // It answered as a cluster that does not serve every slot: not formed yet, or a shard down.
  const notServing = errorOf(cause, ClusterNotServingError)?.message;
  if (target.kind === 'cluster' && notServing) {
    return `${where} answered, but the cluster is not serving: ${notServing}. A new cluster must be formed first (redis-cli --cluster create host:port … --cluster-replicas 1); a running one needs a master for every slot range (a failed master's replica promoted, or the node started again): check \`redis-cli -p PORT cluster info\` and \`cluster nodes\`, then start the hub again`;
  }
  // REDIS_TLS not matching the servers: nothing answers either way round but the other.
  const tls = await tlsMismatch(target);
  if (tls) return `${where} did not answer: ${tls}`;
  const wrongKind = await wrongKindOfRedis(target);
  if (wrongKind) return `${where} found no ${target.kind === 'sentinel' ? 'primary' : 'cluster'}: ${wrongKind}`;
  // Some listed cluster nodes answer and some accept connections but do not (a master stopped or
  // in DEBUG SLEEP, a frozen host): node-redis waits on those, and "did not answer" sent the
  // operator to check an address and password that were right.
  if (target.kind === 'cluster' && target.nodes.length > 1) {
    const { silent } = await answeringNodes(target.nodes, target.access);
    if (silent.length > 0 && silent.length < target.nodes.length) {
      return `${where} did not answer in time: ${silent.join(', ')} ${silent.length === 1 ? 'does' : 'do'} not answer a PING while the other listed nodes do (down, frozen or overloaded); a master that stays so is replaced by its replica after cluster-node-timeout: try again then, or start the hub with the nodes that answer`;
    }
  }
  // Nothing refused the credentials above (a refusal is a reply, and is said as one). Before, this
  // asked "… and its password right?" also when the store was only slow to answer: a Sentinel
  // failover under way (the admin CLI's `users disable` during the failover review) sent the
  // operator to a password that was right.
  if (await answersNow(target)) {
    return `${where} did not answer in time, and answers now with these settings (no password was refused): it was busy or changing, as during a failover or a restart (a primary being replaced takes seconds); try again`;
  }
  // A host name that does not resolve (a typo, a compose service name outside compose): said as
  // that, not as a server that did not answer (an operator review).
  const unresolved = /\b(?:ENOTFOUND|EAI_AGAIN) ([^\s,;)]+)/.exec(causes)?.[1];
  if (unresolved) {
    return `${where}: the host name ${unresolved} does not resolve here (DNS${/EAI_AGAIN/.test(causes) ? ' did not answer in time' : ' has no such name'}): check the host in REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS) for a typo; a compose service name (redis) resolves only inside its compose network`;
  }
  return `${where} did not answer (no reply at all, so no password was refused): is it running and reachable, and are REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS) right?`;
}

/**
 * What to say when the store stopped answering in the middle of a command (the admin CLI): it
 * answered when the command began, so its address and password were right, unless the reply was
 * a refusal of the credentials (a password changed on the servers meanwhile), said as such.
 */
export async function storeStoppedMessage(target: RedisTarget, cause?: unknown): Promise<string> {
  const causes = errorMessagesOf(cause);
  if (isAuthFailure(causes)) return unreachableRedisMessage(target, cause);
  const description = describeRedis(target, 0);
  const where = `Redis ${String(description.address ?? description.nodes ?? description.sentinels)} (${String(description.redis)})`;
  // A write refused for memory is an answer, at once: not "did not answer in time … as during a
  // failover" (a soak run's `users enable` at maxmemory said so and sent the operator elsewhere).
  if (isOutOfMemory(causes)) {
    return `${where} answered, but is out of memory and refuses writes (maxmemory reached, eviction off): raise maxmemory or free memory on the Redis server. The command may have stopped part-way: check what it did, and run it again`;
  }
  const now = (await answersNow(target))
    ? 'it answers again now: it was busy or changing, as during a failover or a restart'
    : 'it does not answer now either: is it running and reachable?';
  return `${where} answered when the command began, then did not answer in time (no password was refused); ${now}. The command may have stopped part-way: check what it did, and run it again`;
}
