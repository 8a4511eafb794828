import cookieParser from 'cookie-parser';
import { Router, type Request, type Response } from 'express';
import { messageOf, msg, ValidationError } from '../errors.js';
import { clientIp } from '../http/client-ip.js';
import { translator } from '../i18n/i18n.js';
import { localeOf } from '../i18n/locale-middleware.js';
import { csrf } from '../security/csrf.js';
import type { HubServices } from '../services.js';
import { renderPage } from './render.js';
import { PORTAL_CLIENT_ID } from './portal-routes.js';
import { checkedSignIn, completeSignIn, pendingSecondStep, secondStepRoutes, showSecondStep, signInGenerationOf, startSecondStep } from './second-step.js';
import { rememberCancelledSignIn, rememberFinishedSignIn, staleSignIn } from './stale-sign-in.js';
import { saveSession } from '../http/portal-session.js';
import { keepOfflineGrant } from '../oidc/grant-ttl.js';
import { interactionDetails } from './interaction-details.js';
import { signInAnswersHint } from '../oidc/id-token-hint.js';

function field(req: Request, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/**
 * The hub's sign-in and consent pages, as oidc-provider interactions. Every sign-in, from
 * the portal or from a subsite, ends here, so this is where the sync page is rendered.
 */
export function interactionRoutes(services: HubServices): Router {
  const { provider, views, users, devices, clients, config, audit, passwordCheck } = services;
  const router = Router();

  async function showLogin(req: Request, res: Response, uid: string, options: { error?: string; login?: string; status?: number; unverified?: boolean; invalid?: boolean } = {}) {
    const details = await interactionDetails(provider, req, res);
    const client = await clients.find(String(details.params.client_id));
    const formNotSaved = req.session?.formNotSaved === true;
    if (formNotSaved) delete req.session.formNotSaved;
    // A portal sign-in form sent after its page expired started this one (stale-sign-in.ts): said
    // once, with the login that was typed there.
    const restarted = req.session?.restartedSignIn;
    if (restarted) delete req.session.restartedSignIn;
    const clientId = String(details.params.client_id);
    renderPage(res, views, 'hub/login.njk', {
      formNotSaved,
      restarted: restarted !== undefined,
      uid,
      csrfToken: csrf.generateToken(req),
      client: client && !client.internal ? client : undefined,
      clientId,
      // Where the portal's sign-in goes (GET /login's next): a form sent after the page expired starts it again.
      portalNext: clientId === PORTAL_CLIENT_ID ? req.session?.portalLogins?.[String(details.params.state)] ?? '/account' : undefined,
      login: options.login ?? restarted?.login ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
      error: options.error,
      // The typed username or password was wrong (not a wait or a busy hub): both fields are marked invalid.
      invalid: options.invalid === true,
      unverified: options.unverified === true,
      // Sign-up is offered on the sign-in page only when anyone may sign up and mail can be sent.
      signupOpen: config.HUB_SIGNUP === 'open' && services.mailer.available,
    }, options.status ?? 200);
  }

  router.get('/interaction/:uid', async (req, res) => {
    const details = await interactionDetails(provider, req, res);
    if (details.prompt.name === 'login') {
      // Password done, second step pending: the code page, not the password form again.
      if (pendingSecondStep(req, details.uid)) return showSecondStep(services, req, res, details.uid);
      return showLogin(req, res, details.uid);
    }
    const client = await clients.require(String(details.params.client_id));
    const missing = (details.prompt.details.missingOIDCScope as string[] | undefined) ?? [];
    // prompt=consent asks again for what the grant holds already (OIDC Core §3.1.2.1), and it is
    // how a site gets offline_access (§11), a trusted one too: nothing is missing then, and the
    // page listed nothing under "would like to". It lists the scopes asked for instead.
    const asked = missing.length > 0 ? missing : askedScopes(details.params, client.scope);
    // Where this page was going, known now: Allow sent after the page expired (an hour) goes on to
    // the subsite (stale-sign-in.ts), which offers to continue, not to the hub's account page.
    rememberFinishedSignIn(req, details.uid, details.params);
    return renderPage(res, views, 'hub/consent.njk', {
      uid: details.uid,
      // Whose consent this is: Allow sent after another account signed in here is told apart (stale-sign-in.ts).
      account: details.session?.accountId,
      csrfToken: csrf.generateToken(req),
      client,
      // Each scope's label comes from portal:consent.scopes.<scope> (the scope name where none).
      scopes: asked.map((scope) => ({ scope })),
    });
  });

  router.post('/interaction/:uid/login', cookieParser(), csrf.csrfSynchronisedProtection, async (req, res) => {
    const login = field(req, 'login').slice(0, 320);
    const password = field(req, 'password').slice(0, 1024);
    // The interaction and the user are read side by side (one wait on the store, not two); the
    // user is only a read, and nothing is checked or counted before the interaction is known.
    // Username and e-mail of one user share one failure count.
    const [details, found] = await Promise.all([interactionDetails(provider, req, res), users.findByLogin(login)]);
    if (details.prompt.name !== 'login') throw new ValidationError(msg('errors:signInStepDone'));
    // A browser with this account's device cookie is judged by its own failures only (OWASP
    // device cookies): nobody else's failures can lock the owner out of it.
    const device = found ? devices.verify(found.id, signInGenerationOf(found), req.cookies as Record<string, unknown> | undefined) : undefined;
    // Whether a second step follows is read while the success is counted (one wait, not two).
    const outcome = await passwordCheck.check({ login, user: found, password, ip: clientIp(req), via: 'portal', ...(device ? { device } : {}), twoStep: 'with-success' });
    switch (outcome.kind) {
      case 'throttled':
        await audit.record({ event: 'login.throttled', actor: login, client: String(details.params.client_id), ip: clientIp(req) });
        res.setHeader('Retry-After', String(outcome.retryAfter));
        return showLogin(req, res, details.uid, { error: messageOf(outcome.error, translator(localeOf(res))), login, status: 429 });
      case 'busy':
        // Not checked (too many checks waiting): no failure (the attempt was given back), the form again.
        res.setHeader('Retry-After', String(outcome.retryAfter));
        return showLogin(req, res, details.uid, { error: messageOf(outcome.error, translator(localeOf(res))), login, status: 503 });
      case 'wrong':
        // The typed login is kept (not the password): it shows what an attacker is guessing at.
        await audit.record({ event: 'login.failure', actor: login, ...(outcome.user ? { subject: outcome.user.id } : {}), client: String(details.params.client_id), ip: clientIp(req) });
        return showLogin(req, res, details.uid, { error: translator(localeOf(res))('errors:wrongLogin'), login, status: 401, invalid: true });
      case 'unverified':
        // Told only after the right password: it reveals nothing to anyone who does not know it.
        await audit.record({ event: 'login.unverified', actor: outcome.user.id, subject: outcome.user.id, client: String(details.params.client_id), ip: clientIp(req) });
        return showLogin(req, res, details.uid, { error: translator(localeOf(res))('signup:errors.unverified'), login, status: 403, unverified: true });
      case 'gone':
        // An unverified self-sign-up removed a moment ago (past HUB_UNVERIFIED_ACCOUNT_DAYS) is answered as unknown.
        await audit.record({ event: 'login.failure', actor: login, subject: outcome.user.id, client: String(details.params.client_id), ip: clientIp(req) });
        return showLogin(req, res, details.uid, { error: translator(localeOf(res))('errors:wrongLogin'), login, status: 401 });
      case 'ok':
        break;
    }
    const { user, secondStep } = outcome;
    // The site asked for a given user (id_token_hint) and this is another: the right password, but
    // no answer for this account; the form again, to sign in as the one asked for or cancel.
    if (!signInAnswersHint(details.params, user.id)) {
      return showLogin(req, res, details.uid, { error: translator(localeOf(res))('errors:notHintedAccount'), login, status: 403 });
    }
    const remember = field(req, 'remember') === 'yes';
    // Two-step sign-in: no session until the second step (the device cookie comes with it too).
    if (secondStep) {
      await audit.record({ event: 'login.password', actor: user.id, subject: user.id, client: String(details.params.client_id), ip: clientIp(req), detail: { next: 'two-step' } });
      return startSecondStep(req, res, details.uid, user, remember);
    }
    const generation = signInGenerationOf(user);
    const issued = devices.issue(user.id, generation);
    res.cookie(issued.name, issued.value, issued.options);
    return completeSignIn(services, req, res, details, checkedSignIn(user, generation), remember);
  });

  router.post('/interaction/:uid/confirm', csrf.csrfSynchronisedProtection, async (req, res) => {
    const details = await interactionDetails(provider, req, res);
    if (details.prompt.name !== 'consent') throw new ValidationError(msg('errors:nothingToAgree'));
    const accountId = details.session!.accountId;
    const clientId = String(details.params.client_id);
    // Made with its client, so its lifetime can tell whether that client may refresh (grant-ttl.ts).
    const client = details.grantId ? undefined : await provider.Client.find(clientId);
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId, ...(client ? { client } : {}) });
    if (!grant) throw new ValidationError(msg('errors:consentExpired'));
    const promptDetails = details.prompt.details as Record<string, string[] | Record<string, string[]> | undefined>;
    const missingScope = promptDetails.missingOIDCScope as string[] | undefined;
    const missingClaims = promptDetails.missingOIDCClaims as string[] | undefined;
    const missingResource = promptDetails.missingResourceScopes as Record<string, string[]> | undefined;
    if (missingScope) grant.addOIDCScope(missingScope.join(' '));
    if (missingClaims) grant.addOIDCClaims(missingClaims);
    if (missingResource) for (const [indicator, scopes] of Object.entries(missingResource)) grant.addResourceScope(indicator, scopes.join(' '));
    keepOfflineGrant(grant, config.HUB_CONSENT_TTL);
    const grantId = await grant.save();
    // Remembered for the next sign-in sessions (each gets its own grant built from it).
    await services.consents.remember(accountId, clientId, { scope: grant.getOIDCScope(), claims: grant.getOIDCClaims() }, config.HUB_CONSENT_TTL);
    await audit.record({ event: 'consent.granted', actor: accountId, subject: accountId, client: clientId, ip: clientIp(req), detail: { scope: missingScope?.join(' ') ?? '' } });
    // The consent page is a sign-in page of its own (its own uid): Back to it after Allow goes
    // where the sign-in was going, as after the password page. Stored before the redirect goes out.
    rememberFinishedSignIn(req, details.uid, details.params);
    await saveSession(req);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  });

  /**
   * Cancel (sign-in page) and Deny (consent page): the interaction ends with `access_denied`
   * at the client's redirect URI (RFC 6749 §4.1.2.1), so a subsite gets the standard error
   * and carries on anonymous; the portal's own callback sends the browser to the hub's home.
   */
  router.post('/interaction/:uid/abort', csrf.csrfSynchronisedProtection, async (req, res) => {
    const details = await interactionDetails(provider, req, res);
    const accountId = details.session?.accountId;
    const cancelledLogin = details.prompt.name === 'login';
    await audit.record({
      event: cancelledLogin ? 'login.cancelled' : 'consent.denied',
      ...(accountId ? { actor: accountId, subject: accountId } : {}),
      client: String(details.params.client_id),
      ip: clientIp(req),
    });
    // Back from the site to this page then offers the way back to the site, not the hub.
    if (details.params.client_id !== PORTAL_CLIENT_ID) {
      rememberCancelledSignIn(req, details.uid, details.params);
      await saveSession(req);
    }
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: cancelledLogin ? 'The user cancelled the sign-in.' : 'The user did not allow access.' },
      { mergeWithLastSubmission: false },
    );
  });

  router.use(secondStepRoutes(services));

  // An old sign-in page in a browser signed in by now continues instead of an error page.
  router.use('/interaction/:uid', staleSignIn(services));
  return router;
}

/**
 * The scopes an authorization request asks for that its client may have, in its order:
 * `offline_access` only with `prompt=consent`, since the hub grants it only then (OIDC Core §11).
 */
function askedScopes(params: Record<string, unknown>, clientScope: string): string[] {
  const allowed = new Set(clientScope.split(' '));
  const prompts = typeof params.prompt === 'string' ? params.prompt.split(' ') : [];
  const requested = typeof params.scope === 'string' ? params.scope.split(' ') : [];
  return [...new Set(requested)].filter((scope) => allowed.has(scope) && (scope !== 'offline_access' || prompts.includes('consent')));
}
