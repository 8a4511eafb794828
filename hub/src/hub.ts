import { AuditLog } from './audit/audit-log.js';
import { auditProvider } from './audit/oidc-audit.js';
import { installCasProfileAnswer } from './cas/profile-answer.js';
import { ClientRegistry } from './clients/client-registry.js';
import type { HubConfig } from './config.js';
import { createApp, type HubRequestListener } from './app.js';
import { DeliveryQueue } from './delivery/delivery-queue.js';
import { DeliveryTokens } from './delivery/delivery-tokens.js';
import { DeliveryWorker } from './delivery/delivery-worker.js';
import { queueBackchannelLogout } from './delivery/queued-backchannel.js';
import type { Logger } from './logger.js';
import { ConsentIndex } from './oidc/consents.js';
import { installImplicitPolicy } from './oidc/implicit-policy.js';
import { installLogoutSync } from './oidc/logout-sync.js';
import { installProtocolHeaders } from './security/protocol-headers.js';
import { registerPasswordGrant } from './oidc/password-grant.js';
import { createProvider } from './oidc/provider.js';
import { SessionIndex } from './oidc/session-index.js';
import { PORTAL_CALLBACK_PATH, PORTAL_CLIENT_ID } from './portal/portal-routes.js';
import { loadCookieKeys, loadSigningKeys } from './secrets/secrets.js';
import { LoginThrottle } from './security/login-throttle.js';
import type { HubServices } from './services.js';
import { Keys } from './store/keys.js';
import type { RedisStore } from './store/redis.js';
import type { Store } from './store/store.js';
import { SyncPlanner } from './sync/sync-page.js';
import { AccountLifecycle } from './users/account-lifecycle.js';
import { PasswordHasher } from './users/passwords.js';
import { UserRepository } from './users/user-repository.js';
import { UcenterAppRegistry } from './ucenter/ucenter-apps.js';
import { UcenterDeleteuserNotes } from './ucenter/deleteuser-notes.js';
import { UcenterService } from './ucenter/ucenter-service.js';
import { Views } from './views/views.js';

export interface Hub {
  /** The request listener: `http.createServer(hub.app)`. */
  app: HubRequestListener;
  services: HubServices;
  /** Delivers the queue; started by `main` after listening (tests start it themselves). */
  deliveryWorker: DeliveryWorker;
}

/**
 * Assembles the hub from its configuration and an open store: services, the OIDC engine,
 * the portal's own client and the express app. Listening is left to the caller.
 */
export async function createHub(config: HubConfig, store: Store, logger: Logger): Promise<Hub> {
  const keys = new Keys(config.KEY_PREFIX);
  const hasher = new PasswordHasher({
    memoryCost: config.ARGON2_MEMORY_KIB,
    timeCost: config.ARGON2_ITERATIONS,
    parallelism: config.ARGON2_PARALLELISM,
  });
  const users = new UserRepository(store, keys, hasher);
  const clients = new ClientRegistry(store, keys);
  const consents = new ConsentIndex(store, keys);
  const sessions = new SessionIndex(store, keys);
  const views = new Views({ issuer: config.HUB_ISSUER });
  const [jwks, cookieKeys] = await Promise.all([
    loadSigningKeys(store, keys, config.HUB_JWKS),
    loadCookieKeys(store, keys, config.HUB_COOKIE_SECRETS),
  ]);
  const throttle = new LoginThrottle({
    maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    maxAttemptsPerIp: config.LOGIN_MAX_ATTEMPTS_PER_IP,
    windowSeconds: config.LOGIN_WINDOW_SECONDS,
    keyPrefix: keys.rateLimitPrefix(),
    ...(store.kind === 'redis' ? { redis: (store as RedisStore).client } : {}),
  });
  const sync = new SyncPlanner(clients, config.HUB_ISSUER, config.SYNC_CODE_TTL, config.SYNC_KEY_OVERLAP_SECONDS);

  // The portal is a client of the hub's own OIDC engine (like Keycloak's account console).
  await clients.upsert({
    clientId: PORTAL_CLIENT_ID,
    name: 'sso-hub portal',
    redirectUris: [`${config.HUB_ISSUER}${PORTAL_CALLBACK_PATH}`],
    postLogoutRedirectUris: [`${config.HUB_ISSUER}/login`],
    grantTypes: ['authorization_code'],
    trusted: true,
    requirePkce: false,
    scope: 'openid',
    internal: true,
  });

  const provider = createProvider({ config, store, keys, users, clients, consents, sessions, views, jwks, cookieKeys });
  installProtocolHeaders(provider, config.secureCookies);
  installLogoutSync(provider, sync, views, config.SYNC_WAIT_MS);
  provider.on('server_error', (_ctx, error) => logger.error('oidc server_error', { errorName: error.name, stack: error.stack }));

  const audit = new AuditLog(store, keys, { retentionSeconds: config.AUDIT_RETENTION_SECONDS, maxEntries: config.AUDIT_MAX_ENTRIES }, (error) =>
    logger.warn('audit entry not recorded', { error: error instanceof Error ? error.message : String(error) }),
  );
  auditProvider(provider, audit);
  // Legacy clients of the seeds (docs/migrating.md): implicit refusals that say what to do,
  // the CAS-style profile answer, and the password grant only when switched on.
  installImplicitPolicy(provider);
  installCasProfileAnswer(provider, clients);
  if (config.HUB_ENABLE_PASSWORD_GRANT) registerPasswordGrant(provider, { users, hasher, throttle, consents, audit });
  const deliveries = new DeliveryQueue(store, keys, {
    retentionSeconds: config.DELIVERY_RETENTION_SECONDS,
    failedRetentionSeconds: config.DELIVERY_FAILED_RETENTION_SECONDS,
    // A lease outlives the longest delivery request, so it only lapses when its process died.
    leaseSeconds: Math.ceil(config.DELIVERY_TIMEOUT_MS / 1000) + 30,
  });
  queueBackchannelLogout(provider, deliveries);
  const ucenterApps = new UcenterAppRegistry(store, keys);
  const ucenterDeleteuser = new UcenterDeleteuserNotes(ucenterApps, users, deliveries);
  const deliveryWorker = new DeliveryWorker(deliveries, new DeliveryTokens(jwks, config.HUB_ISSUER), clients, audit, logger, {
    backoff: { baseMs: config.DELIVERY_BACKOFF_BASE_MS, maxMs: config.DELIVERY_BACKOFF_MAX_MS },
    pollMs: config.DELIVERY_POLL_MS,
    timeoutMs: config.DELIVERY_TIMEOUT_MS,
    maxAgeSeconds: config.DELIVERY_MAX_AGE_SECONDS,
    senders: { 'ucenter-deleteuser': ucenterDeleteuser },
  });
  const lifecycle = new AccountLifecycle({
    users, sessions, consents, provider, clients, deliveries, audit, moreNotices: (userId) => ucenterDeleteuser.enqueueFor(userId),
  });

  const ucenter = { apps: ucenterApps, service: new UcenterService({ apps: ucenterApps, users, hasher, throttle, audit, sync }) };
  // UCenter applications' synlogin/synlogout notes go on the same sync page as the subsites' beacons.
  sync.addSource((act, accountId) => ucenter.service.syncBeacons(act, accountId));

  const services: HubServices = {
    config, store, keys, users, hasher, clients, consents, sessions, throttle, sync, views, provider, cookieKeys, deliveries, audit, lifecycle, ucenter,
  };
  return { app: createApp(services, logger), services, deliveryWorker };
}
