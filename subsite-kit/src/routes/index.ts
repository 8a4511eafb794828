import express, { Router, type RequestHandler } from 'express';
import { parseCookies } from '../cookie-parse.js';
import { ROUTES, KIT_PATH_PREFIX, type KitContext } from '../context.js';
import { currentUser } from '../current-user.js';
import { synclogin } from './synclogin.js';
import { synclogout } from './synclogout.js';
import { callback } from './callback.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { userdelete } from './userdelete.js';
import { backchannelLogout } from './backchannel-logout.js';
import { errorHandler } from './error-handler.js';
import { catchRejections } from '../async-handler.js';
import { countAnswers } from '../metrics/count-answers.js';
import { mountCheck } from '../mount-check.js';

const BODY_LIMIT = '16kb'; // a signed token and a little more

/**
 * The kit's route table. Server-to-server endpoints come first, before cookies and sessions:
 * the hub calls them without a browser session and they must not need one.
 */
export function createRouter(ctx: KitContext, sessionMiddleware: RequestHandler): Router {
  const router = Router();
  router.use(mountCheck(ctx));
  // What the hub sent (sync beacons, signed notices) and how it was answered, for /metrics.
  router.use(countAnswers(ctx.instruments));
  const form = express.urlencoded({ extended: false, limit: BODY_LIMIT });
  const json = express.json({ limit: BODY_LIMIT });

  // Hub → subsite, signed by the hub, not CSRF-protected (no cookies are used).
  router.post(ROUTES.userdelete, form, json, catchRejections(userdelete(ctx)));
  router.post(ROUTES.backchannelLogout, form, catchRejections(backchannelLogout(ctx)));

  // Browser requests.
  router.use(parseCookies());
  router.use(sessionMiddleware);
  router.use(catchRejections(currentUser(ctx)));
  router.get(ROUTES.synclogin, catchRejections(synclogin(ctx)));
  router.get(ROUTES.synclogout, catchRejections(synclogout(ctx)));
  router.get(ROUTES.callback, catchRejections(callback(ctx)));
  router.get(ROUTES.login, catchRejections(login(ctx)));
  router.post(ROUTES.logout, catchRejections(logout(ctx)));

  router.use(KIT_PATH_PREFIX, errorHandler(ctx.options.logger, ctx.options.publicPath));
  return router;
}
