import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ShutdownSteps {
  /** Stops background work (the delivery worker after its current item, its lease released). */
  stopWork?: () => Promise<void>;
  /** Closes the store last, once no request can use it any more. */
  closeStore?: () => Promise<void>;
  /** The longest wait for in-flight requests, in milliseconds; then their connections are cut. */
  timeoutMs: number;
  /**
   * How long to keep listening and answering (every answer with `Connection: close`) before
   * the listening socket closes, in milliseconds: the time a balancer polling readiness needs
   * to stop sending requests here. Default 0.
   */
  delayMs?: number;
}

/**
 * Tracks a server's in-flight requests so it can be stopped without cutting them off:
 * `stop()` answers `Connection: close` on the requests still running, keeps answering new
 * ones (the same way) for `delayMs`, closes the listening socket (a load balancer sends new
 * connections elsewhere), closes idle keep-alive connections, waits for the running
 * requests for at most `timeoutMs`, then stops background work and closes the store.
 */
export class GracefulServer {
  #stopping: Promise<void> | undefined;
  /**
   * The answers still due on each open connection (more than one when a client pipelines
   * requests); a connection is listed from its first request until it closes, with an empty set
   * between requests, so its one 'close' listener is added once. (Dropping it at each answer added
   * another listener at the next request on a keep-alive connection: eleven requests on one
   * connection raised Node's MaxListenersExceededWarning, and an nginx upstream connection serving
   * thousands kept a listener each: a review under load.)
   */
  readonly #busy = new Map<Socket, Set<ServerResponse>>();
  readonly #answering = new Set<ServerResponse>();

  constructor(readonly server: Server) {
    // Before the application's own listener: a route that answers at once (`/healthz`) has
    // sent its headers by the time a listener after it runs, and setting one then throws.
    server.prependListener('request', (req, res) => {
      const socket = req.socket;
      // A request parsed from a connection that is already gone is answered by no one (the hub's
      // server skips it, hub-server.ts), and Node never closes its answer: it is not tracked.
      if (socket.destroyed) return;
      let due = this.#busy.get(socket);
      if (!due) {
        due = new Set();
        this.#busy.set(socket, due);
        // Node closes only the answer being written when a connection goes: those queued behind
        // it (pipelined) never say 'close', and were kept here for good (an outside review).
        socket.once('close', () => {
          for (const queued of this.#busy.get(socket) ?? []) this.#answering.delete(queued);
          this.#busy.delete(socket);
        });
      }
      due.add(res);
      this.#answering.add(res);
      // A keep-alive client is told to reconnect (to another process) once this answer is done.
      if (this.#stopping && !res.headersSent) res.setHeader('connection', 'close');
      res.on('close', () => {
        this.#answering.delete(res);
        const left = this.#busy.get(socket);
        left?.delete(res);
        if (this.#stopping && !socket.destroyed && !left?.size) socket.end();
      });
    });
  }

  /** True once a shutdown began: readiness answers 503 so balancers stop sending traffic. */
  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /** Requests being answered right now. */
  get inFlight(): number {
    let count = 0;
    for (const due of this.#busy.values()) count += due.size;
    return count;
  }

  stop(steps: ShutdownSteps): Promise<void> {
    this.#stopping ??= this.#stop(steps);
    return this.#stopping;
  }

  async #stop({ stopWork, closeStore, timeoutMs, delayMs = 0 }: ShutdownSteps): Promise<void> {
    // Requests already running say `Connection: close` from now on: their connection is ended
    // once they are answered, and a client must not take it for reusable (a POST sent on it
    // then would be reset, and not sent again).
    for (const res of this.#answering) if (!res.headersSent) res.setHeader('connection', 'close');
    // A connection the kernel has accepted but the process has not yet taken when the listening
    // socket closes is reset, and a proxy never sends a POST again once sent: while a balancer
    // still sends requests here, closing loses some. The delay lets it notice /readyz first.
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    // Background work stops alongside the requests: both share the same deadline.
    const work = (stopWork?.() ?? Promise.resolve()).catch(() => undefined);
    const outcome = await Promise.race([Promise.all([closed, work]), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.server.closeAllConnections();
    await closeStore?.().catch(() => undefined);
  }
}
