/**
 * A Redis Cluster or Sentinel set with passwords (`requirepass`, the sentinels' own), as a
 * production one has: before REDIS_USERNAME / REDIS_PASSWORD / REDIS_SENTINEL_PASSWORD, a hub
 * could reach a cluster or Sentinel only when it had no password at all (a URL carries one
 * server's; the node lists carry none), and said "did not answer" when it had one.
 */
import { refusal, roundTrip, writesAgain } from './redis-store-checks.js';
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { ConfigError, loadConfig } from '../src/config.js';
import { storeProblem } from '../src/owned-state.js';
import { connectRedis, RedisStore } from '../src/store/redis.js';
import { startOwnRedisCluster, startOwnRedisSentinel, type OwnRedisCluster, type OwnRedisSentinel } from '../src/testing/redis-server.js';
import { startTestHub } from '../src/testing/test-hub.js';
import { captureLogger } from '../src/testing/capture-logger.js';

const PASSWORD = `data-${randomUUID()}`;
const SENTINEL_PASSWORD = `sentinels-${randomUUID()}`;
/** An ACL user of the sentinels (REDIS_SENTINEL_USERNAME), with a password of its own. */
const SENTINEL_USER = { username: 'hub-sentinel', password: `sentinel-user-${randomUUID()}` };


describe('a Redis Cluster with requirepass', () => {
  let cluster: OwnRedisCluster;
  beforeAll(async () => {
    cluster = await startOwnRedisCluster({ password: PASSWORD });
  }, 60_000);
  afterAll(async () => {
    await cluster.stop();
  });

  test('REDIS_PASSWORD reaches every master; the hub on it answers /readyz 200', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', REDIS_CLUSTER_NODES: cluster.nodes.join(','), REDIS_PASSWORD: PASSWORD });
    expect(config.redis).toEqual({ kind: 'cluster', nodes: cluster.rootNodes, access: { password: PASSWORD } });
    const store = new RedisStore(await connectRedis(config.redis!));
    await roundTrip(store, 'auth-test', 6);
    const hub = await startTestHub('redis', {}, store);
    try {
      const ready = await fetch(`${hub.url}/readyz`);
      expect(await ready.json()).toEqual({ ready: true, reasons: [] });
    } finally {
      await hub.close();
    }
  }, 60_000);

  test('the password changed on the nodes under a running hub: /readyz says the credentials are refused, naming REDIS_PASSWORD, never a password', async () => {
    const env = { REDIS_CLUSTER_NODES: cluster.nodes.join(','), REDIS_PASSWORD: PASSWORD, HUB_STORE_CHECK_MS: '200' };
    const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
    const store = new RedisStore(await connectRedis(config.redis!));
    const hub = await startTestHub('redis', env, store);
    const changed = `changed-${randomUUID()}`;
    const setPassword = (from: string, to: string) =>
      Promise.all(cluster.rootNodes.map(async ({ port }) => {
        const admin = createClient({ socket: { host: '127.0.0.1', port }, password: from });
        await admin.connect();
        await admin.sendCommand(['CONFIG', 'SET', 'masterauth', to, 'requirepass', to]);
        await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
        await admin.destroy();
      }));
    try {
      await setPassword(PASSWORD, changed);
      // node-redis's cluster client retries quietly: before, /readyz said only "the store is
      // unavailable: check REDIS_URL …", a variable a cluster hub ignores.
      let reasons: string[] = [];
      for (let i = 0; i < 40 && !reasons.some((reason) => reason.includes('credentials')); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        reasons = ((await (await fetch(`${hub.url}/readyz`)).json()) as { reasons: string[] }).reasons;
      }
      expect(reasons).toEqual([expect.stringMatching(/refuses this hub’s credentials.*check REDIS_PASSWORD \(and REDIS_USERNAME/)]);
      expect(JSON.stringify(reasons)).not.toContain(PASSWORD);
      expect(JSON.stringify(reasons)).not.toContain(changed);
    } finally {
      await setPassword(changed, PASSWORD).catch(() => undefined);
      // Ready again before the clean-up, which reads the cluster.
      for (let i = 0; i < 60 && !(await fetch(`${hub.url}/readyz`)).ok; i += 1) await new Promise((resolve) => setTimeout(resolve, 250));
      await hub.close();
    }
  }, 60_000);

  test('without it, or with a wrong one: "refused the credentials", naming REDIS_PASSWORD, never showing the password', async () => {
    const missing = await refusal({ kind: 'cluster', nodes: cluster.rootNodes });
    expect(missing).toMatch(/refused the credentials \(NOAUTH/);
    expect(missing).toMatch(/REDIS_PASSWORD/);
    const wrongPassword = `wrong-${randomUUID()}`;
    const wrong = await refusal({ kind: 'cluster', nodes: cluster.rootNodes, access: { password: wrongPassword } });
    expect(wrong).toMatch(/refused the credentials \(WRONGPASS/);
    expect(wrong).not.toContain(wrongPassword);
  }, 60_000);

  test('REDIS_TLS against these nodes without TLS: refused saying they answer without TLS and to unset REDIS_TLS, never showing the password', async () => {
    const message = await refusal({ kind: 'cluster', nodes: cluster.rootNodes, access: { password: PASSWORD, tls: true } });
    expect(message).toMatch(/answers without TLS, and REDIS_TLS=true speaks TLS to it: unset REDIS_TLS/);
    expect(message).not.toMatch(/is it running/);
    expect(message).not.toContain(PASSWORD);
  }, 60_000);
});

/** `CONFIG SET requirepass NEW masterauth NEW` on each node (asked with `current`), then its clients other than this one cut off, as a restart or a network blip would. */
async function changePassword(nodes: { host: string; port: number }[], current: string, next: string): Promise<void> {
  for (const { host, port } of nodes) {
    const admin = createClient({ socket: { host, port, reconnectStrategy: false }, password: current });
    admin.on('error', () => {});
    await admin.connect();
    await admin.sendCommand(['CONFIG', 'SET', 'masterauth', next, 'requirepass', next]);
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
    await admin.destroy();
  }
}

describe('a cluster\'s password changed under a running hub', () => {
  let cluster: OwnRedisCluster;
  beforeAll(async () => {
    cluster = await startOwnRedisCluster({ password: PASSWORD });
  }, 60_000);
  afterAll(async () => {
    await cluster.stop();
  });

  test('the log and /readyz name REDIS_PASSWORD (not REDIS_URL, which a cluster does not read), never a password; the old one back: ready again', async () => {
    const env = { REDIS_CLUSTER_NODES: cluster.nodes.join(','), REDIS_PASSWORD: PASSWORD };
    const store = new RedisStore(await connectRedis(loadConfig({ LOG_LEVEL: 'silent', ...env }).redis!));
    const { lines, logger } = captureLogger();
    const hub = await startTestHub('redis', env, store, logger);
    const changed = `changed-${randomUUID()}`;
    let restored = false;
    try {
      expect((await hub.services.owned.readiness()).ready).toBe(true);
      await changePassword(cluster.rootNodes, PASSWORD, changed);
      // Not ready at once, then (once a connection has been refused and said so) with the reason.
      const deadline = Date.now() + 10_000;
      let readiness = await hub.services.owned.readiness();
      while (!/credentials/.test(readiness.reasons.join(' ')) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        readiness = await hub.services.owned.readiness();
      }
      expect(readiness.ready).toBe(false);
      const reasons = readiness.reasons.join(' ');
      expect(reasons).toMatch(/credentials.*check REDIS_PASSWORD/);
      expect(reasons).not.toMatch(/REDIS_URL/);
      const warned = lines.filter((line) => /^Redis connection error: Redis refuses this hub’s credentials/.test(line.message));
      expect(warned.length).toBeGreaterThan(0);
      for (const line of warned) {
        expect(line.message).toMatch(/check REDIS_PASSWORD/);
        expect(line.message).not.toMatch(/REDIS_URL/);
      }
      const logged = JSON.stringify(lines);
      expect(logged).not.toContain(PASSWORD);
      expect(logged).not.toContain(changed);
      // The servers' password put back (as a rolling restart with the new REDIS_PASSWORD would match them): ready again.
      await changePassword(cluster.rootNodes, changed, PASSWORD);
      restored = true;
      const back = Date.now() + 15_000;
      while (!(readiness = await hub.services.owned.readiness()).ready && Date.now() < back) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(readiness).toEqual({ ready: true, reasons: [] });
    } finally {
      if (!restored) await changePassword(cluster.rootNodes, changed, PASSWORD).catch(() => undefined);
      await hub.close();
      await store.close();
    }
  }, 60_000);
});

describe('Sentinel with passwords on the data servers and on the sentinels', () => {
  let sentinel: OwnRedisSentinel;
  beforeAll(async () => {
    sentinel = await startOwnRedisSentinel('sso-auth', { password: PASSWORD, sentinelPassword: SENTINEL_PASSWORD, sentinelUser: SENTINEL_USER });
  }, 60_000);
  afterAll(async () => {
    await sentinel.stop();
  });

  test('REDIS_PASSWORD and REDIS_SENTINEL_PASSWORD: the store works, and keeps working after the primary crashes and a replica is promoted', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', REDIS_SENTINELS: sentinel.sentinels.join(','), REDIS_SENTINEL_NAME: sentinel.name, REDIS_PASSWORD: PASSWORD, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD });
    expect(config.redis).toMatchObject({ kind: 'sentinel', access: { password: PASSWORD }, sentinelAccess: { password: SENTINEL_PASSWORD } });
    const store = new RedisStore(await connectRedis(config.redis!));
    try {
      await roundTrip(store, 'auth-test', 6);
      await sentinel.readyForFailover();
      await sentinel.killPrimary();
      // The promoted replica takes the same password (masterauth, auth-pass): writes come back.
      expect(await writesAgain(store, 'auth-test')).toBe(true);
      await roundTrip(store, 'auth-test', 6);
    } finally {
      await store.close();
    }
  }, 90_000);

  test('the data servers\' password changed under a running hub: the log and /readyz name REDIS_PASSWORD, never a password; the old one back: ready again', async () => {
    const env = { REDIS_SENTINELS: sentinel.sentinels.join(','), REDIS_SENTINEL_NAME: sentinel.name, REDIS_PASSWORD: PASSWORD, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD };
    const store = new RedisStore(await connectRedis(loadConfig({ LOG_LEVEL: 'silent', ...env }).redis!));
    const { lines, logger } = captureLogger();
    const hub = await startTestHub('redis', env, store, logger);
    const changed = `changed-${randomUUID()}`;
    const primary = { host: '127.0.0.1', port: await sentinel.primaryPort() };
    let restored = false;
    try {
      expect((await hub.services.owned.readiness()).ready).toBe(true);
      await changePassword([primary], PASSWORD, changed);
      const deadline = Date.now() + 10_000;
      let readiness = await hub.services.owned.readiness();
      while (!/credentials/.test(readiness.reasons.join(' ')) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        readiness = await hub.services.owned.readiness();
      }
      expect(readiness.ready).toBe(false);
      expect(readiness.reasons.join(' ')).toMatch(/credentials.*check REDIS_PASSWORD/);
      expect(readiness.reasons.join(' ')).not.toMatch(/REDIS_URL/);
      expect(lines.some((line) => /^Redis connection error: Redis refuses this hub’s credentials; check REDIS_PASSWORD/.test(line.message))).toBe(true);
      const logged = JSON.stringify(lines);
      expect(logged).not.toContain(PASSWORD);
      expect(logged).not.toContain(SENTINEL_PASSWORD);
      expect(logged).not.toContain(changed);
      await changePassword([primary], changed, PASSWORD);
      restored = true;
      const back = Date.now() + 15_000;
      while (!(readiness = await hub.services.owned.readiness()).ready && Date.now() < back) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(readiness).toEqual({ ready: true, reasons: [] });
    } finally {
      if (!restored) await changePassword([primary], changed, PASSWORD).catch(() => undefined);
      await hub.close();
      await store.close();
    }
  }, 60_000);

  test('REDIS_SENTINEL_USERNAME: the sentinels\' own ACL user reaches them; its password sent without it (as `default`) is refused naming REDIS_SENTINEL_USERNAME, never a password', async () => {
    const env = { LOG_LEVEL: 'silent', REDIS_SENTINELS: sentinel.sentinels.join(','), REDIS_SENTINEL_NAME: sentinel.name, REDIS_PASSWORD: PASSWORD, REDIS_SENTINEL_USERNAME: SENTINEL_USER.username, REDIS_SENTINEL_PASSWORD: SENTINEL_USER.password };
    const config = loadConfig(env);
    expect(config.redis).toMatchObject({ kind: 'sentinel', access: { password: PASSWORD }, sentinelAccess: { username: SENTINEL_USER.username, password: SENTINEL_USER.password } });
    // The data servers' credentials are not the sentinels': REDIS_USERNAME stays unset for them.
    expect((config.redis as { access?: { username?: string } }).access?.username).toBeUndefined();
    const store = new RedisStore(await connectRedis(config.redis!));
    try {
      await roundTrip(store, 'auth-test', 6);
    } finally {
      await store.close();
    }
    const base = { kind: 'sentinel' as const, sentinels: sentinel.sentinelRootNodes, name: sentinel.name, access: { password: PASSWORD } };
    const withoutUser = await refusal({ ...base, sentinelAccess: { password: SENTINEL_USER.password } });
    expect(withoutUser).toMatch(/refused the credentials \(WRONGPASS/);
    expect(withoutUser).toMatch(/REDIS_SENTINEL_USERNAME/);
    expect(withoutUser).not.toContain(SENTINEL_USER.password);
    expect(withoutUser).not.toContain(PASSWORD);
  }, 60_000);

  test('without the sentinels\' password, or the data servers\': refused naming the setting to fix, never a password', async () => {
    const base = { kind: 'sentinel' as const, sentinels: sentinel.sentinelRootNodes, name: sentinel.name };
    const noSentinelPassword = await refusal({ ...base, access: { password: PASSWORD } });
    expect(noSentinelPassword).toMatch(/refused the credentials/);
    expect(noSentinelPassword).toMatch(/REDIS_SENTINEL_PASSWORD/);
    expect(noSentinelPassword).not.toContain(PASSWORD);
    const noDataPassword = await refusal({ ...base, sentinelAccess: { password: SENTINEL_PASSWORD } });
    expect(noDataPassword).toMatch(/refused the credentials/);
    expect(noDataPassword).toMatch(/REDIS_PASSWORD/);
    expect(noDataPassword).not.toContain(SENTINEL_PASSWORD);
  }, 60_000);
});

describe('the settings are refused where they would do nothing', () => {
  test.each([
    [{ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PASSWORD: 'p' }, /REDIS_PASSWORD: only used with REDIS_CLUSTER_NODES or REDIS_SENTINELS; one server's user and password go in REDIS_URL/],
    [{ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_USERNAME: 'hub' }, /REDIS_USERNAME: only used with/],
    [{ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_TLS: 'true' }, /REDIS_TLS: only used with .* rediss:\/\//],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_SENTINEL_PASSWORD: 'p' }, /REDIS_SENTINEL_PASSWORD: only used with REDIS_SENTINELS/],
    [{ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_SENTINEL_USERNAME: 'hub' }, /REDIS_SENTINEL_USERNAME: only used with REDIS_SENTINELS/],
  ])('%j', (env, message) => {
    expect(() => loadConfig({ LOG_LEVEL: 'silent', ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ LOG_LEVEL: 'silent', ...env })).toThrow(message);
  });

  test('REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS go to a cluster\'s nodes; the sentinels get their own password and TLS', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_USERNAME: 'hub', REDIS_PASSWORD: 'p', REDIS_TLS: 'true' }).redis).toEqual({ kind: 'cluster', nodes: [{ host: '127.0.0.1', port: 7000 }], access: { username: 'hub', password: 'p', tls: true } });
    expect(loadConfig({ REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_PASSWORD: 'p', REDIS_SENTINEL_PASSWORD: 's', REDIS_TLS: 'true' }).redis).toEqual({ kind: 'sentinel', sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'm', access: { password: 'p', tls: true }, sentinelAccess: { password: 's', tls: true } });
  });
});

describe('a password refused while the hub runs (changed on the servers) names the settings of this kind of Redis', () => {
  // Before, /readyz and the connection-error log said "the password in REDIS_URL" on a cluster or
  // Sentinel too, where REDIS_URL is ignored: only the start-up message named REDIS_PASSWORD.
  const refused = new Error('WRONGPASS invalid username-password pair or user is disabled.');
  test.each([
    ['single', /the password in REDIS_URL/, /REDIS_PASSWORD/],
    ['cluster', /REDIS_PASSWORD \(and REDIS_USERNAME for a Redis ACL user\)/, /REDIS_URL/],
    ['sentinel', /REDIS_PASSWORD .* REDIS_SENTINEL_PASSWORD \(and REDIS_SENTINEL_USERNAME for an ACL user of the sentinels\) for the sentinels/, /REDIS_URL/],
  ] as const)('%s', (kind, named, notNamed) => {
    const problem = storeProblem(refused, kind);
    expect(problem).toMatch(/refuses this hub’s credentials/);
    expect(problem).toMatch(named);
    expect(problem).not.toMatch(notNamed);
  });
});
