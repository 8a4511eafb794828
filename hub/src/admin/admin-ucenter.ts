import { Router } from 'express';
import { msg, ValidationError } from '../errors.js';
import type { HubServices } from '../services.js';
import { isCrossSiteApp } from '../ucenter/app-site.js';
import { checkUcenterApp } from '../ucenter/note-check.js';
import { noteUrl, ucenterAuditDetail } from '../ucenter/ucenter-app.js';
import { actorOf, field, renderAdmin } from './admin-context.js';

function appIdParam(value: unknown): number {
  const text = String(value);
  if (!/^\d{1,9}$/.test(text)) throw new ValidationError(msg('errors:appIdFormat'));
  return Number(text);
}

/**
 * UCenter applications in the console: list, register (key shown once, the RC4 and
 * script-origin warning acknowledged), rotate the key, remove; and how many imported
 * legacy hashes are still waiting for their owner's next sign-in.
 */
export function adminUcenterRoutes(services: HubServices): Router {
  const { ucenter, users, audit } = services;
  const router = Router();

  const list = async (req: Parameters<typeof renderAdmin>[0], res: Parameters<typeof renderAdmin>[1], extra: Record<string, unknown> = {}) => {
    const [apps, legacyHashes] = await Promise.all([ucenter.apps.list(), users.legacyHashCount()]);
    renderAdmin(req, res, services, 'ucenter.njk', {
      section: 'ucenter',
      apps: apps.map((app) => ({ ...app, key: undefined, noteUrl: noteUrl(app) })),
      legacyHashes,
      ucApi: `${services.config.HUB_ISSUER}/ucenter`,
      ...extra,
    });
  };

  router.get('/admin/ucenter', (req, res) => list(req, res));

  // UCenter's communication test: a `test` note to the application's handler, answered here.
  router.post('/admin/ucenter/:appId/test', async (req, res) => {
    const app = await ucenter.apps.require(appIdParam(req.params.appId));
    const check = await checkUcenterApp(app, services.config.DELIVERY_TIMEOUT_MS);
    await audit.record({ event: 'admin.client.check-sync', ...actorOf(req, res), client: `ucenter:${app.appId}`, detail: { status: check.status } });
    await list(req, res, { check });
  });

  router.post('/admin/ucenter', async (req, res) => {
    if (field(req, 'acceptRc4') !== 'yes') throw new ValidationError(msg('errors:acceptRc4'));
    const appIdText = field(req, 'appId');
    const app = await ucenter.apps.register({
      name: field(req, 'name'),
      url: field(req, 'url'),
      ...(appIdText ? { appId: appIdParam(appIdText) } : {}),
      ...(field(req, 'type') ? { type: field(req, 'type') } : {}),
      ...(field(req, 'noteFile') ? { noteFile: field(req, 'noteFile') } : {}),
      ...(field(req, 'internalUrl') ? { internalUrl: field(req, 'internalUrl') } : {}),
      ...(field(req, 'charset') ? { charset: field(req, 'charset') } : {}),
      synlogin: field(req, 'synlogin') === 'yes',
      allowRegister: field(req, 'allowRegister') === 'yes',
      updatepw: field(req, 'updatepw') === 'yes',
      insecureOperation: field(req, 'insecureOperation') === 'yes',
    });
    await audit.record({ event: 'admin.client.register', ...actorOf(req, res), client: `ucenter:${app.appId}`, detail: ucenterAuditDetail(app) });
    // A forum on another site than the hub's: the sync page's notes set no cookie there (README, UCenter applications).
    const crossSite = isCrossSiteApp(app.url, services.config.HUB_ISSUER) ? { appHost: new URL(app.url).host, hubHost: new URL(services.config.HUB_ISSUER).host } : undefined;
    renderAdmin(req, res, services, 'ucenter-key.njk', { section: 'ucenter', app, titleKey: 'admin:ucenterKey.registered', ucApi: `${services.config.HUB_ISSUER}/ucenter`, crossSite });
  });

  router.post('/admin/ucenter/:appId/rotate-key', async (req, res) => {
    const app = await ucenter.apps.rotateKey(appIdParam(req.params.appId));
    await audit.record({ event: 'admin.client.rotate-secret', ...actorOf(req, res), client: `ucenter:${app.appId}` });
    renderAdmin(req, res, services, 'ucenter-key.njk', { section: 'ucenter', app, titleKey: 'admin:ucenterKey.newKey', ucApi: `${services.config.HUB_ISSUER}/ucenter` });
  });

  router.post('/admin/ucenter/:appId/remove', async (req, res) => {
    const appId = appIdParam(req.params.appId);
    await ucenter.apps.remove(appId);
    await audit.record({ event: 'admin.client.remove', ...actorOf(req, res), client: `ucenter:${appId}` });
    res.redirect(303, '/admin/ucenter?done=client-removed');
  });

  return router;
}
