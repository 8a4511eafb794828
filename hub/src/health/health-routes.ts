import { Router } from 'express';
import type { Readiness } from '../owned-state.js';
import type { Draining } from './draining.js';

/**
 * `/healthz`: the process is alive and answering (for a restart policy); it touches nothing,
 * so a Redis outage never gets every hub process restarted at once.
 * `/readyz`: the process can serve (for a load balancer and compose healthchecks): the store
 * answers and holds what this process owns (`OwnedState`), and it is not shutting down;
 * 503 with the reasons otherwise. Neither is cached.
 */
export function healthRoutes(services: { readiness(): Promise<Readiness>; draining: Draining }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('cache-control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const owned = await services.readiness();
    const reasons = services.draining.draining ? [...owned.reasons, 'shutting down'] : owned.reasons;
    const ready = reasons.length === 0;
    res.status(ready ? 200 : 503).set('cache-control', 'no-store').json({ ready, reasons });
  });
  return router;
}
