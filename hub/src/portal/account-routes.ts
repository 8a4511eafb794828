import { Router, type Request, type Response } from 'express';
import { clientIp } from '../http/client-ip.js';
import type { HubServices } from '../services.js';
import { withdrawConsent } from '../oidc/revoke-grant.js';
import { csrf } from '../security/csrf.js';
import { currentUser, type SignedIn } from './current-user.js';
import { renderPage } from './render.js';

/** "Where am I signed in", remembered consents and their revocation. */
export function accountRoutes(services: HubServices): Router {
  const { provider, users, views, clients, consents, grants, audit } = services;
  const router = Router();

  async function requireUser(req: Request, res: Response): Promise<SignedIn | undefined> {
    const signedIn = await currentUser(provider, users, req, res);
    if (!signedIn) res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    return signedIn;
  }

  router.get('/account', async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    const all = await clients.list();
    const byId = new Map(all.map((client) => [client.clientId, client]));
    const visible = (clientId: string) => {
      const client = byId.get(clientId);
      return client && !client.internal ? client : undefined;
    };
    const remembered = (await consents.clientsOf(signedIn.user.id))
      .map((entry) => ({ ...entry, client: visible(entry.clientId) }))
      .filter((entry) => entry.client && !entry.client.trusted);
    renderPage(res, views, 'hub/account.njk', {
      user: signedIn.user,
      signedInTo: signedIn.clientIds.map(visible).filter(Boolean),
      consents: remembered,
      csrfToken: csrf.generateToken(req),
      revoked: req.query.revoked === '1',
    });
  });

  router.post('/account/consents/:clientId/revoke', csrf.csrfSynchronisedProtection, async (req, res) => {
    const signedIn = await requireUser(req, res);
    if (!signedIn) return;
    const clientId = String(req.params.clientId);
    if (await consents.find(signedIn.user.id, clientId)) {
      // Withdrawing consent also revokes every token issued under it, on every device.
      await withdrawConsent(provider, consents, grants, signedIn.user.id, clientId);
      await audit.record({ event: 'consent.revoked', actor: signedIn.user.id, subject: signedIn.user.id, client: clientId, ip: clientIp(req) });
    }
    res.redirect(303, '/account?revoked=1');
  });

  return router;
}
