/**
 * What a caller of {@link Deadlines.run} does at each step of an operation: one object per
 * caller (the store keeps one), so that an operation carries no closures of its own for them.
 * `C` is what the caller keeps per operation (the store: the request it belongs to).
 */
export interface DeadlineHooks<C = unknown> {
  /** The operation's failure once its limit has passed (called once, from the sweep). */
  timeout(context: C): unknown;
  /** What every rejection (the timeout's too) becomes: one promise per operation, not a `.catch` chained on it. */
  mapError(error: unknown): unknown;
  /** An operation the limit already failed settled after all. */
  answeredLate?(): void;
  /**
   * Every operation, once, as it settles or its limit fails it: its label, how long it took
   * (milliseconds) and whether it failed. The store's metrics: timed in the same promise.
   */
  settled?(label: string, ms: number, failed: boolean): void;
}

/**
 * One operation in flight: a node of the insertion-ordered list the sweep walks. Unlinked as it
 * settles, and its references dropped then (a request's context must not outlive its call).
 */
class Operation<C> {
  prev: Operation<C> | undefined;
  next: Operation<C> | undefined;
  linked = true;

  constructor(
    readonly at: number,
    readonly started: number,
    readonly label: string,
    public context: C | undefined,
    public hooks: DeadlineHooks<C>,
    public resolve: (value: never) => void,
    public reject: (error: unknown) => void,
  ) {}
}

function noop(): void {}

/**
 * Deadlines for many in-flight operations with one shared timer. All operations get the
 * same time limit, so the order they start in is the order their deadlines fall in: a
 * linked list in insertion order is the queue (an operation that settles unlinks itself,
 * no hashing), and one sweep every `tickMs` fails the expired ones from its head and stops
 * at the first that still has time. An operation's failure comes between `limitMs` and
 * `limitMs + tickMs` after it started.
 *
 * It replaces a `Promise.race` with a timer of its own per command: under load that was
 * one timer (and, inside oidc-provider's AsyncLocalStorage, one retained request context)
 * per store command. The sweeper runs only while something is in flight and does not keep
 * the process alive. One promise per operation carries the deadline, the error mapping and
 * the timing ({@link DeadlineHooks.settled}).
 */
export class Deadlines {
  #head: Operation<unknown> | undefined;
  #tail: Operation<unknown> | undefined;
  #size = 0;
  #timer: NodeJS.Timeout | undefined;
  #expiring = false;

  constructor(
    readonly limitMs: number,
    readonly tickMs: number = Math.max(10, Math.floor(limitMs / 20)),
  ) {}

  /**
   * Runs `work`, settling as it does, or rejecting with `hooks.timeout(context)` once the limit
   * has passed. A synchronous throw of `work` becomes a rejection. Every rejection goes through
   * `hooks.mapError`; `hooks.settled` is told of every operation once.
   */
  run<T, C>(work: () => Promise<T>, hooks: DeadlineHooks<C>, label = '', context?: C): Promise<T> {
    const started = performance.now();
    let op!: Operation<C>;
    const promise = new Promise<T>((resolve, reject) => {
      op = new Operation<C>(started + this.limitMs, started, label, context, hooks, resolve as (value: never) => void, reject);
    });
    this.#link(op as Operation<unknown>);
    this.#timer ??= setInterval(() => this.#sweep(), this.tickMs).unref();
    let answer: Promise<T>;
    try {
      answer = work();
    } catch (error) {
      this.#settle(op as Operation<unknown>, true, error);
      return promise;
    }
    answer.then(
      (value) => this.#settle(op as Operation<unknown>, false, value),
      (error: unknown) => this.#settle(op as Operation<unknown>, true, error),
    );
    return promise;
  }

  /** Operations still in flight. */
  get size(): number {
    return this.#size;
  }

  #link(op: Operation<unknown>): void {
    op.prev = this.#tail;
    if (this.#tail) this.#tail.next = op;
    else this.#head = op;
    this.#tail = op;
    this.#size += 1;
  }

  #unlink(op: Operation<unknown>): void {
    op.linked = false;
    if (op.prev) op.prev.next = op.next;
    else this.#head = op.next;
    if (op.next) op.next.prev = op.prev;
    else this.#tail = op.prev;
    op.prev = op.next = undefined;
    this.#size -= 1;
  }

  /** The work settled: in time (the answer), or after its limit had failed it (reported late). */
  #settle(op: Operation<unknown>, failed: boolean, outcome: unknown): void {
    const hooks = op.hooks;
    if (!op.linked) {
      hooks.answeredLate?.();
      return;
    }
    this.#unlink(op);
    hooks.settled?.(op.label, performance.now() - op.started, failed);
    if (failed) op.reject(hooks.mapError(outcome));
    else op.resolve(outcome as never);
    op.context = undefined;
    op.resolve = op.reject = noop;
  }

  /**
   * A tick found an operation past its limit: the failing waits for the loop's check phase
   * (`setImmediate`), after its I/O phase has read what arrived meanwhile. Timers run before I/O
   * in each turn of the event loop, so when the hub's own work had held the loop (a burst of 1,500
   * sign-ins: 2.1 s of event-loop delay) a reply sitting in the socket was failed as "no answer"
   * first: an outside review saw sign-ins answered "temporarily unavailable" with Redis idle.
   */
  #sweep(): void {
    if (this.#head === undefined || this.#head.at > performance.now() || this.#expiring) return;
    this.#expiring = true;
    setImmediate(() => {
      this.#expiring = false;
      this.#expire();
    });
  }

  #expire(): void {
    const now = performance.now();
    for (let op = this.#head; op !== undefined && op.at <= now; op = this.#head) {
      // Later operations started later: none of them is due before this one.
      this.#unlink(op);
      const { hooks, context } = op;
      op.context = undefined;
      const error = hooks.mapError(hooks.timeout(context));
      hooks.settled?.(op.label, now - op.started, true);
      op.reject(error);
      op.resolve = op.reject = noop;
    }
    if (this.#size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
