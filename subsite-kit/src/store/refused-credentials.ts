/** What a node-redis client of one server offers for asking it again (`createClient()`'s). */
interface DuplicableClient {
  options?: { socket?: Record<string, unknown> };
  duplicate(overrides: Record<string, unknown>): {
    on(event: 'error', listener: (error: unknown) => void): unknown;
    connect(): Promise<unknown>;
    destroy(): unknown;
  };
}

function isDuplicable(client: unknown): client is DuplicableClient {
  return typeof client === 'object' && client !== null && typeof (client as { duplicate?: unknown }).duplicate === 'function';
}

/** What a node-redis Sentinel client (`createSentinel()`) offers: a copy of itself with overrides, its options kept private. */
interface DuplicableSentinel {
  getMasterNode(): unknown;
  duplicate(overrides: Record<string, unknown>): ReturnType<DuplicableClient['duplicate']>;
}

function isSentinel(client: unknown): client is DuplicableSentinel {
  return typeof client === 'object' && client !== null && 'getMasterNode' in client && isDuplicable(client);
}

/**
 * The one-server client to ask: the site's own (`createClient()`), or a cluster's first master's
 * (`createCluster()`: every node has the cluster's `defaults`, its credentials too). A Sentinel
 * client keeps its node options to itself, so it is asked through a copy of the whole client
 * that gives up at the first failure (`maxCommandRediscovers: 0`) and passes its node clients'
 * errors on (`passthroughClientErrorEvents`): it asks the sentinels for the primary and opens
 * one connection to it with the site's own node options, credentials included.
 */
function probeOf(client: unknown, withinMs: number): ReturnType<DuplicableClient['duplicate']> | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  if (isSentinel(client)) {
    return client.duplicate({ maxCommandRediscovers: 0, passthroughClientErrorEvents: true, reserveClient: false, masterPoolSize: 1, replicaPoolSize: 0, scanInterval: 0 });
  }
  let server: DuplicableClient | undefined;
  if ('masters' in client) {
    const first = (client as { masters?: { client?: unknown }[] }).masters?.[0]?.client;
    server = isDuplicable(first) ? first : undefined;
  } else if (!('getMasterNode' in client)) server = isDuplicable(client) ? client : undefined;
  return server?.duplicate({ socket: { ...server.options?.socket, connectTimeout: withinMs, reconnectStrategy: false }, pingInterval: 0 });
}

/** NOAUTH or WRONGPASS when an error (or one it wraps: a Sentinel client's node errors) is that refusal. */
function refusalIn(error: unknown): 'NOAUTH' | 'WRONGPASS' | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 3; depth += 1) {
    const message = current instanceof Error ? current.message : '';
    // A Sentinel client's passed-through node error: `Master Client (host:port): WRONGPASS …`.
    const word = /^(?:[\w ]+ Client \([^)]*\): )?(NOAUTH|WRONGPASS)\b/.exec(message)?.[1];
    if (word === 'NOAUTH' || word === 'WRONGPASS') return word;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * `NOAUTH` or `WRONGPASS` when the Redis server refuses the credentials of the site's client,
 * asked on one fresh connection with the client's own settings (`duplicate()`, no retries,
 * bounded by `withinMs`); undefined when it takes them, does not answer, or cannot be asked. A
 * password changed on the server under a running site: node-redis retries its reconnection
 * quietly (the refusal goes to the client's 'error' event, which is the site's), so the kit's
 * calls only waited out their deadline and /readyz said "store unreachable". Only the reply's
 * first word is kept: never a password or a part of the server's answer.
 */
export async function refusedCredentials(client: unknown, withinMs: number): Promise<'NOAUTH' | 'WRONGPASS' | undefined> {
  // One Sentinel probe at a time per client: its destroy() waits for a connection attempt in
  // flight, which a frozen primary or sentinel holds for as long as it is frozen, so a probe
  // still closing is not joined by another at every /readyz.
  const sentinel = isSentinel(client);
  if (sentinel && closingSentinelProbes.has(client)) return undefined;
  let probe: ReturnType<DuplicableClient['duplicate']> | undefined;
  try {
    probe = probeOf(client, withinMs);
  } catch {
    return undefined;
  }
  if (!probe) return undefined;
  // A Sentinel copy reports its primary's refusal here too (and may go on retrying it until destroyed).
  let refused: 'NOAUTH' | 'WRONGPASS' | undefined;
  probe.on('error', (error: unknown) => {
    refused ??= refusalIn(error);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe.connect(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), withinMs);
      }),
    ]);
    return undefined;
  } catch (error) {
    return refusalIn(error) ?? refused;
  } finally {
    clearTimeout(timer);
    const closed = Promise.resolve()
      .then(() => probe.destroy())
      .catch(() => undefined); // already closed
    if (sentinel) {
      // Not awaited: the answer does not wait for a frozen server to let go of the probe.
      closingSentinelProbes.add(client);
      void closed.then(() => closingSentinelProbes.delete(client));
    } else await closed;
  }
}

/** Sentinel clients whose probe is still closing (see refusedCredentials). */
const closingSentinelProbes = new WeakSet<object>();
