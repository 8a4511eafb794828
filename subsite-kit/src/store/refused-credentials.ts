/** What a node-redis client of one server offers for asking it again (`createClient()`'s). */
interface DuplicableClient {
  options?: { socket?: Record<string, unknown> };
  duplicate(overrides: Record<string, unknown>): {
    on(event: 'error', listener: () => void): unknown;
    connect(): Promise<unknown>;
    destroy(): unknown;
  };
}

function isDuplicable(client: unknown): client is DuplicableClient {
  return typeof client === 'object' && client !== null && typeof (client as { duplicate?: unknown }).duplicate === 'function';
}

/**
 * The one-server client to ask: the site's own (`createClient()`), or a cluster's first master's
 * (`createCluster()`: every node has the cluster's `defaults`, its credentials too). Undefined for
 * a Sentinel client, whose connections node-redis keeps to itself.
 */
function serverClientOf(client: unknown): DuplicableClient | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  if ('masters' in client) {
    const first = (client as { masters?: { client?: unknown }[] }).masters?.[0]?.client;
    return isDuplicable(first) ? first : undefined;
  }
  if ('getMasterNode' in client) return undefined;
  return isDuplicable(client) ? client : undefined;
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
  const server = serverClientOf(client);
  if (!server) return undefined;
  let probe: ReturnType<DuplicableClient['duplicate']>;
  try {
    probe = server.duplicate({ socket: { ...server.options?.socket, connectTimeout: withinMs, reconnectStrategy: false }, pingInterval: 0 });
  } catch {
    return undefined;
  }
  probe.on('error', () => {});
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
    const word = /^(NOAUTH|WRONGPASS)\b/.exec(error instanceof Error ? error.message : '')?.[1];
    return word === 'NOAUTH' || word === 'WRONGPASS' ? word : undefined;
  } finally {
    clearTimeout(timer);
    try {
      await Promise.resolve(probe.destroy());
    } catch {
      // already closed
    }
  }
}
