import type { KitLogger } from './options.js';

const WINDOW_MS = 60_000; // at most one line per reason per minute
const MAX_REASONS = 100; // distinct reasons remembered; the oldest is forgotten first

/**
 * Logs a warning at most once per reason per minute, with how many were held back since: a
 * misconfigured sync key shows up in the log at once, and a flood of forged codes cannot
 * flood the log.
 */
export class RateLimitedLog {
  readonly #last = new Map<string, { at: number; held: number }>();

  constructor(private readonly logger: KitLogger, private readonly now: () => number = Date.now) {}

  warn(reason: string, message: string): void {
    const now = this.now();
    const entry = this.#last.get(reason);
    if (entry && now - entry.at < WINDOW_MS) {
      entry.held += 1;
      return;
    }
    const held = entry?.held ?? 0;
    this.#last.delete(reason);
    if (this.#last.size >= MAX_REASONS) this.#last.delete(this.#last.keys().next().value!);
    this.#last.set(reason, { at: now, held: 0 });
    this.logger.warn(held > 0 ? `${message} (${held} more like it in the last minute)` : message);
  }
}
