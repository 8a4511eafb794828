/**
 * A pass of background work run on a timer, in every hub process: the first at once, each next
 * after the delay the last one returned (0: more is waiting), never two at a time; the timer
 * keeps no process alive, and `stop()` waits for the pass in progress.
 */
export class PeriodicPass {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #started = false;

  /**
   * @param pass one pass; resolves to the milliseconds until the next.
   * @param failed called when a pass failed (its error); returns the milliseconds until the next try.
   */
  constructor(
    private readonly pass: () => Promise<number>,
    private readonly failed: (error: unknown) => number,
  ) {}

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Stops the timer and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.#started = false;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (!this.#started) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#running = this.pass()
        .catch((error: unknown) => this.failed(error))
        .then((delay) => {
          this.#running = undefined;
          this.#schedule(delay);
        });
    }, delayMs);
    this.#timer.unref();
  }
}
