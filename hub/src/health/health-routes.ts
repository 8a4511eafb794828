import { performance } from 'node:perf_hooks';
import { Router } from 'express';
import { ioDeadline, type CancelDeadline } from '../store/io-deadline.js';
import type { Readiness } from '../owned-state.js';
import type { Draining } from './draining.js';
import { OVERLOADED_UTILIZATION } from './overload.js';

export { OVERLOADED_UTILIZATION };

/**
 * `/readyz` answers within this, 503 "store: no answer in time" when the check has not finished
 * (the check goes on, and the next `/readyz` gets its result). The check asks the store several
 * things in turn, each within the store's own 2 s deadline: with a cluster master frozen, a
 * failover review saw answers after 3.4 s, past compose's 3 s healthcheck timeout and most
 * balancers' check timeouts, and a hung check is no answer at all to a balancer.
 */
export const READYZ_ANSWER_MS = 2_000;

const NO_ANSWER_IN_TIME = Symbol('no answer in time');

/**
 * `work`, or {@link NO_ANSWER_IN_TIME} when it has not settled within `ms` (its later failure is
 * not lost: it is handled by the caller's next look). The verdict waits for the loop's I/O phase
 * ({@link ioDeadline}): with the loop held by the hub's own work, a store reply already in the
 * socket lost the race.
 */
async function within<T>(work: Promise<T>, ms: number): Promise<T | typeof NO_ANSWER_IN_TIME> {
  let cancel: CancelDeadline | undefined;
  const late = new Promise<typeof NO_ANSWER_IN_TIME>((resolve) => {
    cancel = ioDeadline(ms, () => resolve(NO_ANSWER_IN_TIME));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    cancel?.();
  }
}

/** The last store check that finished: its verdict and when it finished (`Date.now()`). */
export interface FinishedCheck {
  readiness: Readiness;
  at: number;
}

export interface HealthServices {
  readiness(): Promise<Readiness>;
  draining: Draining;
  /** The last check that finished (for a `/readyz` whose own check is held up by an overloaded event loop). */
  lastReadiness?(): FinishedCheck | undefined;
  /** How old a finished check may be to answer for one held up by the loop (default 15 s). */
  readinessFreshForMs?: number;
  /** Told of every `/readyz` whose check was held up by this process's own load, and how it was answered. */
  readyzOverloaded?(answer: 'last-check' | 'not-ready', busyMs: number): void;
}

/**
 * `/healthz`: the process is alive and answering (for a restart policy); it touches nothing,
 * so a Redis outage never gets every hub process restarted at once.
 * `/readyz`: the process can serve (for a load balancer and compose healthchecks): the store
 * answers and holds what this process owns (`OwnedState`), and it is not shutting down;
 * 503 with the reasons otherwise (once shutting down, at once and without asking the store).
 * Neither is cached. `/readyz` answers within {@link READYZ_ANSWER_MS} whatever the store does.
 *
 * A check that has not finished in time while this process's own event loop was busy (at least
 * {@link OVERLOADED_UTILIZATION} of the wait: the hub saturated by a burst, the store idle) is
 * not blamed on the store. The last finished check answers for it when it finished within
 * `readinessFreshForMs` (a saturated replica that can still reach the store stays in rotation:
 * under a burst every replica is saturated, and a balancer taking them out on the same burst
 * takes out the fleet); with none that recent, 503 "this process is overloaded: …", naming the
 * event loop and not the store. An SRE review saw 503 "store: no answer in time" under 2,000
 * concurrent `GET /login` with Redis idle.
 */
export function healthRoutes(services: HealthServices): Router {
  const router = Router();
  const freshForMs = services.readinessFreshForMs ?? 15_000;
  router.get('/healthz', (_req, res) => {
    res.set('cache-control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    // Draining: 503 at once, without asking the store. A stalled store would hold the answer
    // for its 2 s deadline, past a balancer's check timeout, and the balancer would keep
    // sending requests to a process that is about to close its socket.
    if (services.draining.draining) {
      res.status(503).set('cache-control', 'no-store').json({ ready: false, reasons: ['shutting down'] });
      return;
    }
    const loopBefore = performance.eventLoopUtilization();
    const checked = services.readiness();
    checked.catch(() => undefined); // a check that fails after the answer went out is the next answer's
    const result = await within(checked, READYZ_ANSWER_MS);
    let reasons: string[];
    let busy: string | undefined;
    if (result !== NO_ANSWER_IN_TIME) reasons = result.reasons;
    else {
      const loop = performance.eventLoopUtilization(loopBefore);
      const waitedMs = Math.round(loop.active + loop.idle);
      const busyMs = Math.round(loop.active);
      if (loop.utilization < OVERLOADED_UTILIZATION) reasons = ['store: no answer in time'];
      else {
        const last = services.lastReadiness?.();
        const ageMs = last ? Date.now() - last.at : Number.POSITIVE_INFINITY;
        const loopSays = `event loop busy ${busyMs} ms of the ${waitedMs} ms waited`;
        if (last && ageMs <= freshForMs) {
          reasons = last.readiness.reasons;
          busy = `this process is overloaded (${loopSays}): the store check did not finish in time; this is the last one to finish, ${Math.round(ageMs / 1000)} s ago`;
          services.readyzOverloaded?.('last-check', busyMs);
        } else {
          reasons = [`this process is overloaded (${loopSays}): no store check finished in the last ${Math.round(freshForMs / 1000)} s`];
          services.readyzOverloaded?.('not-ready', busyMs);
        }
      }
    }
    // A drain that began while the store was checked wins as well.
    const all = services.draining.draining ? [...reasons, 'shutting down'] : reasons;
    const ready = all.length === 0;
    res
      .status(ready ? 200 : 503)
      .set('cache-control', 'no-store')
      .json(busy ? { ready, reasons: all, busy } : { ready, reasons: all });
  });
  return router;
}
