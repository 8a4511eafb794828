import { Router } from 'express';
import { ConflictError, msg, ValidationError } from '../errors.js';
import type { HubServices } from '../services.js';
import { isCrossSiteApp } from '../ucenter/app-site.js';
import { checkUcenterApp } from '../ucenter/note-check.js';
import { noteUrl, ucenterAuditDetail, ucKeySeen, ucSettingsSeen, type UcenterApp } from '../ucenter/ucenter-app.js';
import { friendlyError } from '../portal/friendly-error.js';
import { confirmedOrAsked } from './admin-confirm.js';
import { onceOnly } from './admin-sent-once.js';
import { actorOf, field, isFormError, renderAdmin } from './admin-context.js';

/** An application as its edit page shows it: never its key; the settings it shows (`_seen`). */
function editShown(app: UcenterApp) {
  return { ...app, key: undefined, settingsSeen: ucSettingsSeen(app) };
}

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

  const list = async (req: Parameters<typeof renderAdmin>[0], res: Parameters<typeof renderAdmin>[1], extra: Record<string, unknown> = {}, status = 200) => {
    const [apps, legacyHashes] = await Promise.all([ucenter.apps.list(), users.legacyHashCount()]);
    renderAdmin(req, res, services, 'ucenter.njk', {
      section: 'ucenter',
      apps: apps.map((app) => ({ ...app, key: undefined, keySeen: ucKeySeen(app), noteUrl: noteUrl(app) })),
      legacyHashes,
      ucApi: `${services.config.HUB_ISSUER}/ucenter`,
      ...extra,
    }, status);
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
    // What was typed, to show again beside the form when it is refused (never the key: there is none yet).
    const typed = {
      name: field(req, 'name'), url: field(req, 'url'), appId: field(req, 'appId'), type: field(req, 'type'), noteFile: field(req, 'noteFile'),
      internalUrl: field(req, 'internalUrl'), charset: field(req, 'charset'), synlogin: field(req, 'synlogin') === 'yes', updatepw: field(req, 'updatepw') === 'yes',
      allowRegister: field(req, 'allowRegister') === 'yes', insecureOperation: field(req, 'insecureOperation') === 'yes', acceptRc4: field(req, 'acceptRc4') === 'yes',
    };
    const render = (template: string, context: Record<string, unknown>, status: number) => renderAdmin(req, res, services, template, { section: 'ucenter', ...context }, status);
    // Sent again (a reload of the answer, a double click): registered once, its key shown once.
    await onceOnly(services, req, 'ucenterRegister', '/admin/ucenter', async (claim) => {
      let app;
      try {
        if (!typed.acceptRc4) throw new ValidationError(msg('errors:acceptRc4'));
        app = await ucenter.apps.register({
          name: typed.name,
          url: typed.url,
          ...(typed.appId ? { appId: appIdParam(typed.appId) } : {}),
          ...(typed.type ? { type: typed.type } : {}),
          ...(typed.noteFile ? { noteFile: typed.noteFile } : {}),
          ...(typed.internalUrl ? { internalUrl: typed.internalUrl } : {}),
          ...(typed.charset ? { charset: typed.charset } : {}),
          synlogin: typed.synlogin,
          allowRegister: typed.allowRegister,
          updatepw: typed.updatepw,
          insecureOperation: typed.insecureOperation,
        });
      } catch (error) {
        // A refused value (a taken app id, a URL with a query): the form again beside the list, with
        // what was typed and why, as the console's other forms do (a review: a bare error page lost it all).
        if (!isFormError(error)) throw error;
        await claim.release();
        await list(req, res, { formError: friendlyError(error), typed }, error.status);
        return;
      }
      await audit.record({ event: 'admin.client.register', ...actorOf(req, res), client: `ucenter:${app.appId}`, detail: ucenterAuditDetail(app) });
      // A forum on another site than the hub's: the sync page's notes set no cookie there (README, UCenter applications).
      const crossSite = isCrossSiteApp(app.url, services.config.HUB_ISSUER) ? { appHost: new URL(app.url).host, hubHost: new URL(services.config.HUB_ISSUER).host } : undefined;
      renderAdmin(req, res, services, 'ucenter-key.njk', { section: 'ucenter', app, titleKey: 'admin:ucenterKey.registered', ucApi: `${services.config.HUB_ISSUER}/ucenter`, crossSite });
    }, render);
  });

  // An application's settings, changed in place (`ucenter apps update`): UC_APPID, UC_KEY and its pending notes stay.
  router.get('/admin/ucenter/:appId', async (req, res) => {
    const app = await ucenter.apps.require(appIdParam(req.params.appId));
    renderAdmin(req, res, services, 'ucenter-app.njk', { section: 'ucenter', app: editShown(app), typed: app });
  });

  router.post('/admin/ucenter/:appId', async (req, res) => {
    const app = await ucenter.apps.require(appIdParam(req.params.appId));
    const typed = {
      name: field(req, 'name'), url: field(req, 'url'), type: field(req, 'type'), noteFile: field(req, 'noteFile'), internalUrl: field(req, 'internalUrl'), charset: field(req, 'charset'),
      synlogin: field(req, 'synlogin') === 'yes', updatepw: field(req, 'updatepw') === 'yes', allowRegister: field(req, 'allowRegister') === 'yes', insecureOperation: field(req, 'insecureOperation') === 'yes',
    };
    const shownGeneration = field(req, 'generation');
    // The settings the page showed: a save over another tab's or admin's change is refused, not applied over it.
    const seen = field(req, '_seen');
    let updated;
    try {
      // Blank fields are their defaults, as at a registration (the internal URL: none).
      const { charset, ...rest } = typed;
      updated = await ucenter.apps.update(app.appId, { ...rest, type: typed.type || 'OTHER', noteFile: typed.noteFile || 'api/uc.php', charset: charset || 'utf-8' }, { ...(shownGeneration ? { ifGeneration: shownGeneration } : {}), ...(seen ? { ifSettings: seen } : {}) });
    } catch (error) {
      if (!isFormError(error)) throw error;
      // The form again, of the record as it is now: saving it again applies what was typed, on purpose.
      const current = (await ucenter.apps.find(app.appId)) ?? app;
      renderAdmin(req, res, services, 'ucenter-app.njk', { section: 'ucenter', app: editShown(current), typed, formError: friendlyError(error) }, error.status);
      return;
    }
    const { before, app: after } = updated;
    const changed = (Object.keys(after) as (keyof typeof after)[]).filter((name) => name !== 'key' && JSON.stringify(after[name]) !== JSON.stringify(before[name]));
    if (changed.length) await audit.record({ event: 'admin.client.update', ...actorOf(req, res), client: `ucenter:${after.appId}`, detail: { changed: changed.join(',') } });
    res.redirect(303, `/admin/ucenter?done=${changed.length ? 'ucenter-updated' : 'ucenter-unchanged'}`);
  });

  router.post('/admin/ucenter/:appId/rotate-key', async (req, res) => {
    const appId = appIdParam(req.params.appId);
    const render = (template: string, context: Record<string, unknown>, status: number) => renderAdmin(req, res, services, template, { section: 'ucenter', ...context }, status);
    // Sent again (a reload of the answer, a double click): rotated once, the new key shown once.
    await onceOnly(services, req, 'ucenterKey', '/admin/ucenter', async () => {
      // From a page opened before another new key (two tabs, two admins): a ConflictError, answered
      // inside the console with a link back to the list (admin-errors.ts); the key shown then stays.
      const seen = field(req, '_keySeen');
      // A page of a hub version before the field (`_once` without `_keySeen`): refused, as for a subsite's sync key (admin-clients.ts).
      if (!seen && field(req, '_once')) throw new ConflictError(msg('errors:ucenterApps.keyPageOutdated', { appId }));
      const app = await ucenter.apps.rotateKey(appId, seen ? { ifKeySeen: seen } : {});
      await audit.record({ event: 'admin.client.rotate-secret', ...actorOf(req, res), client: `ucenter:${app.appId}` });
      renderAdmin(req, res, services, 'ucenter-key.njk', { section: 'ucenter', app, titleKey: 'admin:ucenterKey.newKey', ucApi: `${services.config.HUB_ISSUER}/ucenter` });
    }, render);
  });

  router.post('/admin/ucenter/:appId/remove', async (req, res) => {
    const app = await ucenter.apps.require(appIdParam(req.params.appId));
    const { appId } = app;
    // The confirmation carries the registration it names (as a subsite's): not another registered since under this app id.
    const carry = app.generation ? { generation: app.generation } : undefined;
    if (!confirmedOrAsked(req, res, services, { kind: 'removeUcenter', section: 'ucenter', action: `/admin/ucenter/${appId}/remove`, cancel: '/admin/ucenter', what: { appId, name: app.name }, ...(carry ? { carry } : {}) })) return;
    const shownGeneration = field(req, 'generation');
    await ucenter.apps.remove(appId, shownGeneration ? { ifGeneration: shownGeneration } : {});
    await audit.record({ event: 'admin.client.remove', ...actorOf(req, res), client: `ucenter:${appId}` });
    res.redirect(303, '/admin/ucenter?done=ucenter-removed');
  });

  return router;
}
