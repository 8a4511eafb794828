import type Provider from 'oidc-provider';
import { localeOfContext } from '../i18n/locale-middleware.js';
import { ProtocolHooks } from './protocol-hooks.js';
import { renderSyncTemplate, syncMarkup, type SyncPlanner } from '../sync/sync-page.js';
import type { Views } from '../views/views.js';

/**
 * After oidc-provider ends a session (POST /session/end/confirm with logout=yes), answer
 * with the sync page (synclogout beacons to the subsites that session signed in to, not to
 * every registered one) instead of the bare redirect, then continue to where oidc-provider was sending the browser: the registered
 * post-logout URI or the hub's signed-out page.
 */
export function installLogoutSync(provider: Provider, sync: SyncPlanner, views: Views, waitMs: number): void {
  ProtocolHooks.of(provider).after(['end_session_confirm'], async (ctx) => {
    // Only a sign-out that ended its session: the error page's 303 for a stale question (provider.ts)
    // sends a browser signed in since to the question again, and must not ping that session's subsites.
    if (ctx.status !== 303 || !(ctx.oidc.session as { destroyed?: boolean } | undefined)?.destroyed) return;
    const params = ctx.oidc.params as { logout?: string } | undefined;
    if (!params?.logout) return; // "No": the hub session stays (oidc-provider signs the browser out of the asking site alone, by back-channel), no sync page
    const continueUrl = ctx.response.get('Location');
    // The ended session's authorizations (the clients it signed in to, each with the `sid` of
    // its ID tokens) are still on the in-memory session object after oidc-provider destroyed
    // the stored one.
    const authorizations = (ctx.oidc.session?.authorizations ?? {}) as Record<string, { sid?: string }>;
    // A sign-out that goes on to an authorization request is an account switch (oidc-provider ends
    // the old account's session before it resumes the sign-in of the next): the resume sets the
    // next account's session cookie while this page still runs, so a script beacon here could act
    // as that account, an admin's included (an outside review created an admin this way).
    const authorization = ctx.oidc.urlFor('authorization');
    const switching = new URL(continueUrl, authorization).href.startsWith(`${authorization}/`);
    const plan = await sync.forSignOut(ctx.oidc.session?.accountId, authorizations, { scripts: !switching, switching });
    ctx.remove('Location');
    ctx.status = 200;
    ctx.type = 'html';
    ctx.set('Content-Security-Policy', plan.csp);
    ctx.body = renderSyncTemplate(views, { act: plan.act, markup: syncMarkup(plan), continueUrl, waitMs }, localeOfContext(ctx));
  });
}
