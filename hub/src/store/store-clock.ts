import type { Logger } from '../logger.js';
import type { Store } from './store.js';

/** Milliseconds since the epoch, on some clock. */
export interface Clock {
  now(): number;
}

/** This process's own clock. */
export const PROCESS_CLOCK: Clock = { now: () => Date.now() };

/** How often the offset is measured again, in milliseconds. */
const REFRESH_MS = 30_000;
/** A measurement whose round trip took longer is not taken (its midpoint could be this far off), in milliseconds. */
const MAX_ROUND_TRIP_MS = 250;
/** An offset past this is logged (once, and again when it moves by as much), in milliseconds. */
const WARN_OFFSET_MS = 500;
/** Until a first measurement is taken, it is tried again this often, in milliseconds. */
const FIRST_RETRY_MS = 1_000;
/** Failed measurements in a row that are logged (the hub then compares claims on its own clock). */
const FAILURES_LOGGED = 3;

/**
 * The store's clock, read in this process: `Date.now()` plus an offset measured against the
 * store's own time (Redis `TIME`) at start and every 30 s. Hub processes compare times that
 * other processes wrote: a redemption's claim says when it was made and when its answer was
 * marked delivered. On their own clocks, a hub 1.5 s off the other took a refresh sent to both
 * at once for a reuse and revoked the grant (20 of 30 pairs), and one 3 s off took the
 * other's answer, still going out, for a lost one and sent the same tokens again (an outside
 * review). On the store's clock they agree to within a round trip.
 *
 * A measurement whose round trip took longer than 250 ms is not taken; until the first one,
 * and while the store does not answer, the last offset holds (0 at first). An offset over
 * half a second is logged with what to fix: time kept by NTP on every host.
 */
export class StoreClock implements Clock {
  #offset = 0;
  #measured = false;
  #failures = 0;
  #warnedAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<Store, 'time'>,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly refreshMs = REFRESH_MS,
  ) {}

  now(): number {
    return Date.now() + this.#offset;
  }

  /** The store's clock less this process's, as last measured, in milliseconds. */
  get offsetMs(): number {
    return this.#offset;
  }

  /** Measures the offset now; false when the store did not answer, or too slowly to tell. */
  async sync(): Promise<boolean> {
    const before = Date.now();
    let server: number;
    try {
      server = await this.store.time();
    } catch {
      return this.#failed('the store did not answer');
    }
    const after = Date.now();
    if (after - before > MAX_ROUND_TRIP_MS || !Number.isFinite(server)) return this.#failed(`its answer took ${after - before} ms, more than ${MAX_ROUND_TRIP_MS} ms to tell the time by`);
    this.#failures = 0;
    this.#measured = true;
    const offset = server - Math.round((before + after) / 2);
    if (Math.abs(offset) > WARN_OFFSET_MS && (this.#warnedAt === undefined || Math.abs(offset - this.#warnedAt) > WARN_OFFSET_MS)) {
      this.#warnedAt = offset;
      this.logger.warn("this process's clock differs from the store's; the hub goes by the store's", {
        offsetMs: offset,
        fix: 'keep every hub and Redis host on NTP time (chrony, systemd-timesyncd)',
      });
    }
    this.#offset = offset;
    return true;
  }

  /**
   * Measures every `refreshMs` from now on, and every second until a first measurement is
   * taken (a store that was down at start), without keeping the process alive.
   */
  start(): void {
    if (this.#timer) return;
    this.#schedule();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      void this.sync().finally(() => {
        if (this.#timer) this.#schedule();
      });
    }, this.#measured ? this.refreshMs : Math.min(FIRST_RETRY_MS, this.refreshMs));
    this.#timer.unref();
  }

  /** A measurement not taken: logged once it has failed a few times in a row (said once, until one succeeds). */
  #failed(why: string): false {
    this.#failures += 1;
    if (this.#failures === FAILURES_LOGGED) {
      this.logger.warn("the store's clock could not be read; claims of codes and refresh tokens are compared on this process's clock until it can", {
        why,
        offsetMs: this.#offset,
        fix: 'a Redis within a few milliseconds of the hub; every host on NTP time',
      });
    }
    return false;
  }
}
