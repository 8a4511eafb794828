import { createClient, createCluster, createSentinel } from 'redis';
import { accessOptions, isAuthFailure } from './redis-access.js';
import { StoreUnavailableError } from './store.js';
import { ClusterWatch } from './cluster-watch.js';
import { answeringNodes } from './redis-probe.js';
import type { RedisAccess } from './redis-access.js';
import { tlsFailureHint, type RedisTlsFiles } from './redis-tls.js';

export type { RedisAccess } from './redis-access.js';
export { isAuthFailure } from './redis-access.js';
import { SENTINEL_IDLE_MS, SENTINEL_PING_MS, SentinelWatch } from './sentinel-watch.js';

/** A `host:port` of a Redis node or sentinel. */
export interface RedisNode {
  host: string;
  port: number;
}

/**
 * Which Redis the store talks to: one server (`REDIS_URL`), a Redis Cluster
 * (`REDIS_CLUSTER_NODES`, any reachable masters; the rest is discovered) or a primary found
 * through Redis Sentinel (`REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`). `access`: the data nodes'
 * (REDIS_USERNAME, REDIS_PASSWORD, REDIS_TLS and its files); `sentinelAccess`: the sentinels' own
 * (REDIS_SENTINEL_USERNAME, REDIS_SENTINEL_PASSWORD, and REDIS_TLS with the same files). A single
 * `rediss://` server's `tlsFiles`: REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE.
 */
export type RedisTarget =
  | { kind: 'single'; url: string; tlsFiles?: RedisTlsFiles }
  | { kind: 'cluster'; nodes: RedisNode[]; access?: RedisAccess }
  | { kind: 'sentinel'; sentinels: RedisNode[]; name: string; access?: RedisAccess; sentinelAccess?: RedisAccess };

/** The secrets a message about `target` must never show: its URL's password, or the nodes' and the sentinels' passwords. */
export function secretsOf(target: RedisTarget): string[] {
  if (target.kind === 'single') return credentialsOf(target.url);
  const passwords = [target.access?.password, target.kind === 'sentinel' ? target.sentinelAccess?.password : undefined];
  return passwords.filter((password): password is string => Boolean(password));
}

const CONNECT_TIMEOUT_MS = 2_000; // give up connecting after two seconds

/**
 * Socket options shared by every kind of client. Before the first connection succeeds, give
 * up at once (`false` stops the retries and rejects `connect()` with the cause): a hub started
 * against an unreachable Redis fails fast instead of hanging. After that, keep reconnecting in
 * the background.
 */
function socketOptions(connected: () => boolean) {
  return {
    connectTimeout: CONNECT_TIMEOUT_MS,
    reconnectStrategy: (retries: number) => (connected() ? Math.min(retries * 100, 2_000) : false),
  };
}

/**
 * node-redis 6 gives every command its own 5 s AbortSignal.timeout by default; inside
 * oidc-provider's AsyncLocalStorage each such timer keeps its whole request alive for 5 s.
 * The store's own deadline (RedisStore's #run, one shared sweep in deadlines.ts) already bounds every command, so the
 * per-command timer is off (0 disables it) for every kind of client.
 */
const COMMAND_OPTIONS = { timeout: 0 } as const;

function makeSingle(url: string, tlsFiles: RedisTlsFiles | undefined, connected: () => boolean) {
  // The files' CA, certificate and key join the TLS that `rediss://` turns on (node-redis merges the socket options with the URL's).
  return createClient({ url, disableOfflineQueue: true, commandOptions: COMMAND_OPTIONS, socket: { ...socketOptions(connected), ...tlsFiles?.socketOptions() } });
}

function makeCluster(nodes: RedisNode[], access: RedisAccess | undefined, connected: () => boolean) {
  const { socket: tls, ...credentials } = accessOptions(access);
  return createCluster({
    rootNodes: nodes.map(({ host, port }) => ({ socket: { host, port } })),
    // `defaults` apply to every node's client, those discovered later too (the socket merged per node).
    defaults: { ...credentials, disableOfflineQueue: true, socket: { ...socketOptions(connected), ...tls } },
    commandOptions: COMMAND_OPTIONS,
  });
}

function makeSentinel(sentinels: RedisNode[], name: string, access: { nodes?: RedisAccess; sentinels?: RedisAccess }, watch: SentinelWatch, connected: () => boolean) {
  const { socket: nodeTls, ...nodeCredentials } = accessOptions(access.nodes);
  const { socket: sentinelTls, ...sentinelCredentials } = accessOptions(access.sentinels);
  return createSentinel({
    name,
    sentinelRootNodes: sentinels,
    commandOptions: COMMAND_OPTIONS,
    nodeClientOptions: { ...nodeCredentials, disableOfflineQueue: true, socket: { ...socketOptions(connected), ...nodeTls } },
    // A sentinel that stops answering: a topology read (or its handshake) waiting on it is cut
    // after SENTINEL_IDLE_MS, the connection node-redis listens on pings so that it is never idle
    // while it answers, and the watch has node-redis skip that sentinel from then on.
    sentinelClientOptions: { ...sentinelCredentials, pingInterval: SENTINEL_PING_MS, socket: { ...socketOptions(connected), ...sentinelTls, socketTimeout: SENTINEL_IDLE_MS } },
    nodeAddressMap: watch.nodeAddress,
    // The primary's, replicas' and sentinels' connection errors as 'error' events (node-redis
    // otherwise keeps them to a 'client-error' event of an inner object the client does not pass
    // on): a primary refusing the password after a reconnect was said nowhere.
    passthroughClientErrorEvents: true,
    // One connection to the primary, shared by every command in order: WAIT after a write
    // (RedisStore.swap) then counts that write.
    masterPoolSize: 1,
    // Look for a new primary soon after losing the old one (the default scan is every 10 s).
    scanInterval: 1_000,
  });
}

export type SingleRedisClient = ReturnType<typeof makeSingle>;
export type ClusterRedisClient = ReturnType<typeof makeCluster>;
export type SentinelRedisClient = ReturnType<typeof makeSentinel>;
/** Any of the three: the store, connect-redis and the rate limiters accept each. */
export type RedisClient = SingleRedisClient | ClusterRedisClient | SentinelRedisClient;

export function isCluster(client: RedisClient): client is ClusterRedisClient {
  return 'masters' in client;
}

export function isSentinel(client: RedisClient): client is SentinelRedisClient {
  return 'getMasterNode' in client && !isCluster(client);
}

/** Parses `host:port,host:port` (REDIS_CLUSTER_NODES, REDIS_SENTINELS). */
export function parseNodes(list: string): RedisNode[] {
  return list
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const match = /^(.+):(\d{1,5})$/.exec(item);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65_535) throw new TypeError(`"${item}" is not host:port`);
      return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
    });
}

/** A plain URL is a single server (as `REDIS_URL` has always been). */
export function toTarget(target: string | RedisTarget): RedisTarget {
  return typeof target === 'string' ? { kind: 'single', url: target } : target;
}

interface ConnectionErrors {
  last: { message: string; at: number } | undefined;
  listeners: Set<(message: string) => void>;
}

/** What each client opened by connectRedis last reported on its 'error' event. */
const connectionErrors = new WeakMap<object, ConnectionErrors>();

/** The password of a redis:// URL, decoded and as written (to be kept out of messages). */
export function credentialsOf(url: string): string[] {
  try {
    const parsed = new URL(url);
    // The password only: a user name is no secret, and masking one named like a word (`user`)
    // garbled Redis's own text ("invalid ***name-password pair or *** is disabled").
    return [parsed.password].flatMap((part) => (part ? [part, decodeURIComponent(part)] : []));
  } catch {
    return [];
  }
}

/** `message` without any `user:password@` of a URL and without the given secrets. */
export function redactCredentials(message: string, secrets: string[] = []): string {
  let text = message.replace(/(\w+:\/\/)[^@\s/]*@/g, '$1***@');
  for (const secret of secrets) if (secret.length >= 3) text = text.split(secret).join('***');
  return text;
}

/**
 * The last connection error `client` reported (credentials removed) within `withinMs`, or
 * undefined: none, or it connected since. Only for clients opened by connectRedis.
 */
export function lastConnectionError(client: object, withinMs = Number.POSITIVE_INFINITY): string | undefined {
  const last = connectionErrors.get(client)?.last;
  return last && Date.now() - last.at <= withinMs ? last.message : undefined;
}

/** Tells `listener` of every connection error of `client` (credentials removed); returns the unsubscribe. */
export function onConnectionError(client: object, listener: (message: string) => void): () => void {
  const listeners = connectionErrors.get(client)?.listeners;
  listeners?.add(listener);
  return () => listeners?.delete(listener);
}

/** The messages of an error and its causes, joined (StoreUnavailableError wraps the client's). */
export function errorMessagesOf(error: unknown): string {
  const messages: string[] = [];
  for (let at = error, depth = 0; at !== undefined && at !== null && depth < 4; at = at instanceof Error ? at.cause : undefined, depth += 1) {
    const message = at instanceof Error ? at.message : String(at);
    // node-redis wraps a refusal in an error of the same words: said once, not "WRONGPASS … / WRONGPASS …".
    if (!messages.includes(message)) messages.push(message);
  }
  return messages.join(' / ');
}

/** Whether an error message is Redis refusing a write for memory (`OOM command not allowed when used memory > 'maxmemory'`, under noeviction). */
export function isOutOfMemory(message: string): boolean {
  return /\bOOM\b/.test(message);
}

/** How many hash slots a Redis Cluster has. */
const CLUSTER_SLOTS = 16_384;

/** CRC16 (XMODEM), as Redis Cluster hashes keys. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit += 1) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The hash slot of a key, as Redis Cluster computes it (the part between the first `{` and the next `}` when not empty). */
export function clusterSlotOf(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key)) % CLUSTER_SLOTS;
}

/**
 * The hash slots no master serves in node-redis's map of a cluster, as ranges (`0-5460`);
 * empty when every one of the 16384 is served.
 */
export function uncoveredSlots(slots: ArrayLike<unknown>): string[] {
  const ranges: string[] = [];
  let start = -1;
  for (let slot = 0; slot <= CLUSTER_SLOTS; slot += 1) {
    const missing = slot < CLUSTER_SLOTS && !(slots[slot] as { master?: unknown } | undefined)?.master;
    if (missing && start < 0) start = slot;
    if (!missing && start >= 0) {
      ranges.push(start === slot - 1 ? String(start) : `${start}-${slot - 1}`);
      start = -1;
    }
  }
  return ranges;
}

/** A Redis Cluster that answers but does not serve every hash slot (not formed yet, or down). */
export class ClusterNotServingError extends Error {
  override readonly name = 'ClusterNotServingError';
}

/**
 * A cluster answered at start: does it serve every slot? node-redis connects to a cluster whose
 * nodes run but were never joined (`redis-cli --cluster create` not run yet, or a slot range left
 * out) and then fails each command on an unserved slot with a TypeError from its own slot map
 * ("Cannot read properties of undefined (reading 'replicas')"), which the hub printed as the whole
 * reason for exiting. A cluster whose nodes agree it is down (a master and its replicas gone:
 * `cluster_state:fail`) is said here too, before the first command's CLUSTERDOWN.
 */
async function checkClusterServes(client: ClusterRedisClient): Promise<void> {
  const missing = uncoveredSlots(client.slots);
  if (missing.length > 0) {
    const shown = missing.length > 4 ? `${missing.slice(0, 4).join(', ')} and ${missing.length - 4} more ranges` : missing.join(', ');
    throw new ClusterNotServingError(`no master serves hash slots ${shown} (of 0-16383)`);
  }
  const info = String(await client.sendCommand(undefined, true, ['CLUSTER', 'INFO']));
  const state = /cluster_state:(\w+)/.exec(info)?.[1];
  if (state !== undefined && state !== 'ok') throw new ClusterNotServingError(`the cluster reports cluster_state:${state}`);
}


/**
 * The cluster nodes of REDIS_CLUSTER_NODES that answer a PING within a second (asked all at
 * once), or all of them when none does (the connection then fails as it would have). node-redis
 * reads the cluster's map from a root node picked at random and waits without limit for one that
 * accepts the connection and never replies (a master frozen by SIGSTOP or `DEBUG SLEEP`, a
 * half-open link): a hub or an admin CLI started while one listed node was frozen failed one time
 * in three with "did not answer", also after that node's replica had taken over and the cluster
 * served every slot (the failover review: `users disable` failed for 20-27 s of a 30 s freeze).
 */
async function answeringRootNodes(nodes: RedisNode[], access: RedisAccess | undefined): Promise<RedisNode[]> {
  if (nodes.length < 2) return nodes;
  const { answering } = await answeringNodes(nodes, access);
  return answering.length > 0 ? answering : nodes;
}

/** Opens a node-redis client of the right kind that fails fast instead of queueing while Redis is down. */
export async function connectRedis(url: string): Promise<SingleRedisClient>;
export async function connectRedis(target: RedisTarget): Promise<RedisClient>;
export async function connectRedis(target: string | RedisTarget): Promise<RedisClient> {
  const resolved = toTarget(target);
  let connected = false;
  const isConnected = () => connected;
  // Errors are reported through the failed commands too; an unhandled 'error' event would
  // crash. The connection's own (a refused password after a reconnect: NOAUTH, WRONGPASS) are
  // kept, without credentials, for the store check and the log (see onConnectionError).
  const errors: ConnectionErrors = { last: undefined, listeners: new Set() };
  const report = (message: string) => {
    errors.last = { message, at: Date.now() };
    for (const listener of errors.listeners) {
      try {
        listener(message);
      } catch {
        // a listener's failure must not reach the client
      }
    }
  };
  // Sentinel: which sentinels answer, asked before the first connection (node-redis asks the
  // answering ones first) and every second after it (see SentinelWatch).
  const watch = resolved.kind === 'sentinel' ? new SentinelWatch(resolved.sentinels, report, resolved.sentinelAccess) : undefined;
  await watch?.check();
  const client: RedisClient =
    resolved.kind === 'single'
      ? makeSingle(resolved.url, resolved.tlsFiles, isConnected)
      : resolved.kind === 'cluster'
        ? makeCluster(await answeringRootNodes(resolved.nodes, resolved.access), resolved.access, isConnected)
        : makeSentinel(watch!.answeringFirst(), resolved.name, { nodes: resolved.access, sentinels: resolved.sentinelAccess }, watch!, isConnected);
  connectionErrors.set(client, errors);
  const secrets = secretsOf(resolved);
  client.on('error', (error: unknown) => {
    const message = redactCredentials(error instanceof Error ? error.message || error.name : String(error), secrets);
    // A silent sentinel refused on purpose: the watch said so once, in its own words.
    if (watch && SentinelWatch.isRefusal(message)) return;
    report(message);
  });
  // A cluster's node connections report their errors as 'node-error', not 'error': without this,
  // a node refusing the password after a reconnect (changed on the servers under a running hub)
  // was said nowhere, and /readyz only said that the store was unavailable.
  if (isCluster(client)) {
    client.on('node-error', (error: unknown, node?: { host?: string; port?: number }) => {
      const message = redactCredentials(error instanceof Error ? error.message || error.name : String(error), secrets);
      report(node?.host ? `${node.host}:${node.port}: ${message}` : message);
    });
  }
  client.on('end', () => watch?.stop());
  // Connected again: an error from before is not the cause of anything now.
  client.on('ready', () => {
    errors.last = undefined;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    // A sentinel set that answers but names no reachable primary would retry for ever: bound it.
    await Promise.race([
      client.connect().then(() => (isCluster(client) ? checkClusterServes(client) : undefined)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('could not connect to Redis in time')), CONNECT_TIMEOUT_MS * 3);
      }),
    ]);
  } catch (error) {
    // Bounded too: node-redis's Sentinel client never finishes destroy() while a sentinel it is
    // waiting on stays silent, and the hub then neither started nor exited.
    let destroyTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.resolve(client.destroy()).catch(() => {}),
      new Promise<void>((resolve) => {
        destroyTimer = setTimeout(resolve, CONNECT_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(destroyTimer);
    // A cluster's or Sentinel's client says only that no node was available; the refusal of the
    // credentials or of the TLS handshake came as a connection error (redacted by `report`): the
    // cause the operator needs.
    const last = errors.last?.message;
    const refused = last !== undefined && (isAuthFailure(last) || tlsFailureHint(last) !== undefined) ? last : undefined;
    throw new StoreUnavailableError(refused ? new Error(refused, { cause: error }) : error);
  } finally {
    clearTimeout(timer);
  }
  connected = true;
  watch?.start();
  // Cluster: a master that stops answering is looked past once its replica is promoted (cluster-watch.ts).
  if (isCluster(client)) new ClusterWatch(client, report, resolved.kind === 'cluster' ? resolved.access : undefined).start();
  return client;
}

/**
 * Every key matching `pattern` (SCAN, never KEYS), batch by batch: on a cluster, each master
 * in turn (a SCAN sees only its own node's keys).
 */
export async function* scanKeys(client: RedisClient, pattern: string, count = 500): AsyncGenerator<string[]> {
  if (isCluster(client)) {
    for (const master of client.masters) {
      const node = await client.nodeClient(master);
      yield* node.scanIterator({ MATCH: pattern, COUNT: count });
    }
    return;
  }
  if (isSentinel(client)) {
    yield* client.scanIterator({ MATCH: pattern, COUNT: count });
    return;
  }
  yield* client.scanIterator({ MATCH: pattern, COUNT: count });
}

/** Deletes every key under `prefix` (tests and the e2e clean-up); returns how many. */
export async function deleteByPrefix(client: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of scanKeys(client, `${prefix}*`)) {
    // One DEL per key: on a cluster the keys of one batch lie in many slots.
    deleted += (await Promise.all(keys.map((key) => client.del(key)))).reduce((sum, n) => sum + n, 0);
  }
  return deleted;
}

/** How long `closeRedis` waits for replies still due, in milliseconds: the store's deadline. */
export const CLOSE_WITHIN_MS = 2_000;

/**
 * Closes any kind of client, waiting for replies already on their way for at most
 * `withinMs`, then cutting the connections. node-redis's `close()` waits for every pending
 * reply, also those of commands the store's deadline already gave up on: on a stalled Redis
 * (paused, a half-open connection) it never returned, and a hub SIGTERM'd then sat out its
 * hard bound and exited 1.
 */
export async function closeRedis(client: RedisClient, withinMs = CLOSE_WITHIN_MS): Promise<void> {
  if (!client.isOpen) return;
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'gave up'>((resolve) => {
    timer = setTimeout(() => resolve('gave up'), withinMs);
  });
  const closing = client.close().then(() => 'closed' as const);
  closing.catch(() => undefined); // cut below: its rejection, if any, is expected
  const outcome = await Promise.race([closing, gaveUp]);
  clearTimeout(timer);
  // Not gated on isOpen: close() takes it to false at once while the socket drains, so such a
  // check never cut anything. destroy() tears the draining socket down (and settles close()).
  if (outcome === 'gave up') client.destroy();
}
