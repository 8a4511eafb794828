import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createClient, ErrorReply } from 'redis';
import { accessOptions, DATA_NODE_CREDENTIALS, isAuthFailure, SENTINEL_CREDENTIALS, type RedisAccess } from './redis-access.js';
import type { RedisNode, RedisTarget } from './redis-client.js';

const PROBE_TIMEOUT_MS = 1_500;

/**
 * Runs `ask` on a short-lived connection to one node (with `access`: its password, TLS),
 * bounded by `withinMs`; undefined when it does not answer (down, a wrong password, not Redis).
 */
async function probe<T>(node: RedisNode, ask: (send: (args: string[]) => Promise<unknown>) => Promise<T>, withinMs = PROBE_TIMEOUT_MS, access?: RedisAccess, refused?: (reply: ErrorReply) => T): Promise<T | undefined> {
  const { socket: tls, ...credentials } = accessOptions(access);
  // No per-command timer (node-redis's default 5 s one): `withinMs` bounds the whole probe.
  const client = createClient({ ...credentials, socket: { host: node.host, port: node.port, connectTimeout: withinMs, reconnectStrategy: false, ...tls }, disableClientInfo: true, commandOptions: { timeout: 0 } });
  client.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      (async () => {
        await client.connect();
        return ask((args) => client.sendCommand(args));
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('probe timed out')), withinMs);
      }),
    ]);
  } catch (error) {
    // A reply refusing the connection (NOAUTH, WRONGPASS at the handshake) is still a reply.
    return refused && error instanceof ErrorReply ? refused(error) : undefined;
  } finally {
    clearTimeout(timer);
    await Promise.resolve(client.destroy()).catch(() => {});
  }
}

/** The `redis_mode` and `cluster_enabled` a server reports, or undefined when it does not answer. */
async function modeOf(node: RedisNode, access: RedisAccess | undefined): Promise<{ mode: string; clusterEnabled: boolean } | undefined> {
  return probe(node, async (send) => {
    const mode = /^redis_mode:(\w+)/m.exec(String(await send(['INFO', 'server'])))?.[1];
    if (!mode) return undefined;
    const cluster = mode === 'sentinel' ? '' : String(await send(['INFO', 'cluster']));
    return { mode, clusterEnabled: /^cluster_enabled:1/m.test(cluster) };
  }, PROBE_TIMEOUT_MS, access);
}

/** The names a sentinel monitors (`SENTINEL MASTERS`), or undefined when it does not answer. */
async function monitoredNames(node: RedisNode, access: RedisAccess | undefined): Promise<string[] | undefined> {
  return probe(node, async (send) => {
    const masters = (await send(['SENTINEL', 'MASTERS'])) as unknown[];
    // Each entry is a flat [field, value, …] list (RESP2) or a map (RESP3): the value after "name".
    return masters.map((entry) => {
      if (Array.isArray(entry)) return String(entry[entry.indexOf('name') + 1]);
      return String((entry as Record<string, unknown>).name);
    });
  }, PROBE_TIMEOUT_MS, access);
}

/** The primary a sentinel names for `name` (`SENTINEL GET-MASTER-ADDR-BY-NAME`), or undefined. */
export async function primaryNamedBy(node: RedisNode, name: string, access: RedisAccess | undefined): Promise<RedisNode | undefined> {
  return probe(node, async (send) => {
    const reply = (await send(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name])) as unknown;
    if (!Array.isArray(reply) || reply.length < 2) return undefined;
    const port = Number(reply[1]);
    return Number.isInteger(port) && port > 0 ? { host: String(reply[0]), port } : undefined;
  }, PROBE_TIMEOUT_MS, access);
}

/**
 * Why a Sentinel or Cluster setting found no Redis, when the first address it names answers as
 * another kind of server (an operator gave the Redis server itself as a sentinel, or a Redis
 * without cluster mode as a cluster node): node-redis then only says it timed out, or that "all
 * the root nodes are unavailable", although something answered. Undefined when nothing more
 * can be said (the address does not answer, wants a password, or is what it should be). Sentinels
 * that answer but monitor no primary under REDIS_SENTINEL_NAME (a typo) are said the same way.
 */
export async function wrongKindOfRedis(target: RedisTarget): Promise<string | undefined> {
  if (target.kind === 'single') return undefined;
  const node = target.kind === 'sentinel' ? target.sentinels[0] : target.nodes[0];
  if (!node) return undefined;
  // What the first address is asked with: a sentinel's own password for REDIS_SENTINELS.
  const nodeAccess = target.kind === 'sentinel' ? target.sentinelAccess : target.access;
  const found = await modeOf(node, nodeAccess);
  if (!found) return undefined;
  const address = `${node.host}:${node.port}`;
  if (target.kind === 'sentinel' && found.mode !== 'sentinel') {
    return `${address} answers as a Redis server (redis_mode ${found.mode}), not as a sentinel: REDIS_SENTINELS lists the sentinels (redis-sentinel, usually port 26379), which name the primary; for one Redis server set REDIS_URL instead`;
  }
  if (target.kind === 'sentinel') {
    // A mistyped REDIS_SENTINEL_NAME: the sentinels answer, and know no primary by that name.
    const names = await monitoredNames(node, nodeAccess);
    if (names && !names.includes(target.name)) {
      const known = names.length ? `they monitor ${names.map((name) => `"${name}"`).join(', ')}` : 'they monitor nothing yet';
      return `the sentinel at ${address} monitors no primary named "${target.name}" (${known}): set REDIS_SENTINEL_NAME to the name in their \`sentinel monitor NAME …\` line`;
    }
  }
  if (target.kind === 'sentinel') {
    // The sentinels answer and know the name: the primary they name may be what is down (not
    // started yet, crashed with no replica to promote, a failover still under way).
    const primary = await primaryNamedBy(node, target.name, nodeAccess);
    if (primary && !(await answersPing(primary, PROBE_TIMEOUT_MS, target.access))) {
      return `the sentinels name ${primary.host}:${primary.port} as the primary "${target.name}", and it does not answer: start it, or let the sentinels promote a replica (\`redis-cli -p ${node.port} sentinel master ${target.name}\` shows what they see), then start again`;
    }
  }
  if (target.kind === 'cluster' && !found.clusterEnabled) {
    return `${address} answers as a ${found.mode === 'sentinel' ? 'sentinel' : 'Redis server without cluster mode (cluster_enabled:0)'}: REDIS_CLUSTER_NODES lists the nodes of a Redis Cluster; for one Redis server set REDIS_URL, for sentinels REDIS_SENTINELS`;
  }
  return undefined;
}

/**
 * Whether `node` answers a PING (any reply, an error included) within `withinMs`: false when it
 * refuses, times out, or accepts the connection and never replies (a frozen host, a half-open
 * link), which node-redis's Sentinel client would wait on without limit (see sentinel-watch.ts).
 */
export async function answersPing(node: RedisNode, withinMs = PROBE_TIMEOUT_MS, access?: RedisAccess): Promise<boolean> {
  return (await probe(node, (send) => send(['PING']).then(() => true, () => true), withinMs, access, () => true)) === true;
}

/** Redis's refusal of `access` at `node` (NOAUTH, WRONGPASS), or undefined when it takes them (or does not answer). */
async function refusalAt(node: RedisNode, access: RedisAccess | undefined): Promise<string | undefined> {
  const refusal = (error: unknown) => (error instanceof ErrorReply && isAuthFailure(error.message) ? error.message : undefined);
  return probe(node, (send) => send(['PING']).then(() => undefined, refusal), PROBE_TIMEOUT_MS, access, refusal);
}

/**
 * Which credentials a cluster or Sentinel set refused, asked of its first listed node with the
 * configured ones (and for Sentinel, of the primary the sentinels name): node-redis's cluster and
 * Sentinel clients retry quietly and end with "no node available" or a timeout. Undefined when
 * nothing refused them.
 */
export async function refusedCredentials(target: RedisTarget): Promise<{ who: string; settings: string; refusal: string } | undefined> {
  if (target.kind === 'single') return undefined;
  const first = target.kind === 'sentinel' ? target.sentinels[0] : target.nodes[0];
  if (!first) return undefined;
  const atFirst = await refusalAt(first, target.kind === 'sentinel' ? target.sentinelAccess : target.access);
  if (atFirst) return { who: `${first.host}:${first.port}`, settings: target.kind === 'sentinel' ? SENTINEL_CREDENTIALS : DATA_NODE_CREDENTIALS, refusal: atFirst };
  if (target.kind !== 'sentinel') return undefined;
  const primary = await primaryNamedBy(first, target.name, target.sentinelAccess);
  const atPrimary = primary && (await refusalAt(primary, target.access));
  return atPrimary ? { who: `the primary ${primary.host}:${primary.port}`, settings: DATA_NODE_CREDENTIALS, refusal: atPrimary } : undefined;
}

/** Which of `nodes` answer a PING within a second, asked all at once; and those that do not, as `host:port`. */
export async function answeringNodes(nodes: RedisNode[], access?: RedisAccess): Promise<{ answering: RedisNode[]; silent: string[] }> {
  const answered = await Promise.all(nodes.map((node) => answersPing(node, 1_000, access)));
  return {
    answering: nodes.filter((_, i) => answered[i]),
    silent: nodes.filter((_, i) => !answered[i]).map(({ host, port }) => `${host}:${port}`),
  };
}

/**
 * REDIS_TLS (or REDIS_URL's scheme, for one server) the other way round from the servers: the first listed node (a sentinel for
 * REDIS_SENTINELS) does not answer as configured, and does with TLS switched. A TLS client
 * on a plain-text port (or the reverse) gets no reply at all, so node-redis only timed out and
 * the start said "did not answer: is it running …", which sent the operator to the addresses and
 * the password. Undefined when it answers as configured, or not either way.
 */
export async function tlsMismatch(target: RedisTarget): Promise<string | undefined> {
  if (target.kind === 'single') return singleTlsMismatch(target.url, target.tlsFiles);
  const node = target.kind === 'sentinel' ? target.sentinels[0] : target.nodes[0];
  if (!node) return undefined;
  const access = target.kind === 'sentinel' ? target.sentinelAccess : target.access;
  const tls = access?.tls === true;
  if (await answersPing(node, PROBE_TIMEOUT_MS, access)) return undefined;
  if (!(await answersPing(node, PROBE_TIMEOUT_MS, { ...access, tls: !tls }))) return undefined;
  const address = `${node.host}:${node.port}`;
  return tls
    ? `${address} answers without TLS, and REDIS_TLS=true speaks TLS to it: unset REDIS_TLS, or list the servers' TLS ports (tls-port) if they have TLS on`
    : `${address} answers only with TLS: set REDIS_TLS=true (with REDIS_TLS_CA_FILE=/path/ca.pem for a private CA)`;
}

/**
 * REDIS_URL's scheme the other way round from its one server: `rediss://` to a plain-text port
 * answers nothing to TLS, and `redis://` to a TLS-only port is cut; both were said as "did not
 * answer … is it running". `redis://` is checked by a TLS handshake alone (whatever CA signed the
 * server's certificate: a private CA's is not trusted until REDIS_TLS_CA_FILE is set).
 */
async function singleTlsMismatch(url: string, tlsFiles: RedisAccess['tlsFiles']): Promise<string | undefined> {
  const at = urlNode(url, tlsFiles);
  if (!at || (await answersPing(at.node, PROBE_TIMEOUT_MS, at.access))) return undefined;
  const address = `${at.node.host}:${at.node.port}`;
  if (at.access.tls) {
    const { tls: _tls, tlsFiles: _files, ...plain } = at.access;
    return (await answersPing(at.node, PROBE_TIMEOUT_MS, plain))
      ? `${address} answers without TLS, and REDIS_URL is rediss://, which speaks TLS to it: write REDIS_URL as redis://…, or give the server's TLS port (tls-port) if it has TLS on`
      : undefined;
  }
  return (await completesTlsHandshake(at.node, PROBE_TIMEOUT_MS))
    ? `${address} answers only with TLS: write REDIS_URL as rediss://… (with REDIS_TLS_CA_FILE=/path/ca.pem for a private CA)`
    : undefined;
}

/** Whether `node` completes a TLS handshake within `withinMs` (its certificate not judged: only whether it speaks TLS). */
function completesTlsHandshake(node: RedisNode, withinMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: node.host, port: node.port, rejectUnauthorized: false, ...(isIP(node.host) ? {} : { servername: node.host }) });
    const done = (speaks: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(speaks);
    };
    const timer = setTimeout(() => done(false), withinMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** One server's address and its URL's user, password and TLS, as a probe takes them. */
function urlNode(url: string, tlsFiles: RedisAccess['tlsFiles']): { node: RedisNode; access: RedisAccess } | undefined {
  try {
    const parsed = new URL(url);
    const tls = parsed.protocol === 'rediss:';
    return {
      node: { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port || 6379) },
      access: {
        ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
        ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
        ...(tls ? { tls, ...(tlsFiles ? { tlsFiles } : {}) } : {}),
      },
    };
  } catch {
    return undefined;
  }
}

/** Whether `node` answers PONG to a PING made with `access` (a refused password, an error or silence: false). */
async function pongWith(node: RedisNode, access: RedisAccess | undefined): Promise<boolean> {
  return (await probe(node, async (send) => String(await send(['PING'])) === 'PONG', PROBE_TIMEOUT_MS, access)) === true;
}

/**
 * Whether `target` serves now with its configured credentials: one server, one of a cluster's
 * listed nodes, or the primary the first answering sentinel names answers PONG. Asked after a
 * connection or a command did not answer in time: "yes" means no address or password was wrong,
 * the store was busy changing (a failover, a restart) or overloaded.
 */
export async function answersNow(target: RedisTarget): Promise<boolean> {
  if (target.kind === 'single') {
    const at = urlNode(target.url, target.tlsFiles);
    return at ? pongWith(at.node, at.access) : false;
  }
  if (target.kind === 'cluster') return (await Promise.all(target.nodes.map((node) => pongWith(node, target.access)))).some(Boolean);
  // All sentinels at once: silent ones would each take the probe's whole bound in turn.
  const primary = (await Promise.all(target.sentinels.map((sentinel) => primaryNamedBy(sentinel, target.name, target.sentinelAccess)))).find(Boolean);
  return primary ? pongWith(primary, target.access) : false;
}
