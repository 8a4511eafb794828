import express, { type Express } from 'express';
import nunjucks from 'nunjucks';
import { fileURLToPath } from 'node:url';
import { createSubsiteKit, safeReturnTo, type RedisClient } from '@sso-hub/subsite-kit';
import type { DemoConfig, SiteSettings } from './demo-config.js';

const TEMPLATES = fileURLToPath(new URL('../../templates', import.meta.url));

const CONTENT: Record<SiteSettings['name'], { items: string[]; secret: string }> = {
  bbs: { items: ['Welcome to the forum', 'Release notes for 25.0', 'How do I change my wallpaper?'], secret: 'Moderators-only board: 3 reports waiting.' },
  wiki: { items: ['Installation guide', 'Keyboard shortcuts', 'Building from source'], secret: 'Draft pages you are editing: 2.' },
  shop: { items: ['Deepin mug', 'Sticker pack', 'Hoodie'], secret: 'Your orders: none yet.' },
};

/**
 * One demo subsite, built only on the kit's public API: a public page, a private page,
 * the signed-in user's name and a sign-out button.
 */
export async function createDemoSite(site: SiteSettings, config: DemoConfig, redis?: RedisClient): Promise<Express> {
  const views = new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES), { autoescape: true });
  const sso = await createSubsiteKit({
    hubUrl: config.hubUrl,
    hubInternalUrl: config.hubInternalUrl,
    clientId: site.clientId ?? site.name,
    clientSecret: site.clientSecret,
    redirectUri: `${site.origin}/sso/callback`,
    syncKey: site.syncKey,
    sessionSecret: config.sessionSecret,
    crossSite: site.crossSite,
    // Under the configured KEY_PREFIX, like the hub's keys: one prefix per deployment (or test run).
    redisPrefix: `${config.keyPrefix}demo:${site.name}:`,
    ...(redis ? { redis } : {}),
    // The kit's counters (lazy verifications, sync beacons, hub notices, store errors) for /metrics.
    metrics: true,
  });

  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    res.set('Content-Security-Policy', "default-src 'self'; style-src 'self'; frame-ancestors 'none'");
    res.set('Referrer-Policy', 'no-referrer');
    res.set('X-Content-Type-Options', 'nosniff');
    // Pages show who is signed in: never kept by a browser or a proxy (the stylesheet and icon set their own).
    if (!req.path.startsWith('/static/') && req.path !== '/favicon.ico') res.set('Cache-Control', 'no-store');
    next();
  });
  app.use('/static', express.static(`${TEMPLATES}/static`, { index: false }));
  // Browsers ask every origin for /favicon.ico: answer it before the kit (it is no page view).
  app.get('/favicon.ico', (_req, res) => res.sendFile(`${TEMPLATES}/static/favicon.ico`, { maxAge: '1d' }));
  // Liveness and readiness (its Redis answers) for compose healthchecks and load balancers;
  // /metrics only with a token set (DEMO_METRICS_TOKEN). Before the router: no session, no cookie.
  app.use(sso.healthRoutes());
  if (config.metricsToken) app.get('/metrics', sso.metricsHandler({ token: config.metricsToken }));
  app.use(sso.router);
  app.use(sso.lazyLogin);

  const render = (req: express.Request, res: express.Response, page: string, extra: Record<string, unknown> = {}) => {
    res.type('html').send(views.render(`demo/${page}.njk`, {
      site,
      hubUrl: config.hubUrl,
      user: res.locals.user,
      // "Sign in" comes back to this page (the kit keeps only same-origin paths).
      loginHref: `/sso/login?next=${encodeURIComponent(safeReturnTo(req.originalUrl))}`,
      consentRequired: res.locals.sso?.consentRequired === true,
      ...CONTENT[site.name],
      ...extra,
    }));
  };
  app.get('/', (req, res) => render(req, res, 'home'));
  app.get('/private', sso.requireLogin, (req, res) => render(req, res, 'private'));
  app.use((req, res) => {
    res.status(404);
    render(req, res, 'home', { notFound: true });
  });
  app.use(sso.errorHandler);
  return app;
}
