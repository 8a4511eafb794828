import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { localeOfContext } from '../i18n/locale-middleware.js';
import { ProtocolHooks } from './protocol-hooks.js';
import { renderSyncTemplate, syncMarkup, type SyncPlanner } from '../sync/sync-page.js';
import type { Views } from '../views/views.js';
import { signedInAs } from './signed-in-as.js';

/**
 * Where the end-session state (oidc-provider's `session.state`, kept in the store between GET
 * /session/end and POST /session/end/confirm) holds the user a validated `id_token_hint` named,
 * when the browser's hub session had already expired. Only the hub writes it (below); never read
 * from a form.
 */
const HINT_SUB = 'hubHintSub';

/**
 * The `sub` of the `id_token_hint` oidc-provider validated at GET (or POST) /session/end, when the
 * request went through (200) for a browser with no live hub session. oidc-provider sets the
 * `Client` entity of a hint only after the hint's signature, issuer and audience checked out, so
 * a hint whose client is that entity was validated.
 */
function validatedHintSub(ctx: KoaContextWithOIDC): string | undefined {
  if (ctx.status !== 200 || typeof ctx.oidc.params?.id_token_hint !== 'string') return undefined;
  const hint = ctx.oidc.entities.IdTokenHint as { payload?: { sub?: unknown; aud?: unknown } } | undefined;
  const client = ctx.oidc.entities.Client as { clientId?: string } | undefined;
  const sub = hint?.payload?.sub;
  if (!client?.clientId || hint?.payload?.aud !== client.clientId) return undefined;
  return typeof sub === 'string' && sub !== '' ? sub : undefined;
}

/**
 * After oidc-provider ends a session (POST /session/end/confirm with logout=yes), answer
 * with the sync page (synclogout beacons to the subsites that session signed in to, not to
 * every registered one) instead of the bare redirect, then continue to where oidc-provider was sending the browser: the registered
 * post-logout URI or the hub's signed-out page.
 *
 * A hub session that had already expired (idle: subsite page views do not refresh it) has no
 * authorizations to read. When that sign-out came with a valid `id_token_hint`, its user's `sub`
 * is kept in the end-session state at GET /session/end, and the confirm pings the subsites that
 * account uses (`forExpiredSignOut`: codes for any hub session of this browser that carry the
 * `sub`). Without one (or with no user known), nothing is pinged, as before. Nor when this browser's
 * last hub sign-in was not that user's (signed-in-as.ts): an ID token names its user, it does not
 * show that the browser is theirs.
 */
export function installLogoutSync(provider: Provider, sync: SyncPlanner, views: Views, waitMs: number, secureCookies: boolean): void {
  const hooks = ProtocolHooks.of(provider);
  hooks.after(['end_session'], async (ctx) => {
    const session = ctx.oidc.session;
    // A live session: its authorizations say where to sign out. oidc-provider saved the
    // end-session state already (inside its route); the hint's user is added and saved again,
    // only on this path (no live session, a validated hint).
    if (!session || session.accountId || (session as { destroyed?: boolean }).destroyed || !session.state) return;
    const sub = validatedHintSub(ctx);
    if (!sub || typeof session.exp !== 'number') return;
    // Any holder of the user's ID token (each subsite they signed in to; logs of the URL it rode in)
    // could otherwise read, in a browser of their own, which subsites the user uses and take logout
    // codes naming the user to plant in a page the user opens.
    if (!signedInAs(ctx, secureCookies, sub)) return;
    (session.state as Record<string, unknown>)[HINT_SUB] = sub;
    await session.persist();
  });
  hooks.after(['end_session_confirm'], async (ctx) => {
    // Only a sign-out that ended its session: the error page's 303 for a stale question (provider.ts)
    // sends a browser signed in since to the question again, and must not ping that session's subsites.
    if (ctx.status !== 303 || !(ctx.oidc.session as { destroyed?: boolean } | undefined)?.destroyed) return;
    const params = ctx.oidc.params as { logout?: string } | undefined;
    if (!params?.logout) return; // "No": the hub session stays (oidc-provider signs the browser out of the asking site alone, by back-channel), no sync page
    const accountId = ctx.oidc.session?.accountId;
    const hintSub = accountId ? undefined : (ctx.oidc.session?.state as Record<string, unknown> | undefined)?.[HINT_SUB];
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
    const plan = typeof hintSub === 'string' && hintSub !== ''
      ? await sync.forExpiredSignOut(hintSub)
      : await sync.forSignOut(accountId, authorizations, { scripts: !switching, switching });
    ctx.remove('Location');
    ctx.status = 200;
    ctx.type = 'html';
    ctx.set('Content-Security-Policy', plan.csp);
    ctx.body = renderSyncTemplate(views, { act: plan.act, markup: syncMarkup(plan), continueUrl, waitMs }, localeOfContext(ctx));
  });
}
