import { Router } from 'express';
import { msg, ValidationError } from '../errors.js';
import { friendlyError } from '../portal/friendly-error.js';
import type { HubServices } from '../services.js';
import { setAdminRole } from '../users/admin-role.js';
import { ADMIN_ROLE, toPublic, type PublicUser } from '../users/user.js';
import { byUsername } from '../users/user-repository.js';
import { parseInviteDays } from '../signup/invites.js';
import { actorOf, field, isFormError, notSelf, renderAdmin } from './admin-context.js';

const SEARCH_LIMIT = 200; // users listed per page

/**
 * Users: search, create, reset password, disable/enable, delete (the forced logout), give or
 * take the admin role, their hub sessions and the subsites they signed in to, end one session or all.
 */
export function adminUserRoutes(services: HubServices): Router {
  const { users, lifecycle, consents, clients, audit } = services;
  const router = Router();

  /** The users page's list: those matching `q` (all when empty), at most SEARCH_LIMIT. */
  async function listed(q: string): Promise<Record<string, unknown>> {
    // Walked a batch at a time, keeping only the first SEARCH_LIMIT by username and a count: the
    // whole list in one store command and one sort stalled the hub for everyone (users.each).
    const first: PublicUser[] = [];
    let total = 0;
    for await (const u of users.each()) {
      if (q && ![u.username, u.email, u.name, u.id].some((value) => value.toLowerCase().includes(q))) continue;
      total += 1;
      if (first.length === SEARCH_LIMIT && byUsername(u, first[SEARCH_LIMIT - 1]!) >= 0) continue;
      let at = first.length;
      while (at > 0 && byUsername(u, first[at - 1]!) < 0) at -= 1;
      first.splice(at, 0, u);
      if (first.length > SEARCH_LIMIT) first.pop();
    }
    // A deletion cut off part-way is shown until the hub has finished it (users/pending-deletions.ts).
    const pendingDeletions = await services.pendingDeletions.list();
    const deleting = new Set(pendingDeletions.map((pending) => pending.userId));
    // An unverified self-sign-up shows when it will be removed (HUB_UNVERIFIED_ACCOUNT_DAYS).
    const shown = first.map((u) => ({ ...u, removeAt: services.unverified.removalTime(u), deletionPending: deleting.has(u.id) }));
    return { section: 'users', q, users: shown, total, pendingDeletions };
  }

  router.get('/admin/users', async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.trim().toLowerCase() : '';
    renderAdmin(req, res, services, 'users.njk', await listed(q));
  });

  router.post('/admin/users', async (req, res) => {
    const values = { username: field(req, 'username'), email: field(req, 'email'), name: field(req, 'name'), admin: field(req, 'admin') === 'yes' };
    let user;
    try {
      user = await users.create({ ...values, password: field(req, 'password'), roles: values.admin ? [ADMIN_ROLE] : [] });
    } catch (error) {
      // A refused value (a taken username, a weak password): the form again, with what was typed
      // (never the password) and why, inside the console (a review: a bare page lost it all).
      if (!isFormError(error)) throw error;
      renderAdmin(req, res, services, 'users.njk', { ...(await listed('')), createError: friendlyError(error), createValues: values }, error.status);
      return;
    }
    await audit.record({ event: 'admin.user.create', ...actorOf(req, res), subject: user.id, detail: { username: user.username, admin: user.roles.includes(ADMIN_ROLE) } });
    res.redirect(303, `/admin/users/${encodeURIComponent(user.id)}?done=user-created`);
  });

  // HUB_SIGNUP=invite: a single-use sign-up link, shown once (its digest is all the store keeps).
  router.post('/admin/invites', async (req, res) => {
    const email = field(req, 'email');
    const days = parseInviteDays(field(req, 'days') || '7');
    const { link, invite } = await services.invites.create({ createdBy: actorOf(req, res).actor, ...(email ? { email } : {}), days });
    await audit.record({ event: 'admin.invite.create', ...actorOf(req, res), detail: { bound: Boolean(invite.email) } });
    renderAdmin(req, res, services, 'invite.njk', { section: 'users', link, invite, signupMode: services.config.HUB_SIGNUP });
  });

  router.get('/admin/users/:id', async (req, res) => {
    const user = await users.require(String(req.params.id));
    const sessions = await lifecycle.sessionsOf(user.id);
    const registered = new Map((await clients.list()).map((client) => [client.clientId, client]));
    const visible = (clientId: string) => !registered.get(clientId)?.internal;
    const signedInTo = [...new Set(sessions.flatMap((s) => s.clients.map((c) => c.clientId)))].filter(visible);
    const remembered = (await consents.clientsOf(user.id)).map((c) => c.clientId).filter(visible);
    renderAdmin(req, res, services, 'user.njk', {
      section: 'users',
      user: { ...toPublic(user), removeAt: services.unverified.removalTime(user) },
      sessions: sessions.map((s) => ({ ...s, clients: s.clients.filter((c) => visible(c.clientId)) })),
      signedInTo,
      remembered,
      twoStepOn: await services.twoStepRecords.isEnabled(user.id),
      clientName: (id: string) => registered.get(id)?.name ?? id,
    });
  });

  router.post('/admin/users/:id/password', async (req, res) => {
    const user = await users.require(String(req.params.id));
    notSelf(res, user.id, 'password');
    const password = field(req, 'password');
    if (password !== field(req, 'confirm')) throw new ValidationError(msg('errors:passwordsDiffer'));
    await users.setPassword(user.id, password);
    // A reset password means whoever had the old one is out: hub sessions, grants and
    // tokens end, and every subsite is told (the same forced logout as a disable).
    await lifecycle.forceLogout(user.id, 'password-reset');
    await audit.record({ event: 'admin.user.password', ...actorOf(req, res), subject: user.id });
    // The owner hears of it (ASVS 5 §6.3.7), in their own language: a reset they did not ask
    // for (a stolen admin session, a mistaken account) does not go unseen.
    services.notices.passwordChanged(user, user.locale ?? 'en');
    res.redirect(303, `/admin/users/${encodeURIComponent(user.id)}?done=password-reset`);
  });

  router.post('/admin/users/:id/disable', async (req, res) => {
    // Resolve first: the parameter may be a username or e-mail, and the guard compares ids.
    const { id } = await users.require(String(req.params.id));
    notSelf(res, id, 'disable');
    await lifecycle.disable(id, actorOf(req, res));
    res.redirect(303, `/admin/users/${encodeURIComponent(id)}?done=disabled`);
  });

  router.post('/admin/users/:id/enable', async (req, res) => {
    const id = String(req.params.id);
    await lifecycle.enable(id, actorOf(req, res));
    res.redirect(303, `/admin/users/${encodeURIComponent(id)}?done=enabled`);
  });

  router.post('/admin/users/:id/delete', async (req, res) => {
    // Resolve first: the parameter may be a username or e-mail, and the guard compares ids.
    const { id } = await users.require(String(req.params.id));
    notSelf(res, id, 'delete');
    await lifecycle.delete(id, actorOf(req, res));
    res.redirect(303, '/admin/users?done=deleted');
  });

  // The admin role: given or taken here or with `users grant-admin|revoke-admin` (admin-role.ts).
  router.post('/admin/users/:id/grant-admin', async (req, res) => {
    const { user } = await setAdminRole(services, String(req.params.id), true, actorOf(req, res));
    res.redirect(303, `/admin/users/${encodeURIComponent(user.id)}?done=admin-granted`);
  });

  router.post('/admin/users/:id/revoke-admin', async (req, res) => {
    // Resolve first: the parameter may be a username or e-mail, and the guard compares ids.
    const { id } = await users.require(String(req.params.id));
    notSelf(res, id, 'admin');
    await setAdminRole(services, id, false, actorOf(req, res));
    res.redirect(303, `/admin/users/${encodeURIComponent(id)}?done=admin-revoked`);
  });

  router.post('/admin/users/:id/sessions/:uid/end', async (req, res) => {
    const { id } = await users.require(String(req.params.id));
    await lifecycle.endSession(id, String(req.params.uid), actorOf(req, res));
    res.redirect(303, `/admin/users/${encodeURIComponent(id)}?done=session-ended`);
  });

  router.post('/admin/users/:id/sessions/end-all', async (req, res) => {
    const { id } = await users.require(String(req.params.id));
    await lifecycle.endAllSessions(id, actorOf(req, res));
    res.redirect(303, `/admin/users/${encodeURIComponent(id)}?done=sessions-ended`);
  });

  return router;
}
