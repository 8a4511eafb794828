import type { Logger } from '../logger.js';
import { PeriodicPass } from '../periodic-pass.js';
import type { AccountRemoval } from './account-removal.js';

/** How often each hub process looks for deletions due to be resumed, in milliseconds. */
export const RESUME_INTERVAL_MS = 30_000; // half a minute
/** Deletions one pass takes at most; a full pass runs the next one at once. */
const RESUME_BATCH = 20;

/**
 * Finishes account deletions that were cut off part-way (users/pending-deletions.ts), with no one
 * having to act: on a timer in every hub process, each deletion leased by one process at a time.
 * A deletion that fails again is retried with a backoff (half a minute, doubling, up to an hour);
 * one whose request stopped before the deletion was decided (the owner's checks) is rolled back.
 */
export class DeletionResumer {
  readonly #timer = new PeriodicPass(
    async () => {
      const pass = await this.runOnce();
      return pass.finished + pass.rolledBack + pass.failed >= RESUME_BATCH ? 0 : RESUME_INTERVAL_MS;
    },
    (error) => {
      this.logger.warn('resuming account deletions failed; the next pass tries again', { error: error instanceof Error ? error.name : 'Error' });
      return RESUME_INTERVAL_MS;
    },
  );

  constructor(
    private readonly removal: Pick<AccountRemoval, 'resumeDeletions'>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.#timer.start();
  }

  /** Stops the timer and waits for the pass in progress. */
  stop(): Promise<void> {
    return this.#timer.stop();
  }

  /** One pass: what is due now, finished (or rolled back). */
  async runOnce(now = Date.now()): Promise<{ finished: number; rolledBack: number; failed: number }> {
    const pass = await this.removal.resumeDeletions(now, RESUME_BATCH);
    if (pass.finished || pass.rolledBack) this.logger.info('pending account deletions resumed', pass);
    if (pass.failed) this.logger.warn('pending account deletions failed again; retried later', { failed: pass.failed });
    return pass;
  }
}
