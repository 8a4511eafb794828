/**
 * Mutual TLS and a private CA for Redis: REDIS_TLS_CA_FILE, REDIS_TLS_CERT_FILE and
 * REDIS_TLS_KEY_FILE on every connection the hub makes (a rediss:// REDIS_URL, a cluster's listed
 * and discovered nodes, the sentinels and their primary and replicas, the probes). Before, TLS
 * used Node's CAs (NODE_EXTRA_CA_CERTS for a private one) and no client certificate: a Redis with
 * `tls-auth-clients yes` (most managed ones offer it) could not be used, and the start said only
 * "did not answer: is it running, and are REDIS_URL … and its password right?".
 */
import { refusal, roundTrip, writesAgain } from './redis-store-checks.js';
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config.js';
import { answeringNodes } from '../src/store/redis-probe.js';
import { connectRedis, RedisStore, type RedisTarget } from '../src/store/redis.js';
import { createClient } from 'redis';
import { startHubProcess } from '../src/testing/hub-process.js';
import { startTestHub } from '../src/testing/test-hub.js';
import { startOwnRedisCluster, startOwnRedisSentinel, startOwnTlsRedis, type OwnRedis, type OwnRedisCluster, type OwnRedisSentinel } from '../src/testing/redis-server.js';
import { tlsCertificates, type TestCertificates } from '../src/testing/tls-certificates.js';

let dir: string;
let certs: TestCertificates;

/**
 * The nodes silent to answeringNodes' PING (a second each) on the last of up to five tries, the
 * first try every node answers ending them. On a loaded CI machine a TLS handshake alone can take
 * over a second, and every node counted as silent once; a PING sent without the client
 * certificate is refused on every try.
 */
async function silentAfterTries(nodes: { host: string; port: number }[], access: Parameters<typeof answeringNodes>[1]): Promise<string[]> {
  let silent: string[] = [];
  for (let i = 0; i < 5; i += 1) {
    ({ silent } = await answeringNodes(nodes, access));
    if (silent.length === 0) break;
  }
  return silent;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sso-redis-mtls-'));
  certs = await tlsCertificates(dir);
}, 30_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});


describe('the file settings are checked at start, naming the variable, never showing a key', () => {
  const url = 'rediss://127.0.0.1:6380';
  const configError = (env: Record<string, string>) => {
    try {
      loadConfig({ LOG_LEVEL: 'silent', ...env });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('no ConfigError');
  };

  test('a certificate without its key, or a key without its certificate', () => {
    expect(configError({ REDIS_URL: url, REDIS_TLS_CERT_FILE: certs.clientCert })).toMatch(/REDIS_TLS_KEY_FILE: required with REDIS_TLS_CERT_FILE/);
    expect(configError({ REDIS_URL: url, REDIS_TLS_KEY_FILE: certs.clientKey })).toMatch(/REDIS_TLS_CERT_FILE: required with REDIS_TLS_KEY_FILE/);
  });

  test('a file that does not exist, or is a directory', () => {
    expect(configError({ REDIS_URL: url, REDIS_TLS_CA_FILE: join(dir, 'nope.pem') })).toMatch(/REDIS_TLS_CA_FILE: .*nope\.pem: no such file/);
    expect(configError({ REDIS_URL: url, REDIS_TLS_CERT_FILE: certs.clientCert, REDIS_TLS_KEY_FILE: dir })).toMatch(/REDIS_TLS_KEY_FILE: .* is a directory/);
  });

  test('a key that is not the certificate\'s, a key file holding no key, a CA file holding no certificate: named, the key never shown', () => {
    const wrongKey = configError({ REDIS_URL: url, REDIS_TLS_CERT_FILE: certs.clientCert, REDIS_TLS_KEY_FILE: certs.key });
    expect(wrongKey).toMatch(/REDIS_TLS_KEY_FILE: .*server\.key is not the private key of the certificate in REDIS_TLS_CERT_FILE/);
    const noKey = configError({ REDIS_URL: url, REDIS_TLS_CERT_FILE: certs.clientCert, REDIS_TLS_KEY_FILE: certs.ca });
    expect(noKey).toMatch(/REDIS_TLS_KEY_FILE: .*ca\.pem holds no private key/);
    const noCa = configError({ REDIS_URL: url, REDIS_TLS_CA_FILE: certs.clientKey });
    expect(noCa).toMatch(/REDIS_TLS_CA_FILE: .*client\.key holds no PEM certificate/);
    // A line of the key's base64 (the key file was named, and read, in each case).
    const keyLine = readFileSync(certs.clientKey, 'utf8').split('\n')[3]!;
    const serverKeyLine = readFileSync(certs.key, 'utf8').split('\n')[3]!;
    for (const message of [wrongKey, noKey, noCa]) {
      expect(message).not.toContain(keyLine);
      expect(message).not.toContain(serverKeyLine);
    }
  });

  test('without TLS they would do nothing: refused', () => {
    expect(configError({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_TLS_CA_FILE: certs.ca })).toMatch(/REDIS_TLS_CA_FILE: only used with TLS: REDIS_TLS=true .* or a rediss:\/\/ REDIS_URL/);
    expect(configError({ REDIS_CLUSTER_NODES: '127.0.0.1:7000', REDIS_TLS_CERT_FILE: certs.clientCert, REDIS_TLS_KEY_FILE: certs.clientKey })).toMatch(/REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE: only used with TLS/);
  });

  test('read into the target; the configuration serialised shows the paths, never the key', () => {
    const env = { LOG_LEVEL: 'silent', REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_TLS: 'true', REDIS_TLS_CA_FILE: certs.ca, REDIS_TLS_CERT_FILE: certs.clientCert, REDIS_TLS_KEY_FILE: certs.clientKey };
    const config = loadConfig(env);
    const target = config.redis as Extract<RedisTarget, { kind: 'sentinel' }>;
    // The same files for the sentinels and for the primary and replicas.
    expect(target.access?.tlsFiles?.socketOptions()).toEqual({ ca: expect.stringContaining('BEGIN CERTIFICATE'), cert: expect.stringContaining('BEGIN CERTIFICATE'), key: expect.stringContaining('PRIVATE KEY') });
    expect(target.sentinelAccess?.tlsFiles).toBe(target.access?.tlsFiles);
    const shown = JSON.stringify(config);
    expect(shown).toContain(certs.clientKey);
    expect(shown).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  });
});

describe('one server with tls-auth-clients yes (a rediss:// REDIS_URL)', () => {
  let redis: OwnRedis & { adminPort: number };
  beforeAll(async () => {
    redis = await startOwnTlsRedis({ ...certs, authClients: true });
  }, 30_000);
  afterAll(async () => {
    await redis.stop();
  });

  test('with the CA and a client certificate: the store works', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', REDIS_URL: redis.url, REDIS_TLS_CA_FILE: certs.ca, REDIS_TLS_CERT_FILE: certs.clientCert, REDIS_TLS_KEY_FILE: certs.clientKey });
    const store = new RedisStore(await connectRedis(config.redis!));
    try {
      await roundTrip(store, 'mtls-test');
    } finally {
      await store.close();
    }
  }, 30_000);

  test('without a client certificate: refused, saying the server asks for one and which settings give it', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', REDIS_URL: redis.url, REDIS_TLS_CA_FILE: certs.ca });
    const message = await refusal(config.redis!);
    expect(message).toMatch(/did not complete the TLS handshake( with 127\.0\.0\.1:\d+)?: the server asks for a client certificate \(tls-auth-clients\): set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE/);
    expect(message).not.toMatch(/is it running/);
  }, 30_000);

  test('with a CA that did not sign the server\'s certificate: refused naming REDIS_TLS_CA_FILE', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', REDIS_URL: redis.url, REDIS_TLS_CA_FILE: certs.otherCa, REDIS_TLS_CERT_FILE: certs.clientCert, REDIS_TLS_KEY_FILE: certs.clientKey });
    expect(await refusal(config.redis!)).toMatch(/does not trust the server's certificate: set REDIS_TLS_CA_FILE/);
  }, 30_000);

  test('the server stops trusting the hub\'s client certificate under a running hub (its CA changed): /readyz names REDIS_TLS_CERT_FILE; trusted again: ready', async () => {
    const env = { REDIS_URL: redis.url, REDIS_TLS_CA_FILE: certs.ca, REDIS_TLS_CERT_FILE: certs.clientCert, REDIS_TLS_KEY_FILE: certs.clientKey, HUB_STORE_CHECK_MS: '200' };
    const store = new RedisStore(await connectRedis(loadConfig({ LOG_LEVEL: 'silent', ...env }).redis!));
    const hub = await startTestHub('redis', env, store);
    const admin = async (args: string[]) => {
      const client = createClient({ socket: { host: '127.0.0.1', port: redis.adminPort, reconnectStrategy: false } });
      client.on('error', () => undefined);
      await client.connect();
      await client.sendCommand(args);
      await client.destroy();
    };
    let restored = false;
    try {
      expect((await hub.services.owned.readiness()).ready).toBe(true);
      // Clients' certificates are now checked against another CA; the hub's connections cut, as a restart would.
      await admin(['CONFIG', 'SET', 'tls-ca-cert-file', certs.otherCa]);
      await admin(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
      const deadline = Date.now() + 10_000;
      let readiness = await hub.services.owned.readiness();
      while (!/TLS/.test(readiness.reasons.join(' ')) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        readiness = await hub.services.owned.readiness();
      }
      expect(readiness.ready).toBe(false);
      expect(readiness.reasons).toEqual([expect.stringMatching(/^the store refuses this hub’s TLS connection: the server refused this hub's client certificate \(REDIS_TLS_CERT_FILE\)/)]);
      await admin(['CONFIG', 'SET', 'tls-ca-cert-file', certs.ca]);
      restored = true;
      const back = Date.now() + 15_000;
      while (!(readiness = await hub.services.owned.readiness()).ready && Date.now() < back) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(readiness).toEqual({ ready: true, reasons: [] });
    } finally {
      if (!restored) await admin(['CONFIG', 'SET', 'tls-ca-cert-file', certs.ca]).catch(() => undefined);
      await hub.close();
      await store.close();
    }
  }, 60_000);

  test('a hub process started with the three files is ready; without the key file it exits naming REDIS_TLS_KEY_FILE', async () => {
    // A copy the test removes: the hub reads the files at start only.
    const keyCopy = join(dir, `hub-${randomUUID()}.key`);
    await copyFile(certs.clientKey, keyCopy);
    const env = { REDIS_URL: redis.url, REDIS_TLS_CA_FILE: certs.ca, REDIS_TLS_CERT_FILE: certs.clientCert, REDIS_TLS_KEY_FILE: keyCopy, KEY_PREFIX: `mtls-test-${Date.now()}:` };
    const hub = await startHubProcess(env);
    try {
      expect(await (await fetch(`${hub.url}/readyz`)).json()).toEqual({ ready: true, reasons: [] });
    } finally {
      await hub.stop();
    }
    await rm(keyCopy);
    await expect(startHubProcess(env, '/readyz', 30_000)).rejects.toThrow(/hub exited \(1\) before it was ready: [\s\S]*REDIS_TLS_KEY_FILE: .*\.key: no such file/);
  }, 90_000);
});

describe('the server\'s own certificate at fault: expired, or not naming the address the hub connects to', () => {
  let expired: OwnRedis & { adminPort: number };
  let good: OwnRedis & { adminPort: number };
  beforeAll(async () => {
    // Signed by the same CA, valid for no time at all (openssl -days 0): expired by the time a client looks.
    execFileSync('openssl', ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'expired.pem', '-days', '0', '-extfile', 'ext.cnf'], { cwd: dir, stdio: 'ignore' });
    expired = await startOwnTlsRedis({ ...certs, cert: join(dir, 'expired.pem') });
    good = await startOwnTlsRedis(certs);
  }, 30_000);
  afterAll(async () => {
    await expired?.stop();
    await good?.stop();
  });

  test('an expired server certificate: refused saying it expired and where to renew it', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', REDIS_URL: expired.url, REDIS_TLS_CA_FILE: certs.ca });
    const message = await refusal(config.redis!);
    expect(message).toMatch(/the server's certificate has expired: renew it on the Redis server/);
    expect(message).not.toMatch(/is it running/);
  }, 30_000);

  test('a server certificate for 127.0.0.1 reached as localhost: refused saying to use a name or address the certificate lists', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', REDIS_URL: good.url.replace('127.0.0.1', 'localhost'), REDIS_TLS_CA_FILE: certs.ca });
    const message = await refusal(config.redis!);
    expect(message).toMatch(/the server's certificate does not name the address the hub connects to: give the address by a name or IP its certificate lists \(subjectAltName\)/);
    // By the address the certificate names: the store works.
    const store = new RedisStore(await connectRedis(loadConfig({ LOG_LEVEL: 'silent', REDIS_URL: good.url, REDIS_TLS_CA_FILE: certs.ca }).redis!));
    try {
      await roundTrip(store, 'mtls-test');
    } finally {
      await store.close();
    }
  }, 30_000);
});

describe('a Redis Cluster with tls-auth-clients yes', () => {
  let cluster: OwnRedisCluster;
  beforeAll(async () => {
    cluster = await startOwnRedisCluster({ tls: { ...certs, authClients: true } });
  }, 60_000);
  afterAll(async () => {
    await cluster.stop();
  });

  test('one node listed: the nodes discovered from it get the client certificate too (keys on every master)', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', REDIS_CLUSTER_NODES: cluster.nodes[0]!, REDIS_TLS: 'true', REDIS_TLS_CA_FILE: certs.ca, REDIS_TLS_CERT_FILE: certs.clientCert, REDIS_TLS_KEY_FILE: certs.clientKey });
    // The cluster watch's and the start's PINGs (answeringNodes) carry the certificate too.
    const access = (config.redis as Extract<RedisTarget, { kind: 'cluster' }>).access;
    expect(await silentAfterTries(cluster.rootNodes, access)).toEqual([]);
    const store = new RedisStore(await connectRedis(config.redis!));
    try {
      await roundTrip(store, 'mtls-test');
    } finally {
      await store.close();
    }
  }, 30_000);

  test('without a client certificate: refused, naming REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE', async () => {
    const config = loadConfig({ LOG_LEVEL: 'silent', REDIS_CLUSTER_NODES: cluster.nodes.join(','), REDIS_TLS: 'true', REDIS_TLS_CA_FILE: certs.ca });
    const message = await refusal(config.redis!);
    expect(message).toMatch(/asks for a client certificate \(tls-auth-clients\): set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE/);
  }, 30_000);
});

describe('Sentinel with tls-auth-clients yes on the sentinels, the primary and the replica', () => {
  let sentinel: OwnRedisSentinel;
  beforeAll(async () => {
    sentinel = await startOwnRedisSentinel('sso-mtls', { tls: { ...certs, authClients: true } });
  }, 60_000);
  afterAll(async () => {
    await sentinel.stop();
  });

  const env = () => ({ LOG_LEVEL: 'silent', REDIS_SENTINELS: sentinel.sentinels.join(','), REDIS_SENTINEL_NAME: sentinel.name, REDIS_TLS: 'true', REDIS_TLS_CA_FILE: certs.ca });

  test('the sentinels and the primary they name take the client certificate; after the primary crashes, the promoted replica too', async () => {
    const config = loadConfig({ ...env(), REDIS_TLS_CERT_FILE: certs.clientCert, REDIS_TLS_KEY_FILE: certs.clientKey });
    const target = config.redis as Extract<RedisTarget, { kind: 'sentinel' }>;
    // The sentinel watch's PINGs (answeringNodes, as SentinelWatch asks) carry the certificate:
    // without it every sentinel would count as silent.
    expect(await silentAfterTries(target.sentinels, target.sentinelAccess)).toEqual([]);
    expect((await answeringNodes(target.sentinels, { tls: true })).answering).toEqual([]);
    const store = new RedisStore(await connectRedis(config.redis!));
    try {
      await roundTrip(store, 'mtls-test');
      await sentinel.readyForFailover();
      await sentinel.killPrimary();
      expect(await writesAgain(store, 'mtls-test')).toBe(true);
      await roundTrip(store, 'mtls-test');
    } finally {
      await store.close();
    }
  }, 90_000);

  test('without a client certificate: refused, naming REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE', async () => {
    const message = await refusal(loadConfig(env()).redis!);
    expect(message).toMatch(/asks for a client certificate \(tls-auth-clients\): set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE/);
  }, 30_000);
});
