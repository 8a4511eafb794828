import { Router } from 'express';
import type { HubServices } from '../services.js';
import { resetTwoStep } from '../two-step/reset-two-step.js';
import { actorOf, notSelf } from './admin-context.js';

/** A user's two-step sign-in, reset from the console (audited). */
export function adminTwoStepRoutes(services: HubServices): Router {
  const router = Router();
  router.post('/admin/users/:id/two-step/reset', async (req, res) => {
    // Resolve first: the parameter may be a username or e-mail, and the guard compares ids.
    notSelf(res, (await services.users.require(String(req.params.id))).id, 'twoStep');
    const { user, wasOn } = await resetTwoStep(services, String(req.params.id), actorOf(req, res));
    // The owner hears of it, as when they turn it off themselves: their password alone signs in now.
    if (wasOn) services.notices.twoStepChanged(user, user.locale ?? 'en', 'disabled');
    res.redirect(303, `/admin/users/${encodeURIComponent(user.id)}?done=two-step-reset`);
  });
  return router;
}
