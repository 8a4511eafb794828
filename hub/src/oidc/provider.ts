import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { trustProxySetting } from '../http/client-ip.js';
import { ID_TOKEN_TTL, type HubConfig } from '../config.js';
import { STALE, type ClientRegistry } from '../clients/client-registry.js';
import type { SubsiteClient } from '../clients/client.js';
import { toOidcMetadata } from '../clients/oidc-metadata.js';
import type { Keys } from '../store/keys.js';
import { isStoreUnavailable, STORE_RETRY_AFTER, type Store } from '../store/store.js';
import type { UserRepository } from '../users/user-repository.js';
import type { Views } from '../views/views.js';
import { SIGNING_ALGS, type Jwks } from '../secrets/secrets.js';
import { CLAIMS, createFindAccount } from './account.js';
import { createAdapterFactory } from './adapter.js';
import { grantTtl, keepOfflineGrant } from './grant-ttl.js';
import { endSessionsAtMaximum, sessionTtl } from './session-ttl.js';
import { ReadAhead } from './read-ahead.js';
import { cacheClientsByMetadata } from './client-cache.js';
import type { ConsentIndex } from './consents.js';
import type { GrantIndex } from './grant-index.js';
import { answerUnmatched, isBrowserEndpoint } from './unknown-endpoint.js';
import { ProtocolHooks } from './protocol-hooks.js';
import { constructWithSharedOidcGetter } from './shared-oidc-getter.js';
import { authorizationRequestPath } from './authorization-request.js';
import { Redemptions } from './redemption.js';
import { revokeGrant } from './revoke-grant.js';
import { addSelectAccountPrompt } from './select-account.js';
import { signInOf, type SessionIndex } from './session-index.js';
import { SessionGrants } from './session-grant.js';
import { isProgramEndpoint, wantsJson } from './hook-answer.js';
import { cameFromPostedForm } from './posted-forms.js';
import { LOCALES, translator } from '../i18n/i18n.js';
import { localeOfContext } from '../i18n/locale-middleware.js';
import { CookieSigner } from '../security/cookie-signer.js';
import { silentUnavailableTarget } from './silent-unavailable.js';
import { endedResumeSite } from './ended-resume.js';
import type { Clock } from '../store/store-clock.js';
import type { Logger } from '../logger.js';
import { checkClientSecretsByDigest, PreviousSecretWarnings } from './client-secret-check.js';

export interface ProviderDeps {
  config: HubConfig;
  store: Store;
  keys: Keys;
  users: UserRepository;
  clients: ClientRegistry;
  consents: ConsentIndex;
  grants: GrantIndex;
  sessions: SessionIndex;
  views: Views;
  jwks: Jwks;
  cookieKeys: string[];
  /** The clock claims of codes and refresh tokens are dated by: the store's (store-clock.ts); this process's when absent (the CLI). */
  clock?: Clock;
  /** Where a client authenticating with its previous secret is said (at warn); nowhere when absent (the CLI). */
  logger?: Logger;
}

/** Descriptions for errors whose own text would reveal internals. */
const SAFE_DESCRIPTIONS: Record<string, string> = {
  server_error: 'The sign-in service had a problem. Please try again.',
  temporarily_unavailable: 'The sign-in service is temporarily unavailable. Please try again shortly.',
};

/** The RFC 6749 JSON answer of a store that is down (fail closed, with failClosed's 503 and Retry-After). */
function unavailableBody(): { error: string; error_description: string } {
  return { error: 'temporarily_unavailable', error_description: SAFE_DESCRIPTIONS.temporarily_unavailable! };
}

/**
 * The hub session cookie's name. Behind https it carries the `__Host-` prefix: the browser then
 * takes it only from the hub's own origin, Secure, for Path=/ and with no Domain, so a sibling
 * host (a subsite on the same parent domain, an old forum with an XSS) cannot plant a session of
 * its choosing there (cookie tossing: a login CSRF at every subsite).
 */
export function hubSessionCookieName(secure: boolean): string {
  return secure ? '__Host-hub_session' : 'hub_session';
}

/** The hub session cookie's options (oidc-provider's "long" cookies); also used when the portal rotates its id. */
export function longCookieOptions(secure: boolean) {
  // Path=/ as `__Host-` requires (hubSessionCookieName).
  return { signed: true, httpOnly: true, sameSite: 'lax' as const, secure, path: '/' };
}

export { ID_TOKEN_TTL };



/** The parameter an authorization error is about, for the error page and the log: an unknown client or an unregistered redirect URI. */
export function receivedValue(ctx: KoaContextWithOIDC, code: string): { name: string; value: string } | undefined {
  const name = code === 'invalid_client' ? 'client_id' : code === 'invalid_redirect_uri' ? 'redirect_uri' : undefined;
  if (!name) return undefined;
  const params = (ctx.oidc?.params ?? ctx.query) as Record<string, unknown> | undefined;
  const value = params?.[name];
  if (typeof value !== 'string' || !value) return undefined;
  // Shown as text only, and only what a client id or a URL can be (printable ASCII, no spaces):
  // the page is no place for a sentence of someone else's ("Call … now" parses as a URL).
  if (!/^[\x21-\x7e]+$/.test(value) || value.length > (name === 'client_id' ? 100 : 300)) return undefined;
  if (name === 'redirect_uri' && !URL.canParse(value)) return undefined;
  return { name, value };
}

/**
 * Where "try again" goes once the store is back. A resume cannot be reloaded: oidc-provider
 * consumed its interaction before the session save failed, so the authorization request the
 * interaction held runs again (same client, redirect URI, state and PKCE challenge, as
 * validated when it came in). Any other page that is a GET can be reloaded as it is.
 * The link is a path on the hub: it never leads elsewhere.
 */
function retryAfterStoreFailure(ctx: KoaContextWithOIDC): string | undefined {
  // A kept form's GET: its URL holds what the site posted, and its handle is used up (the site starts over).
  if (ctx.method !== 'GET' || cameFromPostedForm(ctx.req)) return undefined;
  const params = ctx.oidc?.route === 'resume' ? (ctx.oidc.entities.Interaction as { params?: Record<string, unknown> } | undefined)?.params : undefined;
  if (!params) return ctx.originalUrl; // (a resume whose interaction could not be read is still there to resume)
  return authorizationRequestPath(params, new URL(ctx.oidc.urlFor('authorization')).pathname);
}

/**
 * The store is down: 503 with Retry-After, and nothing the route prepared before the failure
 * goes out with it (a redirect carrying a code, cookies of a session that was not saved).
 */
function failClosed(ctx: KoaContextWithOIDC): void {
  ctx.remove('Location');
  ctx.remove('Set-Cookie');
  ctx.status = 503;
  ctx.set('Retry-After', STORE_RETRY_AFTER);
}

/** oidc-provider's answer when a client uses a grant it was not registered for. */
const GRANT_NOT_ALLOWED = 'requested grant type is not allowed for this client';
const NO_CLIENT_AUTHENTICATION = 'no client authentication mechanism provided';
/** oidc-provider's answer at POST /session/end/confirm when the browser's session holds no sign-out question (its xsrf state). */
const NO_LOGOUT_DETAILS = 'could not find logout details';

/**
 * "Yes, sign me out" (or "No") sent from a sign-out question left open while the browser was
 * signed out in another tab: the session that asked is gone (the browser holds none, or one
 * started since, another user's perhaps), so oidc-provider finds no question to answer. The
 * browser is signed out of the session the form was for, which is what the person asked: the
 * signed-out page, not a 400 "invalid request"; where someone signed in since, the question again
 * for that session. Nothing is ended here (oidc-provider stopped before its sign-out), so a
 * session started since stays. A wrong xsrf token keeps its error.
 */
function isStaleSignOutForm(ctx: KoaContextWithOIDC, out: { error?: unknown; error_description?: unknown }, issuer: string): boolean {
  return ctx.oidc?.route === 'end_session_confirm' && ctx.method === 'POST'
    && out.error === 'invalid_request' && out.error_description === NO_LOGOUT_DETAILS
    && isFromTheHub(ctx, issuer);
}

/**
 * Whether a form came from one of the hub's own pages: the browser says so (`Sec-Fetch-Site:
 * same-origin`), or, from one that sends no Fetch Metadata, its `Origin` is the issuer's. Another
 * site's form POSTed to `/session/end/confirm` carries none of the hub's (SameSite=Lax) cookies,
 * so it too finds no sign-out question: it must not get "You are signed out" while the browser
 * stays signed in (a review of the change above), only the error page.
 */
function isFromTheHub(ctx: KoaContextWithOIDC, issuer: string): boolean {
  const site = ctx.get('sec-fetch-site');
  if (site) return site === 'same-origin';
  return ctx.get('origin') === new URL(issuer).origin;
}

/**
 * The default prompts plus one login check: a session whose account was disabled or
 * deleted since sign-in is no session. Without it oidc-provider finds no account for the
 * session's accountId and fails later (a 500 instead of login_required). And
 * `prompt=select_account`, which the sign-in page answers (select-account.ts).
 */
function interactionPolicyWithAccountCheck(): interactionPolicy.Prompt[] {
  const { base, Check } = interactionPolicy;
  const policy = base();
  policy.get('login')!.checks.add(
    new Check('account_unavailable', 'the signed-in account is no longer available', 'login_required', (ctx) =>
      ctx.oidc.session?.accountId && !ctx.oidc.account ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT,
    ),
  );
  addSelectAccountPrompt(policy);
  return policy;
}

/**
 * The hub's OAuth 2.0 / OpenID Connect engine: oidc-provider configured for the hub's
 * store, users, clients and pages. Protocol behaviour comes from the certified library;
 * this file only says which features are on and how the hub's data plugs in.
 */
export function createProvider(deps: ProviderDeps): Provider {
  const { config, store, keys, users, clients, consents, grants, sessions, views } = deps;
  const enabledGrants = new Set(['authorization_code', 'refresh_token', 'client_credentials', 'implicit']);
  if (config.HUB_ENABLE_PASSWORD_GRANT) enabledGrants.add('password');

  const metadataOf = new WeakMap<object, ReturnType<typeof toOidcMetadata>>();
  const redemptions = new Redemptions(store, keys, deps.clock);
  const readAhead = new ReadAhead(store, keys, (accountId) => users.recordKey(accountId));
  const sessionGrants = new SessionGrants(store, keys);
  // Built once per cached record (the registry hands out the same object until it reloads).
  const metadataOfClient = (client: SubsiteClient | undefined) => {
    if (!client) return undefined;
    let metadata = metadataOf.get(client);
    if (!metadata) metadataOf.set(client, (metadata = toOidcMetadata(client, enabledGrants)));
    return metadata;
  };
  // Without a promise while the client cache is fresh (Client.find runs several times per token request).
  const clientMetadata = (clientId: string) => {
    const cached = clients.peek(clientId);
    return cached === STALE ? clients.find(clientId).then(metadataOfClient) : metadataOfClient(cached);
  };
  const adapter = createAdapterFactory(store, keys, {
    findClient: clientMetadata,
    clientGeneration: (clientId) => clients.generationOf(clientId),
    stampOfRemovedClient: (clientId, stamp) => clients.stampOfRemovedClient(clientId, stamp),
    onSession: (accountId, sessionKey, ttl) => sessions.add(accountId, sessionKey, ttl),
    onSessionDestroyed: (accountId, sessionKey) => sessions.remove(accountId, sessionKey),
    endedByHub: (accountId, session) => sessions.endedByHub(accountId, session),
    onSessionEndedByHub: async (payload) => {
      const authorizations = (payload as { authorizations?: Record<string, { grantId?: string }> }).authorizations ?? {};
      for (const { grantId } of Object.values(authorizations)) if (grantId) await revokeGrant(provider, grantId);
    },
    onGrant: (accountId, clientId, grantId, ttl) => grants.add(accountId, clientId, grantId, ttl),
    onGrantDestroyed: (accountId, clientId, grantId) => grants.remove(accountId, clientId, grantId),
  }, { redemptions, readAhead });

  const configuration: Configuration = {
    adapter,
    findAccount: createFindAccount(users, readAhead),
    claims: CLAIMS,
    // Put the profile and email claims in the ID token too, so a subsite signs a user in with
    // one token request (no userinfo round trip on every lazy verification).
    conformIdTokenClaims: false,
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    jwks: deps.jwks as Configuration['jwks'],
    // What a client may register as `id_token_signed_response_alg` (RS256 by default), and
    // what discovery publishes; the key set holds a key of each (secrets/signing-keys.ts).
    // No HS* anywhere: a symmetric algorithm would take the client's `client_secret` as its key,
    // and the hub gives oidc-provider no secret, only a value no one knows (oidc-metadata.ts).
    // Request objects and client_secret_jwt are off besides; these lists say so twice.
    enabledJWA: { idTokenSigningAlgValues: [...SIGNING_ALGS], requestObjectSigningAlgValues: [...SIGNING_ALGS], clientAuthSigningAlgValues: [...SIGNING_ALGS] },
    cookies: {
      // keygrip's signatures without keygrip's per-comparison HMACs and random draw (cookie-signer.ts).
      keys: new CookieSigner(deps.cookieKeys),
      long: longCookieOptions(config.secureCookies),
      short: { signed: true, httpOnly: true, sameSite: 'lax', secure: config.secureCookies },
      names: { session: hubSessionCookieName(config.secureCookies), interaction: 'hub_interaction', resume: 'hub_resume' },
    },
    // ui_locales picks the sign-in pages' language (interaction-details.ts): discovery says which.
    discovery: { claim_types_supported: ['normal'], ui_locales_supported: [...LOCALES] },
    responseTypes: ['code', 'id_token token', 'none'],
    // RFC 9700 §2.1.1: PKCE on every authorization request unless a legacy client was registered without it.
    pkce: {
      required: (_ctx, client) => client.clientAuthMethod === 'none' || client['require_pkce'] !== false,
    },
    extraClientMetadata: { properties: ['require_pkce'] },
    // Exact redirect-URI matching also means the parameter is never implied.
    allowOmittingSingleRegisteredRedirectUri: false,
    // The client authentication a client can be registered with (the registry's AUTH_METHODS):
    // discovery names only these (it listed client_secret_jwt and private_key_jwt, which no client
    // here can use), and an assertion of another kind is refused as unsupported.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    // Refresh tokens for every client allowed the grant (the seeds' clients do not ask for offline_access).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // RFC 9700 §4.14.2: rotate on every use; reuse of a rotated token revokes the whole grant.
    rotateRefreshToken: true,
    // Each sign-in session has its own grant (consent is a record of its own), so revoking a
    // grant (signing out, refresh-token or code reuse, revocation of a refresh token) touches
    // this session's tokens only. Revoking an access token ends its grant's tokens too (what
    // oidc-provider does, as RFC 7009 §2.1 allows) but keeps the grant record.
    revokeGrantPolicy: (ctx) => !(ctx.oidc.route === 'revocation' && ctx.oidc.entities.AccessToken),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // RFC 7662 / RFC 7009: a client may introspect or revoke only tokens issued to itself.
      introspection: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: true },
      // RFC 8707: the hub serves no resource server of its own, so a `resource` parameter is
      // refused with invalid_target, as oidc-provider's default does; but its default also
      // printed "you MUST change it" to stderr, outside the JSON log, at the first one any
      // stranger sent (a bad-input sweep; hub/test/resource-indicator.test.ts).
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: async () => {
          throw new errors.InvalidTarget();
        },
      },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          // A valid id_token_hint (checked by oidc-provider before this runs) marks an intended
          // sign-out from a client: submit at once. Without one, the person confirms.
          // The hint must name the user who is signed in here: someone else's ID token must not
          // sign this browser out without a question (logout CSRF).
          const hint = ctx.oidc.entities.IdTokenHint as { payload?: { sub?: unknown } } | undefined;
          const auto = Boolean(ctx.oidc.params?.id_token_hint) && hint?.payload?.sub !== undefined && hint.payload.sub === ctx.oidc.session?.accountId;
          ctx.type = 'html';
          ctx.body = views.render('hub/logout.njk', { form, auto, clientName: ctx.oidc.client?.clientName, switchNext: ctx.method === 'GET' && !cameFromPostedForm(ctx.req) ? ctx.originalUrl : '/' }, localeOfContext(ctx));
        },
        postLogoutSuccessSource: async (ctx) => {
          // Back (or a bookmark) to the signed-out page in a browser signed in again since: its
          // account page, not "You are signed out" to someone who is signed in (a browser review).
          // Not the page of a sign-out of one site only (client_id: "No, sign me out of X only"),
          // which leaves the hub session as it is. oidc-provider loads no session on this route:
          // read, never saved here.
          const session = ctx.oidc.client ? undefined : await ctx.oidc.provider.Session.get(ctx);
          if (session?.accountId) {
            ctx.status = 303;
            ctx.redirect('/account');
            return;
          }
          ctx.type = 'html';
          ctx.body = views.render('hub/logged-out.njk', { clientName: ctx.oidc.client?.clientName, switchNext: '/login' }, localeOfContext(ctx));
        },
      },
    },
    ttl: {
      AccessToken: config.HUB_ACCESS_TOKEN_TTL,
      ClientCredentials: config.HUB_ACCESS_TOKEN_TTL,
      AuthorizationCode: 60, // RFC 9700: short-lived codes, one minute
      IdToken: ID_TOKEN_TTL,
      RefreshToken: config.HUB_REFRESH_TOKEN_TTL,
      Interaction: 3600, // an unfinished sign-in page is good for an hour
      // HUB_SESSION_TTL unused, and never past HUB_SESSION_MAX_TTL after the sign-in (session-ttl.ts).
      Session: sessionTtl(config) as NonNullable<Configuration['ttl']>['Session'],
      // A sign-in session's grant ends soon after its tokens can (grant-ttl.ts); the consent has its own record.
      Grant: grantTtl(config) as NonNullable<Configuration['ttl']>['Grant'],
    },
    interactions: { policy: interactionPolicyWithAccountCheck(), url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    loadExistingGrant: async (ctx) => loadSessionGrant(ctx, clients, consents, sessions, sessionGrants, config.HUB_CONSENT_TTL, config.HUB_ACCESS_TOKEN_TTL),
    clientBasedCORS: (ctx, origin, client) => corsAllowed(ctx, origin, [...(client.redirectUris ?? [])]),
    renderError: async (ctx, out, error) => errorPage(ctx, out, error),
  };

  /**
   * The error page of oidc-provider's routes; a store that is down fails closed (see {@link failClosed}).
   * oidc-provider asks for a page whenever the request prefers HTML, on every route; at an endpoint
   * only programs call the answer stays RFC 6749 §5.2 JSON (Java's HttpURLConnection, for one, sends
   * `Accept: text/html, image/gif, image/jpeg, *; q=.2, *\/*; q=.2` by default: a review).
   */
  function errorPage(ctx: KoaContextWithOIDC, out: { error?: unknown; error_description?: unknown }, error: unknown): void {
    const unavailable = isStoreUnavailable(error);
    if (unavailable) failClosed(ctx);
    // A silent check (prompt=none) goes back to its client with the error, as oidc-provider's own errors do.
    const silentTarget = unavailable ? silentUnavailableTarget(ctx, SAFE_DESCRIPTIONS.temporarily_unavailable!, (clientId) => clients.lastLoaded(clientId)) : undefined;
    if (silentTarget !== undefined) {
      ctx.remove('Retry-After');
      ctx.body = ''; // (not null: koa would make a 204 of it)
      ctx.status = 303;
      ctx.set('Location', silentTarget);
      return;
    }
    if (isProgramEndpoint(ctx)) {
      ctx.body = unavailable ? unavailableBody() : out;
      return;
    }
    ctx.type = 'html';
    if (!unavailable && isStaleSignOutForm(ctx, out, config.HUB_ISSUER)) {
      // Someone signed in since (the same user again, or another): "you are signed out" would be
      // untrue, so the question again, for the session the browser holds now.
      if (ctx.oidc.session?.accountId) {
        ctx.redirect('/logout');
        ctx.status = 303;
        return;
      }
      // The page a sign-out ends on (postLogoutSuccessSource), without a site's name: the question's is gone with its session.
      ctx.status = 200;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = views.render('hub/logged-out.njk', { switchNext: '/login' }, localeOfContext(ctx));
      return;
    }
    const code = unavailable ? 'temporarily_unavailable' : String(out.error ?? 'server_error');
    const locale = localeOfContext(ctx);
    const t = translator(locale);
    const endedSite = unavailable ? undefined : endedResumeSite(ctx, error);
    if (endedSite !== undefined) {
      // Allow on a consent page whose hub session ended while it was open: the way back to its site.
      ctx.body = views.render('hub/error.njk', {
        title: t('errors:titles.signedOutSince'),
        description: t('errors:descriptions.signedOutSince'),
        back: { href: endedSite, host: new URL(endedSite).host },
      }, locale);
      return;
    }
    // Our own wording where we have it; in English otherwise oidc-provider's precise description,
    // in Chinese a plain one for the RFC 6749 code (the code itself is on the page).
    const description =
      code === 'server_error' ? t('errors:generic.description')
      : code === 'temporarily_unavailable' ? t('errors:descriptions.unavailableShortly')
      : locale === 'en' ? String(out.error_description ?? '')
      : t(`errors:oauth.${code}`, { defaultValue: String(out.error_description ?? '') });
    ctx.body = views.render('hub/error.njk', {
      title: unavailable ? t('errors:titles.unavailable') : t('errors:generic.title'),
      error: code,
      description,
      // What a site's developer must compare with the registration: the value that came (escaped by the template).
      received: receivedValue(ctx, code),
      retry: unavailable ? retryAfterStoreFailure(ctx) : undefined,
    }, locale);
  }

  // ctx.oidc defined with one getter for every request (shared-oidc-getter.ts: requests are not promoted whole).
  const { provider } = constructWithSharedOidcGetter(() => new Provider(config.HUB_ISSUER, configuration));
  // Every ID token names its hub session (`sid`), not only those of clients registered for
  // back-channel logout (oidc-provider's default): the kit ties a local session to its hub
  // session by it, so that a sync code of another hub session cannot end it.
  (provider.Client.prototype as { includeSid(): boolean }).includeSid = () => true;
  provider.proxy = config.HUB_TRUST_PROXY;
  // Only the X-Forwarded-For entries the trusted proxies added (HUB_TRUST_PROXY_HOPS), as express
  // reads them for the portal (http/client-ip.ts): behind a proxy that appends to the header,
  // the entries before them are the client's own word, and per-address limits must not take it.
  const trusted = trustProxySetting(config);
  if (typeof trusted === 'number') provider.maxIpsCount = trusted;
  // A sign-in HUB_SESSION_MAX_TTL old is signed out however it was used (session-ttl.ts).
  endSessionsAtMaximum(provider, config);
  cacheClientsByMetadata(provider, clientMetadata);
  // Secrets are checked against the digest the registry holds, and a rotation's previous secret while its overlap lasts.
  checkClientSecretsByDigest(provider, (clientId) => {
    const cached = clients.peek(clientId);
    return cached === STALE ? clients.find(clientId) : cached;
  }, deps.logger ? new PreviousSecretWarnings(deps.logger) : undefined);
  // Store down on a JSON endpoint (token, introspection, ...): 503 temporarily_unavailable.
  // Pages get the same from renderError; on JSON endpoints this event comes after the body is set.
  provider.on('server_error', (ctx, error) => {
    if (!isStoreUnavailable(error)) return;
    failClosed(ctx);
    if (ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body)) {
      ctx.body = unavailableBody();
    }
  });
  // A code or refresh token claimed by a request that then failed stays redeemable by its retry.
  const hooks = ProtocolHooks.of(provider);
  // The store failed after the route answered, as oidc-provider saved the session (a failover
  // in the middle of a resume): fail closed with the same 503 as any store failure, not koa's
  // bare 500. The answer the route prepared goes: a redirect or cookies for a session that was
  // not saved would carry on a sign-in the store does not hold. The page offers the way back in.
  hooks.recover((ctx, error) => {
    if (!isStoreUnavailable(error)) return false;
    if (wantsJson(ctx)) {
      failClosed(ctx);
      ctx.body = unavailableBody();
    } else {
      errorPage(ctx, {}, error);
    }
    return true;
  });
  // Registered first, so it runs last: a protocol path no route answered gets a JSON error.
  hooks.after(undefined, (ctx) => {
    if (!answerUnmatched(ctx)) return;
    // A browser sent to /auth or /session/end with the wrong method (a site's form that POSTs
    // there) gets the error page, in its language, not JSON.
    if (ctx.status === 405 && isBrowserEndpoint(ctx.path) && ctx.accepts('json', 'html') === 'html') {
      errorPage(ctx, ctx.body as { error?: unknown; error_description?: unknown }, undefined);
    }
  });
  hooks.after(['token'], (ctx) => redemptions.settle(ctx));
  // RFC 6749 §5.2: a grant the client is not registered for is unauthorized_client
  // (oidc-provider answers invalid_request).
  hooks.after(['token'], (ctx) => {
    const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
    if (body?.error === 'invalid_request' && body.error_description === GRANT_NOT_ALLOWED) body.error = 'unauthorized_client';
  });
  // RFC 6749 §5.2: a request with no client authentication at all is invalid_client (401), as a
  // failed one is (oidc-provider answers invalid_request 400).
  // RFC 7009 §2.2: the client ignores a revocation's body. oidc-provider's is empty text/plain;
  // clients that read every answer as JSON (simple-oauth2's revoke()) threw on it after the
  // token was revoked. An empty JSON object suits both.
  // Not cached, as the token and introspection answers (oidc-provider sets no-store on those only).
  hooks.after(['revocation'], (ctx) => {
    if (ctx.status === 200 && !ctx.body) ctx.body = {};
    ctx.set('Cache-Control', 'no-store');
  });
  // RFC 9110 §11.6.1: a 401 names how to authenticate. oidc-provider names Basic only after a
  // failed Basic header; a failed client_secret_post (or an unknown client_id in the body) was a
  // 401 without it. The challenge carries the error as oidc-provider's Basic one does:
  // oauth4webapi (so openid-client 6, express-openid-connect, Auth.js) reports a 401 with a
  // challenge by the challenge alone, without reading the body.
  hooks.after(['token', 'introspection', 'revocation', 'pushed_authorization_request'], (ctx) => {
    const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
    if (body?.error === 'invalid_request' && body.error_description === NO_CLIENT_AUTHENTICATION) {
      body.error = 'invalid_client';
      ctx.status = 401;
    }
    if (ctx.status === 401 && body?.error === 'invalid_client' && ctx.response.get('WWW-Authenticate') === undefined) {
      ctx.set('WWW-Authenticate', basicChallenge(ctx.oidc.provider.issuer, body.error_description));
    }
  });
  return provider;
}

/** `Basic realm="…", error="invalid_client", error_description="…"`, quoted as oidc-provider quotes its own. */
function basicChallenge(issuer: string, description: unknown): string {
  const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const fields = [`realm=${quote(issuer)}`, `error=${quote('invalid_client')}`];
  if (typeof description === 'string') fields.push(`error_description=${quote(description)}`);
  return `Basic ${fields.join(', ')}`;
}

function corsAllowed(_ctx: KoaContextWithOIDC, origin: string, redirectUris: string[]): boolean {
  return redirectUris.some((uri) => {
    try {
      return new URL(uri).origin === origin;
    } catch {
      return false;
    }
  });
}

/**
 * The grant this session's concurrent requests share for the client, once `mine` (just made and
 * saved) is known: `mine` if it came first, else the first, holding what `allowed` adds (`mine`
 * removed). A first that is gone already (revoked in between) leaves `mine` in use.
 */
async function adoptSharedGrant(ctx: KoaContextWithOIDC, sessionGrants: SessionGrants, mine: InstanceType<Provider['Grant']>, previous: string | undefined, allowed: { scope: string; claims: string[] }) {
  const { oidc } = ctx;
  const shared = await sessionGrants.share(oidc.session!.uid, mine.clientId!, previous, mine.jti);
  if (shared === mine.jti) return mine;
  const first = await oidc.provider.Grant.find(shared);
  if (!first || first.accountId !== mine.accountId || first.clientId !== mine.clientId) return mine;
  await mine.destroy();
  if (addAllowed(first, allowed)) await first.save();
  return first;
}

/** Adds to a grant the scopes and claims of `allowed` it lacks; whether it lacked any. */
function addAllowed(grant: InstanceType<Provider['Grant']>, allowed: { scope: string; claims: string[] }): boolean {
  const held = new Set(grant.getOIDCScope().split(' '));
  const heldClaims = new Set(grant.getOIDCClaims());
  const missing = allowed.scope.split(' ').filter((scope) => scope && !held.has(scope));
  const missingClaims = allowed.claims.filter((claim) => !heldClaims.has(claim));
  if (missing.length > 0) grant.addOIDCScope(missing.join(' '));
  if (missingClaims.length > 0) grant.addOIDCClaims(missingClaims);
  return missing.length > 0 || missingClaims.length > 0;
}

/** Seconds a token's code exchange and first uses may take besides its lifetime, when a grant is renewed (loadSessionGrant). */
const RENEW_MARGIN_SECONDS = 60;

/**
 * A grant per sign-in session and client, built from the remembered consent. The session's
 * own grant is used while it lasts; a session with none (a new device, or after signing
 * out) gets a fresh grant holding what the user allowed before, so no consent page, yet
 * no tokens shared with another device. Trusted (first-party) clients get what they ask
 * without a consent page.
 */
async function loadSessionGrant(ctx: KoaContextWithOIDC, clients: ClientRegistry, consents: ConsentIndex, sessions: SessionIndex, sessionGrants: SessionGrants, consentTtl: number, accessTokenTtl: number) {
  const { oidc } = ctx;
  const client = oidc.client!;
  const accountId = oidc.session?.accountId;
  if (!accountId) return undefined;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (grant && (grant.accountId !== accountId || grant.clientId !== client.clientId)) grant = undefined;
  const registered = await clients.find(client.clientId);
  const allowed = registered?.trusted
    ? { scope: [...oidc.requestParamScopes].join(' '), claims: oidc.requestParamClaims ? [...oidc.requestParamClaims] : [] }
    : await consents.find(accountId, client.clientId);
  if (!allowed) return grant;
  const made = grant === undefined;
  grant ??= new oidc.provider.Grant({ accountId, clientId: client.clientId });
  // A grant's life is fixed when it is made (grant-ttl.ts: 13 h for a client that may not refresh)
  // while the session slides with use: a token issued now from a grant that ends before it would
  // be refused ('invalid token') once the grant ends, its own lifetime not over. Reused with less
  // than an access token's lifetime left, the grant is kept its full lifetime again from now.
  const renew = grant.jti !== undefined && grant.exp !== undefined && grant.remainingTTL < accessTokenTtl + RENEW_MARGIN_SECONDS;
  if (renew) {
    grant.exp = undefined;
    (grant as { expiresIn?: number }).expiresIn = undefined; // oidc-provider's cached lifetime: asked of ttl.Grant again
  }
  const added = addAllowed(grant, allowed);
  if (added || !grant.jti || renew) {
    keepOfflineGrant(grant, consentTtl);
    await grant.save();
    // Made for this session now: its other requests of the moment (tabs reloaded together) share
    // one grant, the first made, or all their codes but one were refused (session-grant.ts).
    if (made) grant = await adoptSharedGrant(ctx, sessionGrants, grant, grantId, allowed);
    // The hub may have ended this sign-in while the request ran ("sign out everywhere else", a
    // password change, a forced logout): those mark it ended, then revoke the grants in the user's
    // grant index. A grant saved after that (a new one in the revoked one's place, or the revoked
    // one saved again) escaped them, and its code's tokens (offline_access ones outlive the
    // session) kept working (a review: a resume held up between reading the session and the
    // grant). Checked after the save: an ending marked later lists this grant.
    if (await sessions.endedByHub(accountId, signInOf(oidc.session!))) {
      await grant.destroy();
      throw new errors.LoginRequired('the session ended while the request was processed');
    }
  }
  return grant;
}
