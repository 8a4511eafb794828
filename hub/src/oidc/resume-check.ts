import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditLog } from '../audit/audit-log.js';
import { storeUnavailableOf } from '../store/store.js';
import type { UserRepository } from '../users/user-repository.js';
import { translator } from '../i18n/i18n.js';
import { localeOfContext } from '../i18n/locale-middleware.js';
import { refuseFromHook, storeDownFromHook, type HookPageRender } from './hook-answer.js';
import { ProtocolHooks } from './protocol-hooks.js';
import { signInBindingCookieName, signInBindingMatches } from '../security/sign-in-binding.js';

/** What a portal sign-in leaves on its interaction for oidc-provider's resume. */
export type SignInResult = {
  login: { accountId: string; amr: string[]; remember: boolean };
  /**
   * The user's sign-in generation when the password was checked (see `User.signInGeneration`):
   * always written by this version; absent when an older hub checked the password.
   */
  signInGeneration?: string;
  /**
   * The browser's sign-in binding (security/sign-in-binding.ts): the interaction the sign-in
   * finished on (its cookie's name; a consent page after it is another interaction, whose result
   * oidc-provider merges with this one) and the SHA-256 of the cookie's token. Only that browser
   * resumes the login. Always written by this version; absent when an older hub finished the
   * sign-in (a rolling update), which is then resumed as before.
   */
  browser?: { uid: string; digest: string };
};

/**
 * Whether the sign-in's password was checked in the user's current sign-in generation. A result
 * without the field was written by a hub from before it (a rolling update or a rollback runs
 * both versions on one store): that hub checked the password and records no generation, so
 * there is nothing to compare, and it counts as current. Compared as `''` against a record with
 * none, it refused every sign-in whose password went to an older process and whose resume came
 * to a newer one, for each user whose sign-ins a newer process had once ended (a password reset,
 * "end all sessions"): the sign-in page again, at every other try behind a round-robin balancer.
 * The newer hub always writes the field (`''` for a user without a generation).
 */
function sameGeneration(current: string | undefined, result: Partial<SignInResult>): boolean {
  if (typeof result.signInGeneration !== 'string') return true;
  return (current ?? '') === result.signInGeneration;
}

/**
 * Whether the address a sign-in returns to is still one its client registers. oidc-provider
 * checks `redirect_uri` when the request comes in, not when it resumes: a redirect URI an
 * admin removed meanwhile (a subsite moved to a new domain, an old address given up) still got
 * the code, up to the interaction's hour later (an outside review). A client that is gone is
 * left to oidc-provider, which refuses the resume itself.
 */
async function redirectStillRegistered(provider: Provider, params: Record<string, unknown>): Promise<boolean> {
  const { client_id: clientId, redirect_uri: redirectUri } = params;
  if (typeof clientId !== 'string' || typeof redirectUri !== 'string') return true;
  const client = await provider.Client.find(clientId);
  return !client || client.redirectUriAllowed(redirectUri);
}

/** oidc-provider's resume route, `/auth/:uid` (its routing ignores case and decodes the uid). */
const RESUME_PATH = /^\/auth\/[^/]+\/?$/i;

/**
 * A sign-in whose password was checked before the hub ended the user's sign-ins (a password
 * reset or change, disabling, "end all sessions"), or whose user is disabled or gone by now,
 * gives no session when it resumes: an outside review parked a sign-in on its sync page, had
 * the admin reset the password and end every session, then followed the page's continue link
 * and was signed in with the old password. Such a sign-in's login is taken off its interaction
 * before oidc-provider resumes it, so the browser is asked to sign in again (a new sign-in
 * page), and it is audited. So is a login resumed by a browser without the sign-in's binding
 * cookie (security/sign-in-binding.ts: another browser's resume or interaction cookie, planted
 * by a sibling host), audited as `login.resumed-elsewhere`. Only resumes that carry a login pay
 * for the user's read; every resume looks its client up (in the client cache, refreshed once a
 * second) to check its redirect URI.
 */
export function installResumeCheck(provider: Provider, users: UserRepository, audit: AuditLog, render: HookPageRender, secureCookies = false): void {
  /** Takes the login off the interaction (the browser is asked to sign in again) and audits why. */
  const takeLoginOff = async (ctx: KoaContextWithOIDC, interaction: InstanceType<Provider['Interaction']>, result: Partial<SignInResult>, event: 'login.ended-before-resume' | 'login.resumed-elsewhere', accountId: string) => {
    const { login: _ended, signInGeneration: _generation, browser: _browser, ...rest } = result;
    interaction.result = Object.keys(rest).length > 0 ? rest : undefined;
    await interaction.save(Math.max(1, interaction.exp - Math.floor(Date.now() / 1000)));
    await audit.record({ event, actor: accountId, subject: accountId, client: String(interaction.params.client_id ?? ''), ip: ctx.ip });
  };
  const check = async (ctx: KoaContextWithOIDC, uid: string): Promise<boolean> => {
    try {
      const interaction = await provider.Interaction.find(uid);
      if (interaction && !(await redirectStillRegistered(provider, interaction.params))) {
        const clientId = String(interaction.params.client_id ?? '');
        await audit.record({ event: 'login.redirect-uri-gone', client: clientId, ip: ctx.ip, detail: { redirect_uri: String(interaction.params.redirect_uri ?? '') } });
        const t = translator(localeOfContext(ctx));
        refuseFromHook(ctx, render, {
          status: 400,
          error: 'invalid_request',
          title: t('errors:titles.signInExpired'),
          description: t('errors:descriptions.redirectUriGone'),
          jsonDescription: translator('en')('errors:descriptions.redirectUriGone'),
        });
        return false;
      }
      const result = interaction?.result as Partial<SignInResult> | undefined;
      const accountId = result?.login?.accountId;
      if (!interaction || !result || typeof accountId !== 'string') return true;
      // Only the browser that finished the sign-in resumes it (a planted resume or interaction
      // cookie otherwise let another browser take the login: security/sign-in-binding.ts).
      const { browser } = result;
      if (browser !== undefined && !(typeof browser.uid === 'string' && signInBindingMatches(browser.digest, ctx.cookies.get(signInBindingCookieName(secureCookies, browser.uid), { signed: false })))) {
        await takeLoginOff(ctx, interaction, result, 'login.resumed-elsewhere', accountId);
        return true;
      }
      const user = await users.findById(accountId);
      // The binding cookie is left to expire with the interaction: an account switch resumes twice
      // (oidc-provider's sign-out of the previous account comes back to `/auth/:uid`).
      if (user && !user.disabled && sameGeneration(user.signInGeneration, result)) return true;
      await takeLoginOff(ctx, interaction, result, 'login.ended-before-resume', accountId);
      return true;
    } catch (error) {
      // Fail closed: without the check, no resume. Nothing was read or consumed yet, so the
      // resume itself (its path, which RESUME_PATH matched: `/auth/…`, never `//host`) is the
      // page's "Try again": once the store is back it finishes the sign-in, no password asked.
      if (!storeUnavailableOf(error)) throw error;
      storeDownFromHook(ctx, render, ctx.path);
      return false;
    }
  };
  const resumeCookie = provider.cookieName('resume');
  ProtocolHooks.of(provider).before((ctx) => {
    // GET and HEAD (oidc-provider's router answers both on a GET route). The interaction is the
    // one oidc-provider resumes: named by the signed resume cookie, not by the path (which it
    // decodes: a review resumed `/auth/%41bc…` past a check that read the raw path).
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !RESUME_PATH.test(ctx.path)) return true;
    const uid = ctx.cookies.get(resumeCookie, { signed: true });
    return uid ? check(ctx, uid) : true; // no cookie: oidc-provider refuses the resume itself
  });
}
