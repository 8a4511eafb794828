import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { adminRoutes } from './admin/admin-routes.js';
import { casRoutes } from './cas/cas-routes.js';
import { healthRoutes } from './health/health-routes.js';
import { observeRequest } from './http/request-log.js';
import { metricsHandler } from './metrics/metrics-routes.js';
import { withRequestContext } from './request-context.js';
import { errorHandler, notFound } from './http/error-handler.js';
import { langRoutes, localeMiddleware } from './i18n/locale-middleware.js';
import { originPin } from './http/pin-origin.js';
import { trustProxySetting } from './http/client-ip.js';
import { portalSession, startsPortalSession } from './http/portal-session.js';
import type { Logger } from './logger.js';
import { accountRoutes } from './portal/account-routes.js';
import { accountDeleteRoutes } from './portal/account-delete-routes.js';
import { interactionRoutes } from './portal/interaction-routes.js';
import { portalRoutes } from './portal/portal-routes.js';
import { twoStepRoutes } from './portal/two-step-routes.js';
import { recoveryRoutes } from './portal/recovery-routes.js';
import { signupRoutes } from './signup/signup-routes.js';
import { VERIFY_PATH } from './signup/signup-service.js';
import { formTargetRoutes } from './portal/form-targets.js';
import { signInReturn } from './portal/sign-in-return.js';
import { noStore, securityHeaders } from './security/headers.js';
import type { HubServices } from './services.js';
import type { RedisStore } from './store/redis.js';
import { UCENTER_API_PATH, ucenterClientApi } from './ucenter/client-api.js';
import { ucenterAvatars } from './ucenter/avatars.js';
import { outboxRoutes } from './mail/outbox-routes.js';
import { TEMPLATES_DIR } from './views/views.js';
import { isPostToBrowserEndpoint, mayCarryPostedForm, postAsGet } from './oidc/post-as-get.js';

/** Path prefixes served by the portal (express); everything else is the protocol engine. */
const PORTAL_PATHS = ['/login', '/logout', '/portal', '/interaction', '/account', '/password', '/admin', '/signup'];
/**
 * Portal pages that render a form to a browser nobody signed in with (GET). Each stored a new
 * portal session (an hour, about 0.5 KB) for every request without the session cookie, counted
 * nowhere: one address filled a 64 MB Redis in minutes with `GET /password/forgot` (an exhaustion
 * review). `/login` is counted before the session (below).
 */
const ANONYMOUS_FORM_PAGES = ['/interaction/:uid', '/password/forgot', '/password/reset', '/signup', '/signup/resend', VERIFY_PATH, '/account/email/confirm', '/account/email/undo'];
const BODY_LIMIT = '32kb'; // portal forms are small; a larger body is refused

/**
 * Protocol endpoints answered by oidc-provider with no express in front of it: on
 * `POST /token` express, helmet and the portal routers cost half the throughput
 * (bench/, scenario 1). Their security headers are set by `protocolHeaders`.
 */
const PROTOCOL_PATHS = ['/.well-known', '/auth', '/token', '/me', '/jwks', '/session/end', '/request'];

/**
 * Where password managers send a user to change a saved password (W3C "A Well-Known URL for
 * Changing Passwords"): a redirect to the account page's password form. Under `/.well-known`,
 * but answered by the portal, not the protocol engine.
 */
const CHANGE_PASSWORD_PATH = '/.well-known/change-password';

/** Each protocol path with its sub-path prefix (made once: this runs on every request). */
const PROTOCOL_PREFIXES = PROTOCOL_PATHS.map((path) => [path, `${path}/`] as const);

function isProtocolPath(url: string | undefined): boolean {
  const path = (url ?? '/').split('?', 1)[0]!;
  if (path.toLowerCase() === CHANGE_PASSWORD_PATH) return false;
  for (const [prefix, below] of PROTOCOL_PREFIXES) if (path === prefix || path.startsWith(below)) return true;
  return false;
}

/** What `createApp` returns: a Node request listener (for `http.createServer` or tests). */
export type HubRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Builds the hub's request handler: the route table in one place. Protocol paths go
 * straight to oidc-provider; the portal (sign-in, consent, account, admin), the CAS
 * adapters and everything else go through express. Only `main.ts` listens.
 */
export function createApp(services: HubServices, logger: Logger): HubRequestListener {
  const { config, provider, views, store } = services;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxySetting(config));

  app.use(securityHeaders(config.secureCookies));
  app.use('/static', express.static(`${TEMPLATES_DIR}/static`, { index: false, maxAge: '1h' }));
  // Browsers ask every origin for /favicon.ico: a small icon instead of a 404 on every page.
  app.get('/favicon.ico', (_req, res) => res.sendFile(`${TEMPLATES_DIR}/static/favicon.ico`, { maxAge: '1d' }));
  // The account page signs in first when needed (and keeps the fragment through the redirects).
  app.get(CHANGE_PASSWORD_PATH, (_req, res) => res.redirect(303, '/account#change-password'));
  app.use(healthRoutes(services));
  // Every page below is read in the reader's language: the `lang` cookie, else Accept-Language.
  app.use(localeMiddleware());
  app.use(langRoutes(config.secureCookies));

  // Sign-in pages write records before anyone signed in: bounded per address (/auth: in hub.ts).
  app.use('/login', services.signInStarts.middleware());

  // Portal pages: their own session (CSRF, pending sign-ins), form bodies, never cached.
  // Mounted by path so protocol endpoints never see the portal's body parser or session.
  const portal = express.Router();
  portal.get('/', noStore);
  portal.use(PORTAL_PATHS, noStore);
  portal.use(
    ['/', ...PORTAL_PATHS],
    portalSession({
      secrets: services.cookieKeys,
      secure: config.secureCookies,
      prefix: services.keys.portalSessionPrefix(),
      logger,
      ...(store.kind === 'redis' ? { redis: (store as RedisStore).client } : { embedded: store }),
    }),
  );
  // Pages that show anyone a form store a portal session for its CSRF token: a browser's first
  // one is a record made before anyone signed in, counted as a sign-in start (a reload is not).
  portal.get(ANONYMOUS_FORM_PAGES, services.signInStarts.middleware(startsPortalSession));
  // The console parses its own forms, after its admin check (admin-routes.ts).
  portal.use(PORTAL_PATHS.filter((path) => path !== '/admin'), express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 20 }));
  portal.use(portalRoutes(services));
  portal.use(interactionRoutes(services));
  portal.use(accountRoutes(services));
  portal.use(accountDeleteRoutes(services));
  portal.use(twoStepRoutes(services));
  // The pages a sign-in page's "Forgot your password?" and "Create an account" lead to: their "Back to sign-in" goes back to it.
  portal.use(['/password', '/signup'], signInReturn(services.provider));
  portal.use(recoveryRoutes(services));
  portal.use(signupRoutes(services));
  // A GET of a form's address (Enter in the location bar of the page that answered it): its page.
  portal.use(formTargetRoutes());
  portal.use(adminRoutes(services));
  app.use(portal);

  // The development outbox (MAIL_DEV_OUTBOX, no SMTP): only mounted when it is on.
  if (services.outbox) app.use(outboxRoutes(services.outbox, views));

  // CAS 6-style /oauth2.0/* for clients that opted in (seed 001): adapters onto the endpoints below.
  app.use(casRoutes(services));
  // The UCenter client API (`UC_API` = {issuer}/ucenter) for applications registered as UCenter apps.
  app.use(ucenterClientApi(services.ucenter.apps, services.ucenter.service, services.ucenter.replay, services.ucenter.proofs, logger));
  app.use(ucenterAvatars(UCENTER_API_PATH));

  // Protocol paths in another letter case (oidc-provider's routing ignores case) still reach
  // it; any other path gets the hub's 404 page, not oidc-provider's bare "Not Found".
  // A relying party's form POST to /auth or /session/end goes on as a GET carrying only the
  // handle of the form, kept in the store (post-as-get.ts).
  const protocol = provider.callback();
  app.use(postAsGet({ forms: services.postedForms, countStart: services.signInStarts.middleware(), protocol }));
  app.use((req, res, next) => (isProtocolPath(req.path.toLowerCase()) ? protocol(req, res) : next()));

  app.use(notFound(views));
  app.use(errorHandler(views, logger));
  // oidc-provider builds the URLs it puts in pages and discovery from the request's host and
  // scheme: pin both to the issuer's on every request (not only on the paths that look like
  // protocol paths: its routing ignores case), so a forged Host, X-Forwarded-Host or
  // X-Forwarded-Proto cannot reach a form action, a redirect or discovery.
  const pin = originPin(config.HUB_ISSUER, config.HUB_TRUST_PROXY);
  const metrics = metricsHandler(services.metrics, config.METRICS_TOKEN);
  // Every request: a request id (echoed as X-Request-Id, carried by its audit entries), one
  // JSON log line and its count and latency in the metrics once answered.
  // Protocol requests run in oidc-provider's request context only (request-context.ts).
  return (req, res) => {
    // A form POST to /auth or /session/end, and the GET carrying its handle, go through express
    // (post-as-get.ts); any other GET there pays one substring test for it.
    const protocolRequest = isProtocolPath(req.url) && !isPostToBrowserEndpoint(req.method, req.url) && !mayCarryPostedForm(req.method, req.url);
    withRequestContext(req, res, (requestId) => {
      observeRequest(req, res, requestId, logger, services.metrics);
      pin(req);
      if (protocolRequest) {
        void protocol(req, res);
        return;
      }
      // Only when a token is set: without one it is any unknown path (the hub's 404 page, with its headers).
      if (config.METRICS_TOKEN && req.method === 'GET' && (req.url ?? '').split('?', 1)[0] === '/metrics') {
        void metrics(req, res);
        return;
      }
      app(req as express.Request, res as express.Response);
    }, { ownContext: !protocolRequest });
  };
}
