import type { RedisAccess } from './redis-access.js';
import type { ClusterRedisClient, RedisNode } from './redis-client.js';
import { answersPing } from './redis-probe.js';

/** How long a master may take to answer a PING before it counts as silent. */
export const MASTER_ANSWER_MS = 1_000;
/** How often the masters are asked (and, while one is silent, the cluster's map read again). */
const CHECK_EVERY_MS = 1_000;

/** What node-redis's cluster client offers to read the cluster's map again (not in its typings). */
interface Rediscover {
  rediscover(startWith?: unknown, excludedAddresses?: Set<string>): Promise<void>;
}

/**
 * Keeps node-redis's cluster client following a failover away from a master that accepts
 * connections and never replies (SIGSTOP, `DEBUG SLEEP`, a frozen host, a half-open link).
 * node-redis reads the cluster's map again only when a node answers MOVED or its connection
 * fails; a frozen master does neither, so after its replica was promoted (node timeout, about 5 s
 * with `cluster-node-timeout 3000`) every command for its slots still went to it and timed out,
 * until it woke. The failover review froze a master for 30 s: a third of the store calls and
 * every /readyz failed for the whole 30 s (both hubs out of the balancer), deliveries waited,
 * sign-ins took up to 17 s. So every master is sent a PING each second (all at once, each
 * bounded), and while one does not answer, the map is read again from the nodes that do
 * (at most one read at a time): once the cluster has promoted the replica, commands go there.
 */
export class ClusterWatch {
  readonly #client: ClusterRedisClient;
  readonly #onSilent: (message: string) => void;
  readonly #silent = new Set<string>();
  readonly #access: RedisAccess | undefined;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  /** `onSilent` hears when a master starts not answering; `access`: the nodes' password and TLS (REDIS_PASSWORD, REDIS_TLS). */
  constructor(client: ClusterRedisClient, onSilent: (message: string) => void = () => {}, access?: RedisAccess) {
    this.#client = client;
    this.#onSilent = onSilent;
    this.#access = access;
  }

  /** Pings every master node-redis knows; while one is silent, has node-redis read the map again without it. */
  async check(): Promise<void> {
    if (this.#checking || !this.#client.isOpen) return;
    this.#checking = true;
    try {
      const masters = this.#client.masters.map((master) => master.address);
      const answered = await Promise.all(masters.map((address) => answersPing(nodeOf(address), MASTER_ANSWER_MS, this.#access)));
      const silent = masters.filter((_, i) => !answered[i]);
      for (const address of silent) {
        if (!this.#silent.has(address)) this.#onSilent(`cluster master ${address} does not answer a PING within ${MASTER_ANSWER_MS} ms: the cluster's map is read again every second from the other nodes until it answers or is replaced`);
      }
      this.#silent.clear();
      for (const address of silent) this.#silent.add(address);
      if (silent.length === 0 || silent.length === masters.length || !this.#client.isOpen) return;
      const slots = (this.#client as unknown as { _slots?: Partial<Rediscover> })._slots;
      if (typeof slots?.rediscover !== 'function') return;
      // Bounded: a read that waits on yet another silent node must not stop the next check.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        slots.rediscover(undefined, new Set(silent)).catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, 2 * MASTER_ANSWER_MS);
        }),
      ]);
      clearTimeout(timer);
    } finally {
      this.#checking = false;
    }
  }

  /** Checks every CHECK_EVERY_MS from now on (the timer keeps no process alive). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      if (!this.#client.isOpen) this.stop();
      else void this.check().catch(() => {});
    }, CHECK_EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function nodeOf(address: string): RedisNode {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}
