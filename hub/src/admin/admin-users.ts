import { Router, type Request, type Response } from 'express';
import { msg, ValidationError } from '../errors.js';
import { friendlyError } from '../portal/friendly-error.js';
import type { HubServices } from '../services.js';
import { setAdminRole } from '../users/admin-role.js';
import { ADMIN_ROLE, toPublic, type PublicUser, type User } from '../users/user.js';
import { byUsername } from '../users/user-repository.js';
import { parseInviteDays } from '../signup/invites.js';
import { actorOf, field, isFormError, notSelf, renderAdmin } from './admin-context.js';
import { confirmedOrAsked } from './admin-confirm.js';
import { firstInOrder } from './first-in-order.js';
import { onceOnly } from './admin-sent-once.js';

const SEARCH_LIMIT = 200; // users listed per page
/**
 * Users read for one page of the list at most: a forum's 300,000 imported members took about
 * 8 s and 2.4 s of the hub's CPU to walk for every view of the page (2.5 s for 100,000 here).
 */
export const USERS_SCAN_LIMIT = 20_000;
/** A position in the walk, as `scan` answers it: Redis's SSCAN cursor, or the embedded store's. */
const CURSOR = /^(?:\d{1,20}|>[^\s]{1,200})$/;

/**
 * Users: search, create, reset password, disable/enable, delete (the forced logout), give or
 * take the admin role, their hub sessions and the subsites they signed in to, end one session or all.
 */
export function adminUserRoutes(services: HubServices): Router {
  const { users, lifecycle, consents, clients, audit } = services;
  const router = Router();

  /** The accounts `q` names exactly (a username, an e-mail address, an id): found through the indexes, whatever the walk reaches. */
  async function named(q: string): Promise<PublicUser[]> {
    const found = await Promise.all([users.findByLogin(q), users.findById(q)]);
    const unique = new Map(found.filter((u): u is User => u !== undefined && !u.removing).map((u) => [u.id, toPublic(u)]));
    return [...unique.values()];
  }

  /**
   * The users page's list: those matching `q` (all when empty), at most SEARCH_LIMIT, sorted by
   * username, from at most USERS_SCAN_LIMIT users read from `from` on; past that the page says
   * where it stopped and links to the next part. Exact names come first, from the indexes.
   */
  async function listed(q: string, from = '0', after = ''): Promise<Record<string, unknown>> {
    // Exact names head the first page of a part only; the pages after it go on by username, and
    // leave them out too: shown first already, they came again in their place among the rest
    // ("bob" on the first page of a search for bob, and again on the second: 302 rows for 301).
    const exactNames = q ? await named(q) : [];
    const exact = after ? [] : exactNames;
    const { users: read, next, examined } = await users.scan(from, USERS_SCAN_LIMIT);
    const matches = read.filter((u) => !exactNames.some((e) => e.id === u.id) && (!q || [u.username, u.email, u.name, u.id].some((value) => value.toLowerCase().includes(q))));
    // `after`: the page goes on past that username (the previous page's last), within the same part.
    const following = after ? matches.filter((u) => byUsername(u, { username: after }) > 0) : matches;
    // Rows before this page: the exact names the first page showed, and the matches up to `after`.
    const start = after ? exactNames.length + matches.length - following.length : 0;
    // The page's first ones by username, not all of the part sorted (20,000 users: 60 to 100 ms of
    // the event loop per view in the collation's comparisons).
    const first = firstInOrder(following, Math.max(0, SEARCH_LIMIT - exact.length), byUsername);
    const last = first.at(-1);
    // More matches in this part than the page shows: it says which it shows and links to the next ones.
    const moreUrl = last && first.length < following.length ? `/admin/users?${new URLSearchParams({ ...(q ? { q } : {}), ...(from !== '0' ? { from } : {}), after: last.username }).toString()}` : undefined;
    // A deletion cut off part-way is shown until the hub has finished it (users/pending-deletions.ts).
    const pendingDeletions = await services.pendingDeletions.list();
    const deleting = new Set(pendingDeletions.map((pending) => pending.userId));
    // An unverified self-sign-up shows when it will be removed (HUB_UNVERIFIED_ACCOUNT_DAYS).
    const shown = [...exact, ...first].map((u) => ({ ...u, removeAt: services.unverified.removalTime(u), deletionPending: deleting.has(u.id) }));
    // The whole list in one page (up to USERS_SCAN_LIMIT users), or a part of it: then the count of
    // all users comes from the set's size, matches are counted among those read, and a link goes on.
    const partial = next !== '0' || from !== '0';
    const nextUrl = next === '0' ? undefined : `/admin/users?${new URLSearchParams({ ...(q ? { q } : {}), from: next }).toString()}`;
    const total = q ? exactNames.length + matches.length : partial ? await users.count() : read.length;
    // Which of the part's matches the page shows (the exact names, first, among them).
    const range = { from: start + 1, to: start + shown.length, of: exactNames.length + matches.length };
    // Past the last page (a link kept from before users were removed, an `after` typed or edited):
    // said, with a link to the first page, not an empty table under "302 users." with no way back.
    const firstUrl = `/admin/users${q || from !== '0' ? `?${new URLSearchParams({ ...(q ? { q } : {}), ...(from !== '0' ? { from } : {}) }).toString()}` : ''}`;
    const pastEnd = after && shown.length === 0 && total > 0 ? { after, firstUrl } : undefined;
    return { section: 'users', q, users: shown, total, partial, examined, pendingDeletions, ...(pastEnd ? { pastEnd } : {}), ...(nextUrl ? { nextUrl } : {}), ...(shown.length && (moreUrl || start > 0) ? { shownRange: range } : {}), ...(moreUrl ? { moreUrl } : {}) };
  }

  router.get('/admin/users', async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.trim().toLowerCase() : '';
    const from = typeof req.query.from === 'string' && CURSOR.test(req.query.from) ? req.query.from : '0';
    const after = typeof req.query.after === 'string' && req.query.after.length <= 200 ? req.query.after : '';
    renderAdmin(req, res, services, 'users.njk', await listed(q, from, after));
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
    const render = (template: string, context: Record<string, unknown>, status: number) => renderAdmin(req, res, services, template, { section: 'users', ...context }, status);
    // Sent again (a reload of the answer, a double click): one link made, shown once.
    await onceOnly(services, req, 'invite', '/admin/users', async (claim) => {
      const email = field(req, 'email');
      const days = parseInviteDays(field(req, 'days') || '7');
      let made;
      try {
        made = await services.invites.create({ createdBy: actorOf(req, res).actor, ...(email ? { email } : {}), days });
      } catch (error) {
        // A refused value (days out of range, an address that is not one): the users page again,
        // the reason beside the invite form and what was typed in it, as the create form does.
        // Before, a bare error page that lost both, its link back to the overview.
        if (!isFormError(error)) throw error;
        await claim.release();
        renderAdmin(req, res, services, 'users.njk', { ...(await listed('')), inviteError: friendlyError(error), inviteValues: { email, days: field(req, 'days') } }, error.status);
        return;
      }
      const { link, invite } = made;
      await audit.record({ event: 'admin.invite.create', ...actorOf(req, res), detail: { bound: Boolean(invite.email) } });
      renderAdmin(req, res, services, 'invite.njk', { section: 'users', link, invite, signupMode: services.config.HUB_SIGNUP });
    }, render);
  });

  /** A user's page, with what an answer adds to it (a refused password's reason). */
  async function userPage(req: Request, res: Response, user: User, extra: Record<string, unknown> = {}, status?: number): Promise<void> {
    const sessions = await lifecycle.sessionsOf(user.id);
    const registered = new Map((await clients.list()).map((client) => [client.clientId, client]));
    const visible = (clientId: string) => !registered.get(clientId)?.internal;
    const signedInTo = [...new Set(sessions.flatMap((s) => s.clients.map((c) => c.clientId)))].filter(visible);
    const remembered = (await consents.clientsOf(user.id)).map((c) => c.clientId).filter(visible);
    renderAdmin(req, res, services, 'user.njk', {
      section: 'users',
      // A deletion being finished: marked, and no Enable button (lifecycle.enable refuses it).
      user: { ...toPublic(user), removeAt: services.unverified.removalTime(user), deletionPending: (await services.pendingDeletions.get(user.id))?.phase === 'deleting' },
      sessions: sessions.map((s) => ({ ...s, clients: s.clients.filter((c) => visible(c.clientId)) })),
      signedInTo,
      remembered,
      twoStepOn: await services.twoStepRecords.isEnabled(user.id),
      clientName: (id: string) => registered.get(id)?.name ?? id,
      ...extra,
    }, status);
  }

  router.get('/admin/users/:id', async (req, res) => {
    await userPage(req, res, await users.require(String(req.params.id)));
  });

  router.post('/admin/users/:id/password', async (req, res) => {
    const user = await users.require(String(req.params.id));
    notSelf(res, user.id, 'password');
    const password = field(req, 'password');
    try {
      if (password !== field(req, 'confirm')) throw new ValidationError(msg('errors:passwordsDiffer'));
      await users.setPassword(user.id, password);
    } catch (error) {
      // Too short, too long, the two differing: the user's page again with the reason beside the
      // form (a password is never typed back). Before, a bare page whose link led to the users list.
      if (!isFormError(error)) throw error;
      await userPage(req, res, user, { passwordError: friendlyError(error) }, error.status);
      return;
    }
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
    // Disabled already (another admin, the CLI, this page sent twice): nothing ended or sent again, and the page says so.
    // Never the last enabled admin: two admins disabling each other at once leave one of them.
    const { alreadyDisabled } = await lifecycle.disable(id, actorOf(req, res), { keepAnAdmin: true });
    res.redirect(303, `/admin/users/${encodeURIComponent(id)}?done=${alreadyDisabled ? 'already-disabled' : 'disabled'}`);
  });

  router.post('/admin/users/:id/enable', async (req, res) => {
    const id = String(req.params.id);
    const { alreadyEnabled } = await lifecycle.enable(id, actorOf(req, res));
    res.redirect(303, `/admin/users/${encodeURIComponent(id)}?done=${alreadyEnabled ? 'already-enabled' : 'enabled'}`);
  });

  router.post('/admin/users/:id/delete', async (req, res) => {
    // Resolve first: the parameter may be a username or e-mail, and the guard compares ids.
    const user = await users.require(String(req.params.id));
    const { id } = user;
    notSelf(res, id, 'delete');
    const page = `/admin/users/${encodeURIComponent(id)}`;
    if (!confirmedOrAsked(req, res, services, { kind: 'deleteUser', section: 'users', action: `${page}/delete`, cancel: page, what: { name: user.name, username: user.username } })) return;
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
