import type { Express } from 'express';
import { ClientRegistry } from './clients/client-registry.js';
import type { HubConfig } from './config.js';
import { createApp } from './app.js';
import type { Logger } from './logger.js';
import { ConsentIndex } from './oidc/consents.js';
import { installLogoutSync } from './oidc/logout-sync.js';
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
import { PasswordHasher } from './users/passwords.js';
import { UserRepository } from './users/user-repository.js';
import { Views } from './views/views.js';

export interface Hub {
  app: Express;
  services: HubServices;
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
  const sync = new SyncPlanner(clients, config.HUB_ISSUER, config.SYNC_CODE_TTL);

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
  installLogoutSync(provider, sync, views, config.SYNC_WAIT_MS);
  provider.on('server_error', (_ctx, error) => logger.error('oidc server_error', { name: error.name, stack: error.stack }));

  const services: HubServices = { config, store, keys, users, hasher, clients, consents, sessions, throttle, sync, views, provider, cookieKeys };
  return { app: createApp(services, logger), services };
}
