import { Router, type Request, type Response } from 'express';
import { MAX_SECRET_OVERLAP_SECONDS, type ClientInput } from '../clients/client-registry.js';
import type { AuthMethod, GrantType, SubsiteClient, SyncTransport } from '../clients/client.js';
import { livePreviousSecret, secretSeen, syncKeySeen } from '../clients/client-secret.js';
import { ConflictError, ForbiddenError, type HubError, msg, NotFoundError, ValidationError } from '../errors.js';
import type { SigningAlg } from '../secrets/secrets.js';
import type { HubServices } from '../services.js';
import { actorOf, field, fields, isFormError, lines, renderAdmin } from './admin-context.js';
import { confirmedOrAsked } from './admin-confirm.js';
import { onceOnly } from './admin-sent-once.js';
import { friendlyError } from '../portal/friendly-error.js';
import { STATUS_TEXT } from '../sync/integration-check.js';
import { changedSettings, settingsFingerprint, signOutNoLongerReaches } from '../clients/client-changes.js';

const GRANTS: GrantType[] = ['authorization_code', 'refresh_token', 'client_credentials', 'implicit', 'password'];
const AUTH_METHODS: AuthMethod[] = ['client_secret_basic', 'client_secret_post', 'none'];

/** The editable settings of a client, from the form (secrets are never edited, only rotated). */
function clientForm(req: Request): Omit<ClientInput, 'clientId'> {
  const auth = field(req, 'auth') as AuthMethod;
  return {
    name: field(req, 'name') || undefined,
    redirectUris: lines(req, 'redirectUris'),
    postLogoutRedirectUris: lines(req, 'postLogoutRedirectUris'),
    grantTypes: fields(req, 'grant') as GrantType[],
    ...(AUTH_METHODS.includes(auth) ? { tokenEndpointAuthMethod: auth } : {}),
    trusted: field(req, 'trusted') === 'yes',
    // '' clears: the registry treats an empty URL as "none".
    syncLoginUrl: field(req, 'syncLoginUrl'),
    syncLogoutUrl: field(req, 'syncLogoutUrl'),
    syncTransport: (field(req, 'syncTransport') === 'script' ? 'script' : 'img') as SyncTransport,
    userdeleteUrl: field(req, 'userdeleteUrl'),
    backchannelLogoutUri: field(req, 'backchannelLogoutUri'),
    // Absent from the form: kept as it is; anything but an offered alg is refused by the registry.
    ...(field(req, 'idTokenSignedResponseAlg') ? { idTokenSignedResponseAlg: field(req, 'idTokenSignedResponseAlg') as SigningAlg } : {}),
  };
}

/** What a refused form said, in the shape the form shows a client (client-form.njk): typed again, not lost. */
function typedClient(req: Request, clientId: string): Record<string, unknown> {
  const { syncLoginUrl, syncLogoutUrl, syncTransport, ...rest } = clientForm(req);
  return { clientId, ...rest, ...(syncLoginUrl || syncLogoutUrl ? { sync: { loginUrl: syncLoginUrl, logoutUrl: syncLogoutUrl, transport: syncTransport } } : {}) };
}

/** A client as the console shows it: never its secret, the secret's digests or its sync keys. */
function shown(client: SubsiteClient, overlapSeconds: number) {
  const { clientSecret: _secret, clientSecretDigest: _digest, previousSecret: _previous, sync, ...rest } = client;
  const overlapEnds = sync?.rotatedAt !== undefined && sync.previousKey ? sync.rotatedAt + overlapSeconds : undefined;
  const previousSecret = livePreviousSecret(client);
  return {
    ...rest,
    confidential: client.tokenEndpointAuthMethod !== 'none',
    ...(previousSecret ? { previousSecretUntil: previousSecret.validUntil } : {}),
    ...(sync ? { sync: { loginUrl: sync.loginUrl, logoutUrl: sync.logoutUrl, transport: sync.transport } } : {}),
    ...(overlapEnds && overlapEnds * 1000 > Date.now() ? { overlapEnds } : {}),
    // The edit form's `_seen`: a save from a page of other settings is refused (two tabs, two admins).
    settingsSeen: settingsFingerprint(client),
    // The rotate form's `_secretSeen`: a rotation from a page older than another rotation is refused.
    secretSeen: secretSeen(client),
    // The sync-key form's `_syncKeySeen`: a rotation from a page older than another rotation is refused.
    ...(sync ? { syncKeySeen: syncKeySeen(client) } : {}),
  };
}

/** The rotate form's overlap: empty for none; otherwise whole seconds above 0 (at most {@link MAX_SECRET_OVERLAP_SECONDS}, checked by the registry), refused with the reason. */
function overlapOf(value: string): number | undefined {
  if (value.trim() === '') return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(value.trim())) throw new ValidationError(msg('errors:clients.overlapSeconds', { max: MAX_SECRET_OVERLAP_SECONDS }));
  return Number(value.trim());
}

/**
 * Subsites (clients): register, edit, rotate the client secret and the sync key (each new
 * secret is shown once, on the answer page), remove. The hub's own portal client is not here.
 */
export function adminClientRoutes(services: HubServices): Router {
  const { clients, audit, config } = services;
  const router = Router();
  const overlap = config.SYNC_KEY_OVERLAP_SECONDS;

  async function editable(id: string): Promise<SubsiteClient> {
    // Past the cache when it does not know the id: a subsite the CLI or another hub registered
    // a moment ago was "No client" here for up to a second (a console review).
    const client = (await clients.find(id)) ?? (await clients.findUncached(id));
    if (!client) throw new NotFoundError(msg('errors:noClient', { client: id }));
    if (client.internal) throw new ForbiddenError(msg('errors:portalClientFixed'));
    return client;
  }

  /** A subsite's page, with what an answer adds to it (a refused form's reason, a sync check's report). */
  const clientPage = (req: Request, res: Response, client: SubsiteClient, extra: Record<string, unknown> = {}, status?: number) =>
    renderAdmin(req, res, services, 'client.njk', { section: 'clients', client: shown(client, overlap), grants: GRANTS, authMethods: AUTH_METHODS, signingAlgs: clients.signingAlgs, ...extra }, status);

  /** A rotation refused: the subsite's page with why; refused as stale, the subsite as it is now (its overlap, a form for the current key). */
  const refusedRotation = async (req: Request, res: Response, existing: SubsiteClient, error: HubError) =>
    clientPage(req, res, error instanceof ConflictError ? await editable(existing.clientId) : existing, { formError: friendlyError(error) }, error.status);

  const listed = async () => ({ section: 'clients', clients: (await clients.list()).filter((client) => !client.internal).map((client) => shown(client, overlap)), grants: GRANTS, signingAlgs: clients.signingAlgs });

  router.get('/admin/clients', async (req, res) => {
    renderAdmin(req, res, services, 'clients.njk', await listed());
  });

  router.post('/admin/clients', async (req, res) => {
    const render = (template: string, context: Record<string, unknown>, status: number) => renderAdmin(req, res, services, template, { section: 'clients', ...context }, status);
    // Sent again (a reload of the answer, a double click): registered once, its secret shown once.
    await onceOnly(services, req, 'register', '/admin/clients', async (claim) => {
      let client;
      try {
        client = await clients.register({ clientId: field(req, 'clientId'), ...clientForm(req) });
      } catch (error) {
        // A refused value: the form again with what was typed and why, inside the console (a review: a bare page lost a dozen fields).
        if (!isFormError(error)) throw error;
        await claim.release();
        renderAdmin(req, res, services, 'clients.njk', { ...(await listed()), formError: friendlyError(error), typed: typedClient(req, field(req, 'clientId')) }, error.status);
        return;
      }
      await audit.record({ event: 'admin.client.register', ...actorOf(req, res), client: client.clientId });
      renderAdmin(req, res, services, 'client-secrets.njk', {
        section: 'clients',
        client: shown(client, overlap),
        titleKey: 'admin:secrets.registered',
        clientSecret: client.clientSecret,
        syncKey: client.sync?.key,
      });
    }, render);
  });

  router.get('/admin/clients/:id', async (req, res) => {
    const cached = await editable(String(req.params.id));
    // Past the cache: the edit form's `_seen` must be of the record as stored, or a save a second later is refused for nothing.
    const client = (await clients.findUncached(cached.clientId)) ?? cached;
    clientPage(req, res, client);
  });

  router.post('/admin/clients/:id', async (req, res) => {
    const existing = await editable(String(req.params.id));
    let updated;
    try {
      const seen = field(req, '_seen');
      updated = await clients.updateFrom(existing.clientId, clientForm(req), seen ? { ifSettings: seen } : {});
    } catch (error) {
      if (!isFormError(error)) throw error;
      // The form again, of the record as it is now (past the cache): saving it again applies what was typed, on purpose.
      const current = shown((await clients.findUncached(existing.clientId)) ?? existing, overlap);
      renderAdmin(req, res, services, 'client.njk', { section: 'clients', client: current, typed: { ...current, ...typedClient(req, existing.clientId) }, formError: friendlyError(error), grants: GRANTS, authMethods: AUTH_METHODS, signingAlgs: clients.signingAlgs }, error.status);
      return;
    }
    // Compared with the record the change was made on, not the page's copy read before the client's lock.
    const { before, client, unchanged } = updated;
    if (unchanged) {
      res.redirect(303, `/admin/clients/${encodeURIComponent(client.clientId)}?done=client-unchanged`);
      return;
    }
    await audit.record({ event: 'admin.client.update', ...actorOf(req, res), client: client.clientId, detail: { changed: changedSettings(before, client).join(',') } });
    // Sync turned on: its new key is shown now, once, as at registration (else no one ever sees it).
    if (client.sync && client.sync.key !== before.sync?.key) {
      renderAdmin(req, res, services, 'client-secrets.njk', { section: 'clients', client: shown(client, overlap), titleKey: 'admin:secrets.syncOn', syncKey: client.sync.key });
      return;
    }
    res.redirect(303, `/admin/clients/${encodeURIComponent(client.clientId)}?done=${signOutNoLongerReaches(before, client) ? 'client-updated-no-logout' : 'client-updated'}`);
  });

  // The previous secret stops at once (the form's overlap left empty: a leaked secret), or stays valid for the overlap given.
  router.post('/admin/clients/:id/rotate-secret', async (req, res) => {
    const existing = await editable(String(req.params.id));
    const back = `/admin/clients/${encodeURIComponent(existing.clientId)}`;
    const render = (template: string, context: Record<string, unknown>, status: number) => renderAdmin(req, res, services, template, { section: 'clients', client: shown(existing, overlap), ...context }, status);
    // Sent again (a reload of the answer, a double click): rotated once, the new secret shown once;
    // a second rotation with an overlap would have stopped the secret the subsite still uses.
    await onceOnly(services, req, 'rotateSecret', back, async (claim) => {
      let rotated;
      try {
        const seen = field(req, '_secretSeen');
        rotated = await clients.rotateSecret(existing.clientId, { overlapSeconds: overlapOf(field(req, 'overlap')), ...(seen ? { ifSecretSeen: seen } : {}) });
      } catch (error) {
        if (!isFormError(error)) throw error;
        await claim.release();
        await refusedRotation(req, res, existing, error);
        return;
      }
      const { client, clientSecret, droppedPrevious } = rotated;
      const previous = client.previousSecret;
      await audit.record({ event: 'admin.client.rotate-secret', ...actorOf(req, res), client: client.clientId, ...(previous ? { detail: { overlapEnds: new Date(previous.validUntil * 1000).toISOString() } } : {}) });
      renderAdmin(req, res, services, 'client-secrets.njk', { section: 'clients', client: shown(client, overlap), titleKey: 'admin:secrets.newSecret', clientSecret, droppedPrevious: Boolean(droppedPrevious) });
    }, render);
  });

  router.post('/admin/clients/:id/end-secret-overlap', async (req, res) => {
    const existing = await editable(String(req.params.id));
    let ended;
    try {
      // From a page opened before another rotation (two tabs, two admins, the CLI): refused, as a
      // rotation is. The overlap it showed is over already, and ending the new one would stop the
      // secret that page showed as current, which the subsite may still use.
      const seen = field(req, '_secretSeen');
      ended = await clients.endSecretOverlap(existing.clientId, seen ? { ifSecretSeen: seen } : {});
    } catch (error) {
      if (!isFormError(error)) throw error;
      await refusedRotation(req, res, existing, error);
      return;
    }
    await audit.record({ event: 'admin.client.end-secret-overlap', ...actorOf(req, res), client: existing.clientId, detail: { wouldHaveEnded: new Date(ended * 1000).toISOString() } });
    res.redirect(303, `/admin/clients/${encodeURIComponent(existing.clientId)}?done=secret-overlap-ended`);
  });

  router.post('/admin/clients/:id/rotate-sync-key', async (req, res) => {
    const existing = await editable(String(req.params.id));
    const back = `/admin/clients/${encodeURIComponent(existing.clientId)}`;
    const render = (template: string, context: Record<string, unknown>, status: number) => renderAdmin(req, res, services, template, { section: 'clients', client: shown(existing, overlap), ...context }, status);
    // Sent again: rotated once (a second rotation would drop the previous key the subsite still has).
    await onceOnly(services, req, 'rotateSyncKey', back, async (claim) => {
      let client;
      try {
        // From a page opened before another rotation (two tabs, two admins): refused, as a client secret's.
        const seen = field(req, '_syncKeySeen');
        // A page of a hub version before the field (a rolling update; a tab opened before it) has
        // `_once` but no `_syncKeySeen`: it cannot say which key it showed, so it is refused rather
        // than rotating again over a rotation made since (an upgrade review). A post without `_once`
        // (no console page) is taken as before.
        if (!seen && field(req, '_once')) throw new ConflictError(msg('errors:clients.syncKeyPageOutdated', { clientId: existing.clientId }));
        client = await clients.rotateSyncKey(existing.clientId, overlap, seen ? { ifKeySeen: seen } : {});
      } catch (error) {
        if (!isFormError(error)) throw error;
        await claim.release();
        await refusedRotation(req, res, existing, error);
        return;
      }
      await audit.record({ event: 'admin.client.rotate-sync-key', ...actorOf(req, res), client: client.clientId });
      renderAdmin(req, res, services, 'client-secrets.njk', {
        section: 'clients',
        client: shown(client, overlap),
        titleKey: 'admin:secrets.newSyncKey',
        syncKey: client.sync!.key,
        previousKey: client.sync!.previousKey,
      });
    }, render);
  });

  // Test sync: the hub calls the subsite's sync endpoints with a signed act=test code and shows what came back.
  router.post('/admin/clients/:id/check-sync', async (req, res) => {
    const existing = await editable(String(req.params.id));
    const report = await services.integration.check(existing.clientId);
    await audit.record({ event: 'admin.client.check-sync', ...actorOf(req, res), client: existing.clientId });
    const checks = report.checks.map((check) => ({ ...check, statusText: STATUS_TEXT[check.status] }));
    clientPage(req, res, existing, { syncCheck: { ...report, checks } });
  });

  router.post('/admin/clients/:id/remove', async (req, res) => {
    const existing = await editable(String(req.params.id));
    const page = `/admin/clients/${encodeURIComponent(existing.clientId)}`;
    // The confirmation carries the registration it names: one removed and registered again under
    // the same id before the click is not removed in its place.
    const carry = existing.generation ? { generation: existing.generation } : undefined;
    if (!confirmedOrAsked(req, res, services, { kind: 'removeClient', section: 'clients', action: `${page}/remove`, cancel: page, what: { name: existing.name, clientId: existing.clientId }, ...(carry ? { carry } : {}) })) return;
    const shownGeneration = field(req, 'generation');
    await clients.remove(existing.clientId, shownGeneration ? { ifGeneration: shownGeneration } : {});
    await audit.record({ event: 'admin.client.remove', ...actorOf(req, res), client: existing.clientId });
    res.redirect(303, '/admin/clients?done=client-removed');
  });

  return router;
}
