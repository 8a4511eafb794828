import type { RedisAccess } from './redis-access.js';
import type { RedisNode } from './redis-client.js';
import { answersPing } from './redis-probe.js';

/** How long a sentinel may take to answer a PING before it counts as silent. */
export const SENTINEL_ANSWER_MS = 1_000;
/** How often each sentinel is asked; one found silent is asked again only this much later. */
const CHECK_EVERY_MS = 1_000;
const SILENT_CHECK_EVERY_MS = 5_000;
/**
 * node-redis's connections to sentinels: one idle this long is cut (it waited on a sentinel that
 * stopped answering: a topology read, or the handshake of one), and the one it listens on for
 * failover news sends a PING every SENTINEL_PING_MS so that it is never idle while it answers.
 */
export const SENTINEL_IDLE_MS = 2_000;
export const SENTINEL_PING_MS = 1_000;
/**
 * Where node-redis is sent instead of a silent sentinel: nothing listens on port 0, so the
 * connection is refused at once, on this host (node-redis then asks the next sentinel).
 */
const REFUSED: RedisNode = { host: '127.0.0.1', port: 0 };

/**
 * Keeps node-redis's Sentinel client away from sentinels that accept connections but do not
 * answer (a frozen host, a half-open link, a process stopped with SIGSTOP). node-redis re-reads
 * the topology every `scanInterval` asking the sentinels in list order, and every command waits
 * for that read; it cannot be told to reorder them, and a silent first sentinel made every
 * command of a running hub wait out its deadline for as long as it stayed silent. So each
 * sentinel is sent a PING every second (SENTINEL_ANSWER_MS each, all at once), and while at
 * least one answers, connections to those that did not are refused here (`nodeAddress`, given to
 * node-redis as its `nodeAddressMap`): node-redis skips a refusing sentinel at once, exactly as
 * when an operator cuts a hung host off. The primary's connection is never touched.
 */
export class SentinelWatch {
  readonly #sentinels: RedisNode[];
  readonly #silent = new Set<string>();
  readonly #nextCheckAt = new Map<string, number>();
  readonly #checking = new Set<string>();
  readonly #onSilent: (message: string) => void;
  readonly #access: RedisAccess | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** `onSilent` hears when a sentinel starts being skipped; `access`: the sentinels' password and TLS. */
  constructor(sentinels: RedisNode[], onSilent: (message: string) => void = () => {}, access?: RedisAccess) {
    this.#sentinels = sentinels;
    this.#onSilent = onSilent;
    this.#access = access;
  }

  /** Asks every sentinel due (all at once, each bounded) and records which answered. */
  async check(now = Date.now()): Promise<void> {
    await Promise.all(this.#sentinels.map((node) => this.#checkOne(node, now)));
  }

  async #checkOne(node: RedisNode, now: number): Promise<void> {
    const address = addressOf(node);
    if (this.#checking.has(address) || (this.#nextCheckAt.get(address) ?? 0) > now) return;
    this.#checking.add(address);
    try {
      const answered = await answersPing(node, SENTINEL_ANSWER_MS, this.#access);
      const wasSilent = this.#silent.has(address);
      if (answered) this.#silent.delete(address);
      else this.#silent.add(address);
      this.#nextCheckAt.set(address, Date.now() + (answered ? 0 : SILENT_CHECK_EVERY_MS - CHECK_EVERY_MS));
      // Said as a connection error (the log, the store check's cause); its recovery is not one.
      if (!answered && !wasSilent) this.#onSilent(`sentinel ${address} does not answer a PING within ${SENTINEL_ANSWER_MS} ms: skipped while other sentinels answer`);
    } finally {
      this.#checking.delete(address);
    }
  }

  /** The sentinels, those that answered the last check first (the order node-redis asks them in). */
  answeringFirst(): RedisNode[] {
    const silent = (node: RedisNode) => this.#silent.has(addressOf(node));
    return [...this.#sentinels.filter((node) => !silent(node)), ...this.#sentinels.filter(silent)];
  }

  /**
   * node-redis's `nodeAddressMap`: a silent sentinel is refused while another answers (with none
   * answering there is nothing better to ask); every other address (the primary, a replica, a
   * sentinel node-redis found by itself) is left as it is.
   */
  readonly nodeAddress = (address: string): RedisNode | undefined =>
    this.#silent.has(address) && this.#silent.size < this.#sentinels.length ? REFUSED : undefined;

  /** Whether a connection error is one of the refusals above (expected: not a fault to report). */
  static isRefusal(message: string): boolean {
    // Node names no port for port 0: a refusal by a real server on this host reads "127.0.0.1:6379".
    return /ECONNREFUSED 127\.0\.0\.1$/.test(message);
  }

  /** Checks every CHECK_EVERY_MS from now on (the timer keeps no process alive). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.check().catch(() => {}), CHECK_EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function addressOf(node: RedisNode): string {
  return `${node.host}:${node.port}`;
}
