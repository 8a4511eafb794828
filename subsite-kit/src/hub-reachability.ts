import { HubRequestError, hubRequestError } from './hub-errors.js';

const TRUSTED_FOR_MS = 10_000; // a hub answer this recent (and no failure since): no probe
const PROBE_RESULT_MS = 5_000; // a probe's failure stands this long: at most one probe per 5 s per process
const PROBE_TIMEOUT_MS = 2_000; // at most (or hubTimeoutMs if shorter): a silent check must not hold a page long

/**
 * Whether the hub can be reached from here, for the silent checks (`prompt=none`): a browser
 * sent to a hub that is down gets a connection error instead of the site's page, so the kit
 * makes sure before it sends one. Costs no hub request while the hub answers the kit's own
 * calls (discovery, and the token request of each sign-in and each refresh): a hub that
 * answered in the last {@link TRUSTED_FOR_MS} is trusted, so lazy verification stays at two hub
 * requests. Otherwise (nothing heard for a while, or a call failed as unreachable) one probe,
 * shared by the requests that wait for it: the kit's own discovery fetch at `hubInternalUrl`
 * with a short timeout; its failure is kept {@link PROBE_RESULT_MS}.
 */
export class HubReachability {
  #answeredAt = 0;
  #failedAt = 0;
  #probe: Promise<void> | undefined;
  #probeFailure: { at: number; error: HubRequestError } | undefined;
  readonly #timeoutMs: number;

  /** `probe`: the kit's discovery fetch, given the probe's timeout (the hub client's own, which keeps what it reads). */
  constructor(
    private readonly probe: (timeoutMs: number) => Promise<unknown>,
    hubTimeoutMs: number,
  ) {
    this.#timeoutMs = Math.min(hubTimeoutMs, PROBE_TIMEOUT_MS);
  }

  /** The hub answered a server-to-server call (whatever it said). */
  answered(): void {
    this.#answeredAt = Date.now();
    this.#probeFailure = undefined;
  }

  /** A server-to-server call could not reach the hub (a 503 HubRequestError): the next silent check probes first. */
  unreachable(): void {
    this.#failedAt = Date.now();
  }

  /** Whether a hub answer is recent enough to send a browser there without a probe. */
  trusted(now = Date.now()): boolean {
    return now - this.#answeredAt < TRUSTED_FOR_MS && this.#failedAt <= this.#answeredAt;
  }

  /**
   * Resolves when the hub is known to answer; rejects with the {@link HubRequestError} of the
   * probe otherwise (503 unreachable, 502 for a hub that answered with something unusable).
   */
  async check(): Promise<void> {
    const now = Date.now();
    if (this.trusted(now)) return;
    if (this.#probeFailure && now - this.#probeFailure.at < PROBE_RESULT_MS) throw this.#probeFailure.error;
    this.#probe ??= this.#run().finally(() => { this.#probe = undefined; });
    return this.#probe;
  }

  async #run(): Promise<void> {
    try {
      await this.probe(this.#timeoutMs);
      this.answered();
    } catch (error) {
      const failure = error instanceof HubRequestError ? error : hubRequestError('hub reachability check', 'hub discovery', error, this.#timeoutMs);
      this.#failedAt = Date.now();
      this.#probeFailure = { at: this.#failedAt, error: failure };
      throw failure;
    }
  }
}
