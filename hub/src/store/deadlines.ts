/**
 * Deadlines for many in-flight operations with one shared timer. All operations get the
 * same time limit, so the order they start in is the order their deadlines fall in: a
 * Map (insertion-ordered) is the queue, and one sweep every `tickMs` fails the expired
 * ones from its head and stops at the first that still has time. An operation's failure
 * comes between `limitMs` and `limitMs + tickMs` after it started.
 *
 * It replaces a `Promise.race` with a timer of its own per command: under load that was
 * one timer (and, inside oidc-provider's AsyncLocalStorage, one retained request context)
 * per store command. The sweeper runs only while something is in flight and does not keep
 * the process alive.
 */
export class Deadlines {
  readonly #pending = new Map<number, { at: number; fail: () => void }>();
  #next = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly limitMs: number,
    readonly tickMs: number = Math.max(10, Math.floor(limitMs / 20)),
  ) {}

  /**
   * Runs `work`, settling as it does, or rejecting with `timeout()` once the limit has passed.
   * A synchronous throw of `work` becomes a rejection. `mapError`, when given, turns every
   * rejection (the timeout's too) into what the caller throws: one promise per operation,
   * not a `.catch` chained on it (the store runs every command through here). `answeredLate`,
   * when given, is called when an operation the limit already failed settles after all.
   */
  run<T>(work: () => Promise<T>, timeout: () => unknown, mapError: (error: unknown) => unknown = (error) => error, answeredLate?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.#next++;
      this.#pending.set(id, { at: Date.now() + this.limitMs, fail: () => reject(mapError(timeout())) });
      this.#timer ??= setInterval(() => this.#sweep(), this.tickMs).unref();
      let promise: Promise<T>;
      try {
        promise = work();
      } catch (error) {
        this.#pending.delete(id);
        reject(mapError(error));
        return;
      }
      promise.then(
        (value) => {
          if (!this.#pending.delete(id)) answeredLate?.();
          resolve(value);
        },
        (error: unknown) => {
          if (!this.#pending.delete(id)) answeredLate?.();
          reject(mapError(error));
        },
      );
    });
  }

  /** Operations still in flight. */
  get size(): number {
    return this.#pending.size;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.#pending) {
      if (entry.at > now) break; // later entries started later: none of them is due either
      this.#pending.delete(id);
      entry.fail();
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
