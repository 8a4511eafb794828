import type { IncomingMessage } from 'node:http';
import { auditProvider } from './audit/oidc-audit.js';
import { installCasProfileAnswer } from './cas/profile-answer.js';
import { installCasTokenAnswer } from './cas/token-answer.js';
import type { ClientInput } from './clients/client-registry.js';
import type { HubConfig } from './config.js';
import { createApp, type HubRequestListener } from './app.js';
import { createDomainServices } from './domain-services.js';
import { DeliveryTokens } from './delivery/delivery-tokens.js';
import { DeliveryWorker } from './delivery/delivery-worker.js';
import { Draining } from './health/draining.js';
import { HubMetrics } from './metrics/hub-metrics.js';
import { installMetrics, queueStats } from './metrics/install-metrics.js';
import { instrumentStore } from './metrics/instrument-store.js';
import { queueBackchannelLogout } from './delivery/queued-backchannel.js';
import type { Logger } from './logger.js';
import { installInactiveIntrospection } from './oidc/introspection-inactive.js';
import { installDefaultScope } from './oidc/default-scope.js';
import { cutOffByClient, serverErrorFromHook, type HookPageRender } from './oidc/hook-answer.js';
import { OwnerNotices } from './users/owner-notices.js';
import { installResumeCheck } from './oidc/resume-check.js';
import { installImplicitPolicy } from './oidc/implicit-policy.js';
import { installFormPostPage } from './oidc/form-post-page.js';
import { installLogoutSync } from './oidc/logout-sync.js';
import { installSignedInAsCatchUp } from './oidc/signed-in-as.js';
import { installPostLogoutTargetCheck } from './oidc/post-logout-target.js';
import { localeOfContext } from './i18n/locale-middleware.js';
import { installProtocolHeaders } from './security/protocol-headers.js';
import { SignInStartLimit } from './security/signin-start-limit.js';
import { PostedForms } from './oidc/posted-forms.js';
import { registerPasswordGrant } from './oidc/password-grant.js';
import { ProtocolHooks } from './oidc/protocol-hooks.js';
import { createProvider, receivedValue } from './oidc/provider.js';
import { recordSignInDevices, SessionDevices } from './oidc/session-devices.js';
import { OwnedState } from './owned-state.js';
import { PORTAL_CALLBACK_PATH, PORTAL_CLIENT_ID } from './portal/portal-routes.js';
import { DeviceCookies } from './security/device-cookie.js';
import { LoginThrottle } from './security/login-throttle.js';
import type { HubServices } from './services.js';
import type { RedisStore } from './store/redis.js';
import { currentRequestHandle, requestScopeOf } from './request-context.js';
import { storeUnavailableOf, type Store } from './store/store.js';
import { SignupLimit } from './signup/signup-limit.js';
import { SignupMailBudget } from './signup/signup-mail-budget.js';
import { SignupService } from './signup/signup-service.js';
import { UnverifiedAccounts } from './signup/unverified-accounts.js';
import { SyncPlanner } from './sync/sync-page.js';
import { RECOVERY_SETS_PER_HOUR, TwoStepService } from './two-step/two-step-service.js';
import { WindowLimit } from './security/window-limit.js';
import { AccountTokens } from './users/account-tokens.js';
import { AccountLifecycle } from './users/account-lifecycle.js';
import { AccountSettings } from './users/account-settings.js';
import { AccountDeletion } from './users/account-deletion.js';
import { DeletionResumer } from './users/deletion-resumer.js';
import { EmailChange } from './users/email-change.js';
import { PasswordCheck } from './users/password-check.js';
import { PasswordRecovery } from './users/password-recovery.js';
import { RecoveryLimits } from './security/recovery-limits.js';
import { UcenterService } from './ucenter/ucenter-service.js';
import { UcenterInputReplay } from './ucenter/input-replay.js';
import { UcenterSignInProofs } from './ucenter/synlogin-proofs.js';
import { hubEntry } from './ucenter/app-rows.js';
import { Views } from './views/views.js';
import { StoreClock } from './store/store-clock.js';

export interface Hub {
  /** The request listener: `http.createServer(hub.app)`. */
  app: HubRequestListener;
  services: HubServices;
  /** Delivers the queue; started by `main` after listening (tests start it themselves). */
  deliveryWorker: DeliveryWorker;
  /** Removes unverified self-sign-ups past HUB_UNVERIFIED_ACCOUNT_DAYS; started by `main` (tests run its passes themselves). */
  unverified: UnverifiedAccounts;
  /** Finishes account deletions cut off part-way; started by `main` (tests run its passes themselves). */
  deletionResumer: DeletionResumer;
  /** Stops this process's background checks, waiting for one in flight, and writes the audit entries still pending (the delivery worker stops on its own). */
  stop(): Promise<void>;
}

/** The hub's own portal client, from its configuration; the running hub owns this record. */
export function portalClientFor(config: HubConfig): ClientInput {
  return {
    clientId: PORTAL_CLIENT_ID,
    name: 'sso-hub portal',
    redirectUris: [`${config.HUB_ISSUER}${PORTAL_CALLBACK_PATH}`],
    postLogoutRedirectUris: [`${config.HUB_ISSUER}/login`],
    grantTypes: ['authorization_code'],
    trusted: true,
    requirePkce: false,
    scope: 'openid',
    internal: true,
  };
}

/**
 * Assembles the hub from its configuration and an open store: services, the OIDC engine,
 * the portal's own client and the express app. Listening is left to the caller.
 */
export async function createHub(config: HubConfig, openedStore: Store, logger: Logger): Promise<Hub> {
  const metrics = new HubMetrics();
  // Every store command timed and its failures counted (`sso_store_command_*`).
  const store = instrumentStore(openedStore, metrics);
  // A request whose store call timed out on a stalled Redis gets its 503 after that one
  // deadline: its later calls are given up at once (store/stall-watch.ts).
  if (store.kind === 'redis') (store as Partial<RedisStore>).stalls?.scopeBy(currentRequestHandle, requestScopeOf);
  const domain = createDomainServices(config, store, logger);
  const { keys, users, hasher, clients, consents, grants, sessions, audit, deliveries, ucenterApps, ucenterNotes } = domain;
  const views = new Views({ issuer: config.HUB_ISSUER });
  // Signing keys, cookie keys, two-step keys and the portal client: loaded (or created) now,
  // then kept and restored by this process while it runs.
  // The store's clock: hub processes compare the times of each other's redemption claims on it,
  // read key activations on it (`keys rotate` dates a key on it) and date sync codes by it (a
  // subsite refuses one from a hub host whose clock runs ahead).
  const clock = new StoreClock(store, logger);
  await clock.sync();
  const owned = await OwnedState.load({ config, store, keys, clients, logger, portalClient: portalClientFor(config), clock });
  const { cookieKeys } = owned;
  const throttleOf = (keyPrefix: string) =>
    new LoginThrottle({
      maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      maxAttemptsPerIp: config.LOGIN_MAX_ATTEMPTS_PER_IP,
      maxFailuresPerApp: config.UCENTER_MAX_FAILURES_PER_APP,
      windowSeconds: config.LOGIN_WINDOW_SECONDS,
      backoffBaseSeconds: config.LOGIN_BACKOFF_BASE_SECONDS,
      backoffMaxSeconds: config.LOGIN_BACKOFF_MAX_SECONDS,
      keyPrefix,
      ...(store.kind === 'redis' ? { redis: (store as RedisStore).client } : {}),
    });
  const throttle = throttleOf(keys.rateLimitPrefix());
  if (!config.HUB_TOTP_KEYS && store.kind === 'redis') {
    logger.warn('two-step secrets are encrypted with a key kept in the same store: set HUB_TOTP_KEYS to keep the key apart from the data');
  }
  // The second step's failures in pools of their own, with the same rules (device cookies, backoff).
  const recoverySets = new WindowLimit({ name: 'recovery-sets', points: RECOVERY_SETS_PER_HOUR, windowSeconds: 3600, keyPrefix: keys.rateLimitPrefix(), ...(store.kind === 'redis' ? { redis: (store as RedisStore).client } : {}) });
  const twoStep = new TwoStepService(domain.twoStepRecords, owned.twoStepBox, throttleOf(`${keys.rateLimitPrefix()}:2fa`), new URL(config.HUB_ISSUER).host, (work) => hasher.turns.run(work), recoverySets);
  // The one password sign-in check of the portal, the password grant and UCenter's user/login.
  const passwordCheck = new PasswordCheck({ users, hasher, throttle, twoStep, requireVerifiedEmail: config.HUB_REQUIRE_VERIFIED_EMAIL });
  const devices = new DeviceCookies(cookieKeys, config.secureCookies);
  clock.start();
  const sync = new SyncPlanner(clients, consents, config.HUB_ISSUER, config.SYNC_CODE_TTL, config.SYNC_KEY_OVERLAP_SECONDS, clock);
  const provider = createProvider({ config, store, keys, users, clients, consents, grants, sessions, views, jwks: owned.jwks(), cookieKeys, clock, logger });
  owned.attach(provider);
  installProtocolHeaders(provider, config.secureCookies);
  // The browser each sign-in came from, for the account page's list of sessions (no address kept).
  const sessionDevices = new SessionDevices(store, keys);
  recordSignInDevices(provider, sessionDevices, config.HUB_SESSION_TTL, (error) => logger.warn('session device not recorded', { error: (error as Error).message }));
  // Each authorization request may write an Interaction before anyone signed in: bounded per address.
  const signInStarts = new SignInStartLimit({
    perIp: config.SIGNIN_STARTS_PER_IP,
    secureCookies: config.secureCookies,
    windowSeconds: config.SIGNIN_STARTS_WINDOW_SECONDS,
    keyPrefix: keys.rateLimitPrefix(),
    ...(store.kind === 'redis' ? { redis: (store as RedisStore).client } : {}),
  });
  const errorPage: HookPageRender = (ctx, title, description, retry) => views.render('hub/error.njk', { title, description, retry }, localeOfContext(ctx));
  ProtocolHooks.of(provider).before(signInStarts.authorizationHook(errorPage));
  // A sign-in whose password was checked before the user's sign-ins were ended resumes into no session.
  installResumeCheck(provider, users, audit, errorPage, config.secureCookies);
  installLogoutSync(provider, sync, views, config.SYNC_WAIT_MS, config.secureCookies);
  // A live session signed in where no signed-in-as cookie was written (an older hub) gets one here.
  installSignedInAsCatchUp(provider, { secure: config.secureCookies, maxTtlSeconds: config.HUB_SESSION_MAX_TTL });
  // A site's sign-out with a post-logout URI it did not register still signs the user out (without going there).
  installPostLogoutTargetCheck(provider, logger);
  // The store down is the fail-closed 503 the design asks for: one line, as the portal logs it, not a stack per request.
  provider.on('server_error', (_ctx, error) => {
    const unavailable = storeUnavailableOf(error);
    if (unavailable) logger.error('store unavailable', { error: (unavailable.cause as Error | undefined)?.message });
    else logger.error('oidc server_error', { errorName: error.name, stack: error.stack });
  });
  // What escaped oidc-provider and the store's recovery (a hook's bug): one log line and a 500
  // the client can read (RFC 6749 server_error, or the error page), not koa's bare text; koa's
  // own last handler logs through the hub too, never a raw multi-line stack on stderr.
  ProtocolHooks.of(provider).recover((ctx, error) => {
    // An answer already on its way is koa's to cut off; its 'error' below logs it once.
    if (ctx.headerSent) return false;
    logger.error('protocol request failed', { errorName: (error as Error | undefined)?.name, stack: (error as Error | undefined)?.stack });
    return serverErrorFromHook(ctx, errorPage);
  });
  // As koa's own last handler: a client's error (404, an exposed 4xx) is not the hub's failure.
  (provider as unknown as NodeJS.EventEmitter).on('error', (error: Error & { status?: number; expose?: boolean }, ctx?: { req?: IncomingMessage }) => {
    if (error?.status === 404 || error?.expose || cutOffByClient(error, ctx)) return;
    logger.error('protocol request failed', { errorName: error?.name, stack: error?.stack });
  });

  // An unknown client or an unregistered redirect URI at /auth: the site's developer needs the value that came.
  provider.on('authorization.error', (ctx, error: { error?: string; error_description?: string }) => {
    const received = receivedValue(ctx, String(error.error ?? ''));
    // For a redirect URI, the client is a registered one: its id, not the raw parameter.
    if (received) logger.warn('authorization refused', { error: error.error, [received.name]: received.value, ...(received.name === 'redirect_uri' && ctx.oidc?.client ? { client_id: ctx.oidc.client.clientId } : {}) });
  });

  auditProvider(provider, audit);
  // Legacy clients of the seeds (docs/migrating.md): implicit refusals that say what to do,
  // the CAS-style profile answer, and the password grant only when switched on; and two
  // answers RFC 6749/7662 ask for that oidc-provider does not give (introspection of a
  // JWT-shaped string, a request without a scope).
  installImplicitPolicy(provider);
  installInactiveIntrospection(provider);
  installFormPostPage(provider);
  installDefaultScope(provider);
  installCasProfileAnswer(provider, clients);
  installCasTokenAnswer(provider);
  if (config.HUB_ENABLE_PASSWORD_GRANT) registerPasswordGrant(provider, { users, check: passwordCheck, audit, twoStep });
  queueBackchannelLogout(provider, deliveries);
  const deliveryWorker = new DeliveryWorker(deliveries, new DeliveryTokens(() => owned.jwks(), config.HUB_ISSUER), clients, audit, logger, {
    backoff: { baseMs: config.DELIVERY_BACKOFF_BASE_MS, maxMs: config.DELIVERY_BACKOFF_MAX_MS },
    pollMs: config.DELIVERY_POLL_MS,
    timeoutMs: config.DELIVERY_TIMEOUT_MS,
    perClient: config.DELIVERY_PER_SUBSITE,
    maxAgeSeconds: config.DELIVERY_MAX_AGE_SECONDS,
    senders: { 'ucenter-deleteuser': ucenterNotes, 'ucenter-updatepw': ucenterNotes, 'ucenter-updateapps': ucenterNotes },
  });
  const notices = new OwnerNotices(domain.mailer, config.HUB_ISSUER);
  const lifecycle = new AccountLifecycle({
    users, sessions, consents, grants, provider, clients, deliveries, audit, twoStepRecords: domain.twoStepRecords, moreNotices: (userId, reason) => ucenterNotes.forcedLogout(userId, reason),
    pendingDeletions: domain.pendingDeletions, notices,
  });

  // An account past its cap of live sessions loses its oldest sign-ins, as if signed out on their rows.
  sessions.whenCrowded((accountId, keep) => lifecycle.endOldestSessions(accountId, keep));
  const deletionResumer = new DeletionResumer(lifecycle.removal, logger);
  const settings = new AccountSettings({ users, hasher, throttle, passwords: domain.passwords, lifecycle, audit, notices });
  const deletion = new AccountDeletion({ users, settings, twoStep, removal: lifecycle.removal, audit });
  const accountTokens = new AccountTokens(store, keys);
  const postedForms = new PostedForms(store, keys);
  const recoveryLimits = new RecoveryLimits({
    requestsPerIp: config.RECOVERY_REQUESTS_PER_IP,
    mailsPerAccount: config.RECOVERY_MAILS_PER_ACCOUNT,
    windowSeconds: config.RECOVERY_WINDOW_SECONDS,
    resetLinkSeconds: config.PASSWORD_RESET_TTL,
    keyPrefix: keys.rateLimitPrefix(),
    ...(store.kind === 'redis' ? { redis: (store as RedisStore).client } : {}),
  });
  const { mailer, passwords } = domain;
  const recovery = new PasswordRecovery({
    users, tokens: accountTokens, mailer, limits: recoveryLimits, lifecycle, throttle, passwords, audit, logger, issuer: config.HUB_ISSUER, notices, ttlSeconds: config.PASSWORD_RESET_TTL,
  });
  const emailChange = new EmailChange({
    users, settings, tokens: accountTokens, mailer, limits: recoveryLimits, audit, logger, issuer: config.HUB_ISSUER, ttlSeconds: config.EMAIL_CHANGE_TTL, lifecycle, undoTtlSeconds: config.EMAIL_UNDO_TTL,
  });

  // Every hub process runs it; a lock in the store lets one of them work at a time.
  const unverified = new UnverifiedAccounts({
    store, keys, users, sessions, grants, consents, twoStepRecords: domain.twoStepRecords, audit, logger,
    days: config.HUB_UNVERIFIED_ACCOUNT_DAYS,
  });
  // Self-service sign-up and e-mail verification (HUB_SIGNUP), rate-limited per address through the store.
  const signup = new SignupService({
    mode: config.HUB_SIGNUP,
    issuer: config.HUB_ISSUER,
    users,
    hasher,
    passwords: domain.passwords,
    mailer: domain.mailer,
    tokens: accountTokens,
    invites: domain.invites,
    limit: new SignupLimit({
      perIp: config.SIGNUP_MAX_PER_IP,
      windowSeconds: config.SIGNUP_WINDOW_SECONDS,
      keyPrefix: keys.rateLimitPrefix(),
      ...(store.kind === 'redis' ? { redis: (store as RedisStore).client } : {}),
    }),
    mailBudget: new SignupMailBudget({ store, keys, perNetwork: config.SIGNUP_MAILS_PER_NETWORK, perAddress: config.SIGNUP_MAILS_PER_ADDRESS }),
    audit,
    unverified,
  });
  if (config.HUB_SIGNUP !== 'closed' && !domain.mailer.available) {
    logger.warn(`HUB_SIGNUP is ${config.HUB_SIGNUP} but the hub cannot send mail: the sign-up page says so until SMTP_URL is set`);
  }

  const ucenter = { apps: ucenterApps, replay: new UcenterInputReplay(store, keys), proofs: new UcenterSignInProofs(store, keys), service: new UcenterService({ apps: ucenterApps, users, hasher, throttle, audit, sync, twoStep, passwords: domain.passwords, lifecycle, emailChange, check: passwordCheck, notices, hub: hubEntry(config.HUB_ISSUER) }) };
  // UCenter applications' synlogin/synlogout notes go on the same sync page as the subsites' beacons.
  sync.addSource((act, accountId) => ucenter.service.syncBeacons(act, accountId));

  metrics.watchQueue(queueStats(deliveries));
  metrics.watchPasswordChecks(hasher.turns);
  metrics.watchAudit(audit);
  metrics.watchEvictionPolicy(() => owned.evictionPolicySafe);
  installMetrics({ metrics, audit, provider, sync });
  // Mail sent and failed, by template (a fixed set of names): an SMTP server that refuses shows on a graph, not only in the log.
  domain.mailer.observe((template, outcome) => metrics.mails.inc({ template: /^[a-z0-9-]{1,40}$/.test(template) ? template : 'other', outcome }));

  const services: HubServices = {
    metrics,
    ...domain, throttle, twoStep, passwordCheck, signInStarts, devices, sync, views, provider, cookieKeys, lifecycle, settings, deletion, notices, sessionDevices, signup, unverified, accountTokens, postedForms, recoveryLimits, recovery, emailChange, ucenter, owned, readiness: () => owned.readiness(), draining: new Draining(),
    lastReadiness: () => owned.lastReadiness(),
    readinessFreshForMs: Math.max(15_000, 3 * config.HUB_STORE_CHECK_MS),
    readyzOverloaded: (answer) => metrics.readyzOverloaded.inc({ answer }),
  };
  owned.start();
  // Stopping also writes the audit entries still waiting for company (the token endpoint's
  // linger) or for another try. Tries later go on: main.ts runs this beside the drain of the
  // requests still being answered, and stops them (`audit.stop()`) only before its last flush,
  // just before the store closes.
  const stop = async () => {
    clock.stop();
    await owned.stop();
    await unverified.stop();
    await deletionResumer.stop();
    await services.audit.flush();
  };
  return { app: createApp(services, logger), services, deliveryWorker, unverified, deletionResumer, stop };
}
