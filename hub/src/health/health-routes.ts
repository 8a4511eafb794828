import { Router } from 'express';
import type { Readiness } from '../owned-state.js';
import type { Draining } from './draining.js';

/**
 * `/healthz`: the process is alive and answering (for a restart policy); it touches nothing,
 * so a Redis outage never gets every hub process restarted at once.
 * `/readyz`: the process can serve (for a load balancer and compose healthchecks): the store
 * answers and holds what this process owns (`OwnedState`), and it is not shutting down;
 * 503 with the reasons otherwise (once shutting down, at once and without asking the store).
 * Neither is cached.
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
    const { reasons } = await services.readiness();
    // A drain that began while the store was checked wins as well.
    const all = services.draining.draining ? [...reasons, 'shutting down'] : reasons;
    const ready = all.length === 0;
    res.status(ready ? 200 : 503).set('cache-control', 'no-store').json({ ready, reasons: all });
  });
  return router;
}
