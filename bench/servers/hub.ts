/**
 * The hub under test, assembled as in production (`createHub`) on a real Redis, with the
 * bench's clients and users registered first. `BENCH_SUBSITES` subsites with login sync,
 * each on its own origin (`subsiteOrigin(i, BENCH_SUBSITE_PORT)`).
 *
 * `BENCH_AUDIT_FILL=1`: the log of tokens issued is filled to its cap (`AUDIT_MAX_ENTRIES`, given
 * as both caps) before the hub is ready, so every timed window runs with the log at its cap (trimming on every batch).
 * `BENCH_REDIS_TIMER=<ms>`: the control for the memory check; the store's node-redis client
 * gets back the per-command `AbortSignal.timeout` timer the hub turns off.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createClient } from 'redis';
import type { RedisClient } from '../../hub/src/store/redis.js';
import { withCounters } from '../lib/counting.js';
import { derivedSecret, PASSWORD, required, RP_CLIENT, RP_REDIRECT, serve, SERVICE_CLIENT, subsiteId, subsiteOrigin, username } from '../lib/fixtures.js';

// The hub as its image runs it: compiled by tsc (`BENCH_HUB_DIST`, built by run.ts and the
// tools with `buildHub()`), not its TypeScript through tsx, whose transform wraps every
// function made at run time in a `__name` call. Without the variable (an older checkout's
// bench as the CPU_BASE peer), the sources through tsx.
const HUB = process.env.BENCH_HUB_DIST ? `${process.env.BENCH_HUB_DIST}/` : '../../hub/src/'; // a file: URL, or relative to this file
const [{ loadConfig }, { createHub }, { createLogger }, { Keys }, { connectRedis, RedisStore }] = (await Promise.all([
  import(`${HUB}config.js`),
  import(`${HUB}hub.js`),
  import(`${HUB}logger.js`),
  import(`${HUB}store/keys.js`),
  import(`${HUB}store/redis.js`),
])) as [
  typeof import('../../hub/src/config.js'),
  typeof import('../../hub/src/hub.js'),
  typeof import('../../hub/src/logger.js'),
  typeof import('../../hub/src/store/keys.js'),
  typeof import('../../hub/src/store/redis.js'),
];

const port = Number(required('PORT'));
const salt = required('BENCH_SALT');
const subsites = Number(process.env.BENCH_SUBSITES ?? 0);
const userCount = Number(process.env.BENCH_USERS ?? 1);
const subsitePort = Number(process.env.BENCH_SUBSITE_PORT ?? 9);
const timerMs = Number(process.env.BENCH_REDIS_TIMER ?? 0);
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
  ...(process.env.AUDIT_MAX_ENTRIES ? { AUDIT_MAX_ENTRIES: process.env.AUDIT_MAX_ENTRIES, AUDIT_MAX_TOKEN_ENTRIES: process.env.AUDIT_MAX_ENTRIES } : {}),
});

async function timedClient(url: string, timeout: number): Promise<RedisClient> {
  const client = createClient({ url, disableOfflineQueue: true, commandOptions: { timeout } });
  client.on('error', () => {});
  await client.connect();
  return client as unknown as RedisClient;
}

const store = new RedisStore(timerMs > 0 ? await timedClient(config.REDIS_URL!, timerMs) : await connectRedis(config.REDIS_URL!));
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
const registrationStart = performance.now();
for (let i = 0; i < subsites; i += 1) {
  const id = subsiteId(i);
  const origin = subsiteOrigin(i, subsitePort);
  await clients.upsert({
    clientId: id,
    name: `Subsite ${i}`,
    clientSecret: derivedSecret(salt, `${id}-secret`),
    redirectUris: [`${origin}/${id}/sso/callback`],
    postLogoutRedirectUris: [`${origin}/${id}/`],
    grantTypes: ['authorization_code'],
    trusted: true,
    syncLoginUrl: `${origin}/${id}/sso/synclogin`,
    syncLogoutUrl: `${origin}/${id}/sso/synclogout`,
    syncKey: derivedSecret(salt, `${id}-sync`),
  });
}
const registrationMs = performance.now() - registrationStart;
for (let i = 0; i < userCount; i += 1) {
  await users.create({ username: username(i), email: `${username(i)}@bench.test`, name: `Bench User ${i}`, password: PASSWORD });
}

/**
 * Fills the log of tokens issued (where the token scenarios' entries go) up to its cap with
 * `token.issued` entries, a few thousand per round trip.
 */
async function fillAuditLog(): Promise<number> {
  const key = new Keys(config.KEY_PREFIX).auditTokens();
  const cap = config.AUDIT_MAX_TOKEN_ENTRIES;
  const now = Date.now();
  const CHUNK = 5_000;
  for (let written = 0; written < cap; written += CHUNK) {
    const count = Math.min(CHUNK, cap - written);
    const batch = Array.from({ length: count }, (_, i) => {
      const at = now - cap + written + i;
      return { score: at, member: JSON.stringify({ id: randomUUID(), at, event: 'token.issued', client: SERVICE_CLIENT, ip: '127.0.0.1', detail: { grant: 'client_credentials' } }) };
    });
    await store.zAddMany(key, batch);
  }
  return cap;
}
const auditEntries = process.env.BENCH_AUDIT_FILL === '1' ? await fillAuditLog() : 0;

const server = createServer(withCounters(hub.app));
server.keepAliveTimeout = 60_000;
await serve(server, port, () => store.close(), {
  argon2: { type: 'argon2id', memoryKiB: config.ARGON2_MEMORY_KIB, iterations: config.ARGON2_ITERATIONS, parallelism: config.ARGON2_PARALLELISM },
  auditMaxEntries: config.AUDIT_MAX_TOKEN_ENTRIES,
  auditPrefilled: auditEntries,
  registrationMs: Math.round(registrationMs),
  redisTimerMs: timerMs,
});
