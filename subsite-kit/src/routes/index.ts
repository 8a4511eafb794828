import express, { Router, type RequestHandler } from 'express';
import { parseCookies } from '../cookie-parse.js';
import { ROUTES, KIT_PATH_PREFIX, isKitPath, type KitContext } from '../context.js';
import { currentUser } from '../current-user.js';
import { synclogin } from './synclogin.js';
import { synclogout } from './synclogout.js';
import { callback } from './callback.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { logoutPage } from './logout-page.js';
import { userdelete } from './userdelete.js';
import { backchannelLogout } from './backchannel-logout.js';
import { errorHandler } from './error-handler.js';
import { catchRejections } from '../async-handler.js';
import { countAnswers } from '../metrics/count-answers.js';
import { noteRouterMount } from '../authorize.js';

const BODY_LIMIT = '16kb'; // a signed token and a little more

/**
 * The kit's router. A request under `/sso` (any letter case, as express matches routes) goes
 * through the kit's route table; any other request (the site's own pages) only through what
 * a page needs: cookies, the session and `req.user`. A page view does not walk the kit's
 * dozen route layers (each an express layer match on every page of the site).
 */
export function createRouter(ctx: KitContext, sessionMiddleware: RequestHandler): Router {
  const routes = kitRoutes(ctx, sessionMiddleware);
  const page = pageRequest(ctx, sessionMiddleware);
  const underPath = ctx.options.basePath !== '';
  const router = Router();
  router.use((req, res, next) => {
    ctx.mount.check(req);
    if (underPath) noteRouterMount(req);
    if (isKitPath(req.path)) routes(req, res, next);
    else page(req, res, next);
  });
  return router;
}

/** The site's own requests: the Cookie header, the session, then `req.user`; errors go on to the site's handlers. */
function pageRequest(ctx: KitContext, sessionMiddleware: RequestHandler): RequestHandler {
  const cookies = parseCookies();
  const user = catchRejections(currentUser(ctx));
  return (req, res, next) => {
    cookies(req, res, () => {
      sessionMiddleware(req, res, (error?: unknown) => {
        if (error) next(error);
        else user(req, res, next);
      });
    });
  };
}

/**
 * The kit's route table. Server-to-server endpoints come first, before cookies and sessions:
 * the hub calls them without a browser session and they must not need one.
 */
function kitRoutes(ctx: KitContext, sessionMiddleware: RequestHandler): Router {
  const router = Router();
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
  // A bookmark or an old `<a href>`: the page with the button, never a sign-out by GET.
  router.get(ROUTES.logout, logoutPage(ctx));

  router.use(KIT_PATH_PREFIX, errorHandler(ctx.configLog, ctx.options.logger, ctx.options.publicPath));
  return router;
}
