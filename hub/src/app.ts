import express, { type Express } from 'express';
import { adminRoutes } from './admin/admin-routes.js';
import { casRoutes } from './cas/cas-routes.js';
import { errorHandler, notFound } from './http/error-handler.js';
import { portalSession } from './http/portal-session.js';
import type { Logger } from './logger.js';
import { accountRoutes } from './portal/account-routes.js';
import { interactionRoutes } from './portal/interaction-routes.js';
import { portalRoutes } from './portal/portal-routes.js';
import { noStore, securityHeaders } from './security/headers.js';
import type { HubServices } from './services.js';
import type { RedisStore } from './store/redis.js';
import { TEMPLATES_DIR } from './views/views.js';

/** Path prefixes served by the portal (express); everything else is the protocol engine. */
const PORTAL_PATHS = ['/login', '/logout', '/portal', '/interaction', '/account', '/admin'];
const BODY_LIMIT = '32kb'; // portal forms are small; a larger body is refused

/**
 * Builds the hub's express app: the route table in one place. The portal (sign-in,
 * consent, account) is express; the protocol endpoints are oidc-provider, mounted last.
 * Only `main.ts` listens.
 */
export function createApp(services: HubServices, logger: Logger): Express {
  const { config, provider, views, store } = services;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.HUB_TRUST_PROXY);

  app.use(securityHeaders(config.secureCookies));
  app.use('/static', express.static(`${TEMPLATES_DIR}/static`, { index: false, maxAge: '1h' }));
  app.get('/healthz', async (_req, res) => {
    const ok = await store.ping();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'store unavailable' });
  });

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
      ...(store.kind === 'redis' ? { redis: (store as RedisStore).client } : {}),
    }),
  );
  portal.use(PORTAL_PATHS, express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 20 }));
  portal.use(portalRoutes(services));
  portal.use(interactionRoutes(services));
  portal.use(accountRoutes(services));
  portal.use(adminRoutes(services));
  app.use(portal);

  // CAS 6-style /oauth2.0/* for clients that opted in (seed 001): adapters onto the endpoints below.
  app.use(casRoutes(services));

  // OAuth 2.0 / OpenID Connect endpoints (discovery, /auth, /token, /me, /jwks, /session/end, ...).
  app.use(provider.callback());

  app.use(notFound(views));
  app.use(errorHandler(views, logger));
  return app;
}
