import { Router } from 'express';
import type { Readiness } from '../owned-state.js';
import type { Draining } from './draining.js';

/**
 * `/readyz` answers within this, 503 "store: no answer in time" when the check has not finished
 * (the check goes on, and the next `/readyz` gets its result). The check asks the store several
 * things in turn, each within the store's own 2 s deadline: with a cluster master frozen, a
 * failover review saw answers after 3.4 s, past compose's 3 s healthcheck timeout and most
 * balancers' check timeouts, and a hung check is no answer at all to a balancer.
 */
export const READYZ_ANSWER_MS = 2_000;

const NO_ANSWER_IN_TIME = Symbol('no answer in time');

/** `work`, or {@link NO_ANSWER_IN_TIME} when it has not settled within `ms` (its later failure is not lost: it is handled by the caller's next look). */
async function within<T>(work: Promise<T>, ms: number): Promise<T | typeof NO_ANSWER_IN_TIME> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof NO_ANSWER_IN_TIME>((resolve) => (timer = setTimeout(resolve, ms, NO_ANSWER_IN_TIME)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/healthz`: the process is alive and answering (for a restart policy); it touches nothing,
 * so a Redis outage never gets every hub process restarted at once.
 * `/readyz`: the process can serve (for a load balancer and compose healthchecks): the store
 * answers and holds what this process owns (`OwnedState`), and it is not shutting down;
 * 503 with the reasons otherwise (once shutting down, at once and without asking the store).
 * Neither is cached. `/readyz` answers within {@link READYZ_ANSWER_MS} whatever the store does.
 */
export function healthRoutes(services: { readiness(): Promise<Readiness>; draining: Draining }): Router {
  const router = Router();
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
    const checked = services.readiness();
    checked.catch(() => undefined); // a check that fails after the answer went out is the next answer's
    const result = await within(checked, READYZ_ANSWER_MS);
    const reasons = result === NO_ANSWER_IN_TIME ? ['store: no answer in time'] : result.reasons;
    // A drain that began while the store was checked wins as well.
    const all = services.draining.draining ? [...reasons, 'shutting down'] : reasons;
    const ready = all.length === 0;
    res.status(ready ? 200 : 503).set('cache-control', 'no-store').json({ ready, reasons: all });
  });
  return router;
}
