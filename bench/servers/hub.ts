/**
 * The hub under test, assembled as in production (`createHub`) on a real Redis, with the
 * bench's clients and users registered first. `BENCH_SUBSITES` subsites with login sync
 * point at the subsite server (`BENCH_SUBSITE_URL`, one kit per `/s<i>` path).
 */
import { createServer } from 'node:http';
import { loadConfig } from '../../hub/src/config.js';
import { createHub } from '../../hub/src/hub.js';
import { createLogger } from '../../hub/src/logger.js';
import { connectRedis, RedisStore } from '../../hub/src/store/redis.js';
import { withCounters } from '../lib/counting.js';
import { derivedSecret, PASSWORD, required, RP_CLIENT, RP_REDIRECT, serve, SERVICE_CLIENT, subsiteId, username } from '../lib/fixtures.js';

const port = Number(required('PORT'));
const salt = required('BENCH_SALT');
const subsites = Number(process.env.BENCH_SUBSITES ?? 0);
const userCount = Number(process.env.BENCH_USERS ?? 1);
const subsiteUrl = process.env.BENCH_SUBSITE_URL ?? 'http://127.0.0.1:9';
const ALLOW_ALL = String(1_000_000_000); // the sign-in bench must not be throttled

const config = loadConfig({
  HUB_PORT: String(port),
  HUB_ISSUER: `http://127.0.0.1:${port}`,
  REDIS_URL: required('REDIS_URL'),
  KEY_PREFIX: required('BENCH_PREFIX'),
  LOG_LEVEL: 'silent',
  LOGIN_MAX_ATTEMPTS_PER_IP: ALLOW_ALL,
  LOGIN_MAX_FAILURES_PER_ACCOUNT: ALLOW_ALL,
  SIGNIN_STARTS_PER_IP: ALLOW_ALL,
});
const store = new RedisStore(await connectRedis(config.REDIS_URL!));
const hub = await createHub(config, store, createLogger('silent'));
const { clients, users } = hub.services;

await clients.upsert({
  clientId: SERVICE_CLIENT,
  clientSecret: derivedSecret(salt, 'service-secret'),
  grantTypes: ['client_credentials'],
});
await clients.upsert({
  clientId: RP_CLIENT,
  clientSecret: derivedSecret(salt, 'rp-secret'),
  redirectUris: [RP_REDIRECT],
  grantTypes: ['authorization_code', 'refresh_token'],
  trusted: true,
});
for (let i = 0; i < subsites; i += 1) {
  const id = subsiteId(i);
  await clients.upsert({
    clientId: id,
    name: `Subsite ${i}`,
    clientSecret: derivedSecret(salt, `${id}-secret`),
    redirectUris: [`${subsiteUrl}/${id}/sso/callback`],
    postLogoutRedirectUris: [`${subsiteUrl}/${id}/`],
    grantTypes: ['authorization_code'],
    trusted: true,
    syncLoginUrl: `${subsiteUrl}/${id}/sso/synclogin`,
    syncLogoutUrl: `${subsiteUrl}/${id}/sso/synclogout`,
    syncKey: derivedSecret(salt, `${id}-sync`),
  });
}
for (let i = 0; i < userCount; i += 1) {
  await users.create({ username: username(i), email: `${username(i)}@bench.test`, name: `Bench User ${i}`, password: PASSWORD });
}

const server = createServer(withCounters(hub.app));
server.keepAliveTimeout = 60_000;
await serve(server, port, () => store.close(), {
  argon2: { type: 'argon2id', memoryKiB: config.ARGON2_MEMORY_KIB, iterations: config.ARGON2_ITERATIONS, parallelism: config.ARGON2_PARALLELISM },
});
