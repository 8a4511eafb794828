import { generateKeyPairSync } from 'node:crypto';
/**
 * The hub's configuration: parsed once from the environment, validated, frozen. A bad value
 * fails at start-up with a ConfigError that names the variable.
 */
import { checkServerStart, ConfigError, defaultArgon2Concurrency, loadConfig } from '../src/config.js';

describe('loadConfig defaults', () => {
  test('an empty environment gives the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      HUB_PORT: 4000,
      HUB_HOST: '127.0.0.1',
      HUB_ISSUER: 'http://hub.sso.localhost:4000',
      KEY_PREFIX: 'sso:',
      HUB_TRUST_PROXY: false,
      HUB_SESSION_TTL: 12 * 3600,
      HUB_CONSENT_TTL: 180 * 86_400,
      HUB_ACCESS_TOKEN_TTL: 3600,
      HUB_REFRESH_TOKEN_TTL: 14 * 86_400,
      ARGON2_MEMORY_KIB: 19_456,
      ARGON2_ITERATIONS: 2,
      ARGON2_PARALLELISM: 1,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: 5,
      LOGIN_MAX_ATTEMPTS_PER_IP: 50,
      LOGIN_WINDOW_SECONDS: 15 * 60,
      SYNC_WAIT_MS: 1_500,
      SYNC_CODE_TTL: 60,
      HUB_ENABLE_PASSWORD_GRANT: false,
      LOG_LEVEL: 'info',
      secureCookies: false,
    });
    // Unset secrets and Redis mean: generated secrets, the embedded store.
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.HUB_COOKIE_SECRETS).toBeUndefined();
    expect(config.HUB_JWKS).toBeUndefined();
  });

  test('values are coerced from strings; the issuer loses its trailing slash; https turns on secure cookies', () => {
    const config = loadConfig({
      HUB_PORT: '8443',
      HUB_ISSUER: 'https://id.example.test/',
      HUB_TRUST_PROXY: 'yes',
      HUB_ENABLE_PASSWORD_GRANT: '1',
      REDIS_URL: 'redis://127.0.0.1:6379',
      HUB_COOKIE_SECRETS: `${'first-cookie-secret-0123456789abcd'}, ${'second-cookie-secret-0123456789abcdefgh'}`,
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
    });
    expect(config.HUB_PORT).toBe(8443);
    expect(config.HUB_ISSUER).toBe('https://id.example.test');
    // Written in capitals, it is the same origin (and Secure cookies follow it).
    const shouted = loadConfig({ HUB_ISSUER: 'HTTPS://ID.Example.TEST:443/', HUB_TRUST_PROXY: 'true' });
    expect(shouted.HUB_ISSUER).toBe('https://id.example.test');
    expect(shouted.secureCookies).toBe(true);
    expect(config.secureCookies).toBe(true);
    expect(config.HUB_TRUST_PROXY).toBe(true);
    expect(config.HUB_ENABLE_PASSWORD_GRANT).toBe(true);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.HUB_COOKIE_SECRETS).toEqual(['first-cookie-secret-0123456789abcd', 'second-cookie-secret-0123456789abcdefgh']);
    expect(config.LOGIN_MAX_FAILURES_PER_ACCOUNT).toBe(3);
  });

  test('a valid JWKS is accepted as parsed JSON', () => {
    const jwks = { keys: [generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })] };
    expect(loadConfig({ HUB_JWKS: JSON.stringify(jwks) }).HUB_JWKS).toEqual(jwks);
  });

  test('a JWKS the hub would start with and then fail every sign-in is refused, naming HUB_JWKS and what to fix (an outside review: ready, and every RS256 client and the portal failed)', () => {
    const rsa = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'r1' };
    const ec = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'e1' };
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' });
    const cases: [Record<string, unknown>[], RegExp][] = [
      [[ec], /HUB_JWKS: has no RSA \(RS256\) key: RS256 signs the ID tokens of every client by default.*add an RSA private key/],
      [[rsa, { ...ec, kid: 'r1' }], /HUB_JWKS: has kid "r1" on two keys/],
      [[{ ...rsa, alg: 'ES256' }], /HUB_JWKS: key 0 \(kid r1\) has alg "ES256", which an RSA key does not sign with: give it alg "RS256" or leave alg out/],
      [[rsa, p384], /HUB_JWKS: key 1 is an EC key on curve "P-384": the hub signs with RSA \(RS256\), EC P-256 \(ES256\) or OKP Ed25519 \(EdDSA\) keys/],
    ];
    for (const [keys, message] of cases) expect(() => loadConfig({ HUB_JWKS: JSON.stringify({ keys }) })).toThrow(message);
    expect(loadConfig({ HUB_JWKS: JSON.stringify({ keys: [rsa, ec] }) }).HUB_JWKS?.keys).toHaveLength(2);
  });

  test('a JWKS key that cannot sign is refused at start, naming HUB_JWKS and the key (an outside review: oidc-provider\'s words named neither, after the store was written)', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ kty: 'RSA', n: rsa.n, e: rsa.e, d: rsa.d, kid: 'half' }, /HUB_JWKS: key 0 \(kid half\) is not a usable private key/],
      [{ kty: 'oct', k: 'abc', d: 'x' }, /HUB_JWKS: key 0 has kty "oct": signing keys are RSA, EC or OKP/],
      [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }, /HUB_JWKS: key 0 is not a usable private key/],
    ];
    for (const [key, message] of cases) expect(() => loadConfig({ HUB_JWKS: JSON.stringify({ keys: [key] }) })).toThrow(message);
    expect(loadConfig({ HUB_JWKS: JSON.stringify({ keys: [rsa] }) }).HUB_JWKS?.keys).toHaveLength(1);
  });

  test('only the environment it is given is read', () => {
    const saved = process.env.HUB_PORT;
    process.env.HUB_PORT = '1234';
    try {
      expect(loadConfig({}).HUB_PORT).toBe(4000);
    } finally {
      if (saved === undefined) delete process.env.HUB_PORT;
      else process.env.HUB_PORT = saved;
    }
  });
});

describe('loadConfig rejects bad values, naming the variable', () => {
  test.each([
    ['HUB_PORT', 'abc'],
    ['HUB_PORT', '70000'],
    ['HUB_PORT', '0'],
    ['ARGON2_MEMORY_KIB', '1024'],
    ['ARGON2_ITERATIONS', '1'],
    ['HUB_ISSUER', 'notaurl'],
    ['HUB_JWKS', '{}'],
    ['HUB_JWKS', '{"keys":[]}'],
    ['HUB_JWKS', 'not json'],
    ['HUB_COOKIE_SECRETS', 'too-short'],
    ['REDIS_URL', 'localhost'],
    ['HUB_TRUST_PROXY', 'maybe'],
    ['LOGIN_MAX_FAILURES_PER_ACCOUNT', '0'],
    ['LOGIN_MAX_ATTEMPTS_PER_IP', '-1'],
    ['SYNC_CODE_TTL', '3600'],
    ['HUB_SESSION_TTL', '1.5'],
    ['LOG_LEVEL', 'verbose'],
  ])('%s=%s', (name, value) => {
    let thrown: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).name).toBe('ConfigError');
    expect((thrown as ConfigError).message).toContain(name);
  });

  test('a port Kubernetes or docker --link set for a service named hub or metrics (HUB_PORT=tcp://10.0.0.7:4000) is said as that, with what to do', () => {
    // Kubernetes gives every pod <SERVICE>_PORT=tcp://ip:port for each Service of its namespace
    // (enableServiceLinks, on by default): a Service named `hub` sets HUB_PORT, and the hub refused
    // to start with "must be a whole number" for a variable nobody wrote.
    const k8s = { HUB_PORT: 'tcp://10.0.0.7:4000', HUB_SERVICE_HOST: '10.0.0.7', HUB_SERVICE_PORT: '4000', HUB_PORT_4000_TCP: 'tcp://10.0.0.7:4000', METRICS_PORT: 'tcp://10.0.0.9:9464', KUBERNETES_SERVICE_HOST: '10.96.0.1' };
    expect(() => loadConfig(k8s)).toThrow(/HUB_PORT: is tcp:\/\/10\.0\.0\.7:4000, the address of a Service named "hub".*enableServiceLinks: false/);
    expect(() => loadConfig(k8s)).toThrow(/METRICS_PORT: is tcp:\/\/10\.0\.0\.9:9464, the address of a Service named "metrics"/);
    expect(loadConfig({ ...k8s, HUB_PORT: '4000', METRICS_PORT: undefined }).HUB_PORT).toBe(4000);
  });

  test('every bad variable is named at once, and the values of secrets are not echoed', () => {
    const secret = 'short-secret-value';
    let message = '';
    try {
      loadConfig({ HUB_PORT: 'abc', ARGON2_MEMORY_KIB: '1024', HUB_COOKIE_SECRETS: secret });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('HUB_PORT');
    expect(message).toContain('ARGON2_MEMORY_KIB');
    expect(message).toContain('HUB_COOKIE_SECRETS');
    expect(message).toMatch(/19456/); // says why: the OWASP floor
    expect(message).not.toContain(secret);
  });

  test('a guessable secret (fewer than 8 different characters: one letter repeated, a word said again and again) is refused naming the variable and how to make one, never echoing it (an operator review: 43 times "a" signed every cookie)', () => {
    const weak = 'a'.repeat(43);
    const said = 'changemechangemechangemechangeme';
    for (const [env, name] of [
      [{ HUB_COOKIE_SECRETS: weak }, 'HUB_COOKIE_SECRETS.0'],
      [{ HUB_COOKIE_SECRETS: `current-cookie-secret-0123456789abcdef,${said}` }, 'HUB_COOKIE_SECRETS.1'],
      [{ HUB_TOTP_KEYS: said }, 'HUB_TOTP_KEYS.0'],
      [{ HUB_TOTP_KEYS: `${said},current-totp-key-0123456789abcdefghij` }, 'HUB_TOTP_KEYS.0'],
      [{ METRICS_TOKEN: weak }, 'METRICS_TOKEN'],
    ] as const) {
      let message = '';
      try {
        loadConfig(env);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(new RegExp(`${name.replace('.', '\\.')}: .*at least 8 different characters.*openssl rand -base64 33`));
      expect(message).not.toContain(weak);
      expect(message).not.toContain(said);
    }
    // An older two-step key after the first only opens what it sealed (records are not sealed again): kept.
    expect(loadConfig({ HUB_TOTP_KEYS: `current-totp-key-0123456789abcdefghij,${said}` }).HUB_TOTP_KEYS).toHaveLength(2);
    // Random ones pass: hex (16 characters to pick from) and base64.
    expect(() => loadConfig({ HUB_COOKIE_SECRETS: '3f9a0c7be12d4486a95f0e2c7b1d9e46', HUB_TOTP_KEYS: 'q9Zt0L3xVb7mW2kP8rN4cY6hJ1sD5fGa', METRICS_TOKEN: 'k2N8vQ4pZ7rT1mX9cW3bY6hL0sD5fGaJ' })).not.toThrow();
  });

  test('a key activation delay a subsite could not follow is refused (openid-client 6 refetches its key set at most every 60 s)', () => {
    // 15 s passed the old check (> 2 × 5 s) and failed new sign-ins at kit sites for up to 30 s;
    // 60 s (the old default) failed them at openid-client sites for up to 10 s (key-rotation-rp-cache.test.ts).
    expect(() => loadConfig({ HUB_KEY_ACTIVATION_DELAY_MS: '60000', HUB_SUBSITE_JWKS_REFETCH_MS: '60000' })).toThrow(/HUB_KEY_ACTIVATION_DELAY_MS: must be more than twice HUB_STORE_CHECK_MS plus HUB_SUBSITE_JWKS_REFETCH_MS \(70000 ms\)/);
    // HUB_SUBSITE_JWKS_REFETCH_MS unset: the former allowance (30 s) is the floor, so an upgrade
    // does not stop a hub whose environment kept the former default delay; said at start instead.
    expect(() => loadConfig({ HUB_KEY_ACTIVATION_DELAY_MS: '40000' })).toThrow(/HUB_SUBSITE_JWKS_REFETCH_MS \(40000 ms\)/);
    const kept = loadConfig({ HUB_KEY_ACTIVATION_DELAY_MS: '60000' });
    expect(kept.HUB_KEY_ACTIVATION_DELAY_MS).toBe(60_000);
    const warned = checkServerStart(kept, { HUB_KEY_ACTIVATION_DELAY_MS: '60000' }, {});
    expect(warned.join('\n')).toMatch(/HUB_KEY_ACTIVATION_DELAY_MS \(60000 ms\) leaves no room .*openid-client 6.*raise it above 70000 ms.*HUB_SUBSITE_JWKS_REFETCH_MS=30000/);
    expect(checkServerStart(loadConfig({}), {}, {}).join('\n')).not.toMatch(/HUB_KEY_ACTIVATION_DELAY_MS/);
    expect(checkServerStart(loadConfig({ HUB_KEY_ACTIVATION_DELAY_MS: '60000', HUB_SUBSITE_JWKS_REFETCH_MS: '30000' }), {}, {}).join('\n')).not.toMatch(/HUB_KEY_ACTIVATION_DELAY_MS/);
    expect(loadConfig({ HUB_KEY_ACTIVATION_DELAY_MS: '70001' }).HUB_KEY_ACTIVATION_DELAY_MS).toBe(70_001);
    expect(loadConfig({}).HUB_SUBSITE_JWKS_REFETCH_MS).toBe(60_000);
    expect(loadConfig({}).HUB_KEY_ACTIVATION_DELAY_MS).toBe(90_000);
    // Only kit and jose sites (30 s), as before: the old values stay accepted when said.
    expect(loadConfig({ HUB_KEY_ACTIVATION_DELAY_MS: '60000', HUB_SUBSITE_JWKS_REFETCH_MS: '30000' }).HUB_KEY_ACTIVATION_DELAY_MS).toBe(60_000);
    // Subsites that refetch at once on an unknown kid: only the publication counts.
    expect(loadConfig({ HUB_KEY_ACTIVATION_DELAY_MS: '15000', HUB_SUBSITE_JWKS_REFETCH_MS: '0' }).HUB_KEY_ACTIVATION_DELAY_MS).toBe(15_000);
  });

  test('HUB_UNVERIFIED_ACCOUNT_DAYS: whole days, 7 by default, 0 keeps unverified accounts; less than the 24 h link is refused, naming the setting', () => {
    expect(loadConfig({}).HUB_UNVERIFIED_ACCOUNT_DAYS).toBe(7);
    expect(loadConfig({ HUB_UNVERIFIED_ACCOUNT_DAYS: '0' }).HUB_UNVERIFIED_ACCOUNT_DAYS).toBe(0);
    expect(loadConfig({ HUB_UNVERIFIED_ACCOUNT_DAYS: '1' }).HUB_UNVERIFIED_ACCOUNT_DAYS).toBe(1);
    // Half a day would remove an account while its verification link still works.
    for (const value of ['0.5', '-1', '1e1', 'week', ' 7']) {
      expect(() => loadConfig({ HUB_UNVERIFIED_ACCOUNT_DAYS: value })).toThrow(/HUB_UNVERIFIED_ACCOUNT_DAYS: must be whole days .*at least 1 \(the verification link lasts 24 hours.*or 0 to keep unverified accounts for good/);
    }
    expect(() => loadConfig({ HUB_UNVERIFIED_ACCOUNT_DAYS: '36500' })).toThrow(/HUB_UNVERIFIED_ACCOUNT_DAYS: must be at most 3650/);
  });

  test('DELIVERY_PER_SUBSITE: 5 by default, whole numbers from 1 to 100, else refused naming the setting', () => {
    expect(loadConfig({}).DELIVERY_PER_SUBSITE).toBe(5);
    expect(loadConfig({ DELIVERY_PER_SUBSITE: '1' }).DELIVERY_PER_SUBSITE).toBe(1);
    expect(loadConfig({ DELIVERY_PER_SUBSITE: '100' }).DELIVERY_PER_SUBSITE).toBe(100);
    for (const value of ['0', '101', '2.5', 'five']) expect(() => loadConfig({ DELIVERY_PER_SUBSITE: value })).toThrow(/DELIVERY_PER_SUBSITE: /);
  });

  test('SIGNUP_MAILS_PER_NETWORK and SIGNUP_MAILS_PER_ADDRESS: 3 and 10 by default; one network\'s share must stay below the address\'s cap', () => {
    expect(loadConfig({})).toMatchObject({ SIGNUP_MAILS_PER_NETWORK: 3, SIGNUP_MAILS_PER_ADDRESS: 10 });
    expect(loadConfig({ SIGNUP_MAILS_PER_NETWORK: '1', SIGNUP_MAILS_PER_ADDRESS: '2' })).toMatchObject({ SIGNUP_MAILS_PER_NETWORK: 1, SIGNUP_MAILS_PER_ADDRESS: 2 });
    // Equal: one network could use up an address's mails for everyone again.
    expect(() => loadConfig({ SIGNUP_MAILS_PER_NETWORK: '10' })).toThrow(ConfigError);
    expect(() => loadConfig({ SIGNUP_MAILS_PER_NETWORK: '10' })).toThrow(/SIGNUP_MAILS_PER_NETWORK: must be less than SIGNUP_MAILS_PER_ADDRESS \(10 >= 10\).*one network could use up an address's sign-up mails for everyone/);
    expect(() => loadConfig({ SIGNUP_MAILS_PER_ADDRESS: '3' })).toThrow(/SIGNUP_MAILS_PER_NETWORK: must be less than SIGNUP_MAILS_PER_ADDRESS \(3 >= 3\)/);
    expect(() => loadConfig({ SIGNUP_MAILS_PER_ADDRESS: '1000' })).toThrow(/SIGNUP_MAILS_PER_ADDRESS: must be at most 100/);
    for (const value of ['0', '-1', '2.5', 'ten']) expect(() => loadConfig({ SIGNUP_MAILS_PER_NETWORK: value })).toThrow(/SIGNUP_MAILS_PER_NETWORK: /);
  });

  test('argon2id may not take every libuv pool thread: ID-token signatures need one', () => {
    expect(() => loadConfig({ ARGON2_CONCURRENCY: '4' })).toThrow(/ARGON2_CONCURRENCY: must be less than UV_THREADPOOL_SIZE \(4 >= 4\).*lower it, or raise UV_THREADPOOL_SIZE/);
    expect(loadConfig({ ARGON2_CONCURRENCY: '4', UV_THREADPOOL_SIZE: '8' }).argon2Turns).toEqual({ concurrency: 4, queueLimit: 1600, maxWaitMs: 20_000 });
    expect(() => loadConfig({ UV_THREADPOOL_SIZE: '1' })).toThrow(/UV_THREADPOOL_SIZE: must be at least 2/);
  });

  test('argon2id turns default to the cores, one pool thread always left, and 400 waiting per turn (about ten seconds)', () => {
    expect(defaultArgon2Concurrency(4, 2)).toBe(2);
    expect(defaultArgon2Concurrency(4, 16)).toBe(3);
    expect(defaultArgon2Concurrency(2, 1)).toBe(1);
    const { concurrency, queueLimit } = loadConfig({}).argon2Turns;
    expect(concurrency).toBe(defaultArgon2Concurrency(4));
    expect(queueLimit).toBe(400 * concurrency);
    expect(loadConfig({ ARGON2_QUEUE_LIMIT: '10' }).argon2Turns.queueLimit).toBe(10);
    expect(loadConfig({ ARGON2_QUEUE_WAIT_MS: '5000' }).argon2Turns.maxWaitMs).toBe(5_000);
  });

  test('the argon2 memory floor itself is accepted', () => {
    expect(loadConfig({ ARGON2_MEMORY_KIB: '19456' }).ARGON2_MEMORY_KIB).toBe(19_456);
  });
});

describe('loadConfig result', () => {
  test('is frozen: assignment throws and nothing changes', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { HUB_PORT: number }).HUB_PORT = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config as unknown as Record<string, unknown>).NEW_OPTION = true;
    }).toThrow(TypeError);
    expect(config.HUB_PORT).toBe(4000);
  });
});

describe('which Redis: one server, a cluster or Sentinel', () => {
  test('REDIS_URL alone is one server; nothing is the embedded store', () => {
    expect(loadConfig({ REDIS_URL: 'redis://r:6379' }).redis).toEqual({ kind: 'single', url: 'redis://r:6379' });
    expect(loadConfig({}).redis).toBeUndefined();
    // The path is the database: none, a bare slash, or a number.
    for (const url of ['redis://r:6379/', 'redis://r:6379/3', 'rediss://u:p@r:6380/15']) expect(loadConfig({ REDIS_URL: url }).redis).toEqual({ kind: 'single', url });
  });

  test('REDIS_CLUSTER_NODES is a cluster, and takes the place of a REDIS_URL default; it waits for one replica by default, as Sentinel does', () => {
    const config = loadConfig({ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'a:7000, b:7001,[::1]:7002' });
    expect(config.redis).toEqual({ kind: 'cluster', nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }, { host: '::1', port: 7002 }] });
    expect(config.redisWaitReplicas).toBe(1);
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_WAIT_REPLICAS: '0' }).redisWaitReplicas).toBe(0);
  });

  test('REDIS_SENTINELS with REDIS_SENTINEL_NAME is Sentinel, waiting for one replica by default', () => {
    const config = loadConfig({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'mymaster' });
    expect(config.redis).toEqual({ kind: 'sentinel', name: 'mymaster', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }] });
    expect(config.redisWaitReplicas).toBe(1);
    expect(loadConfig({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_WAIT_REPLICAS: '0' }).redisWaitReplicas).toBe(0);
  });

  test.each([
    [{ REDIS_SENTINELS: 's1:26379' }, /REDIS_SENTINEL_NAME: required/],
    [{ REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINEL_NAME: only used with REDIS_SENTINELS/],
    [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2', REDIS_SENTINEL_NAME: 'm' }, /set only one/],
    [{ REDIS_CLUSTER_NODES: 'a' }, /REDIS_CLUSTER_NODES: "a" is not host:port/],
    [{ REDIS_SENTINELS: 'a:99999', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS: "a:99999" is not host:port/],
    [{ REDIS_CLUSTER_NODES: ' , ' }, /REDIS_CLUSTER_NODES: needs at least one/],
    [{ KEY_PREFIX: 'sso:{x}:' }, /KEY_PREFIX: must not contain/],
    // Accepted before, and then served wrongly: endpoints without the path, an http hub behind an
    // https issuer, an ftp issuer failing later with a message about a redirect URI.
    [{ HUB_ISSUER: 'https://id.example.com/sso', HUB_TRUST_PROXY: 'true' }, /HUB_ISSUER: must be an origin only \(scheme, host, port\): the hub serves its endpoints at the root/],
    [{ HUB_ISSUER: 'ftp://id.example.com' }, /HUB_ISSUER: must be http:\/\/ or https:\/\//],
    // Accepted before: browsers refuse the port (Fetch "bad ports"), so nobody could sign in (a review).
    [{ HUB_ISSUER: 'http://hub.sso.localhost:6000' }, /HUB_ISSUER: browsers and Node's fetch refuse port 6000 \(a "bad port" of the Fetch standard\): pick another/],
    [{ HUB_ISSUER: 'http://127.0.0.1:6667' }, /HUB_ISSUER: browsers and Node's fetch refuse port 6667/],
    [{ HUB_ISSUER: 'https://id.example.com/?x=1', HUB_TRUST_PROXY: 'true' }, /HUB_ISSUER: must be an origin only/],
    [{ HUB_ISSUER: 'HTTPS://ID.Example.com' }, /HUB_TRUST_PROXY: must be true when HUB_ISSUER is https:\/\//],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, /REDIS_URL: must be redis:\/\/ or rediss:\/\//],
    // Accepted before, and connected to 127.0.0.1:6379 without a word (an operator review).
    [{ REDIS_URL: 'redis://' }, /REDIS_URL: has no host/],
    [{ REDIS_URL: 'rediss://:secret@/0' }, /REDIS_URL: has no host/],
    // node-redis threw a bare "Invalid pathname" at connect, naming no setting (an operator review).
    [{ REDIS_URL: 'redis://:secret@127.0.0.1:6379/abc' }, /^invalid hub configuration:\n  REDIS_URL: has "\/abc" after the host, which is not a database number: write the database as \/0 to \/15/],
    [{ REDIS_URL: 'redis://127.0.0.1:6379/0/' }, /REDIS_URL: has "\/0\/" after the host, which is not a database number/],
    [{ REDIS_URL: 'redis://127.0.0.1:6379/1.5' }, /REDIS_URL: has "\/1\.5" after the host/],
    [{ REDIS_CLUSTER_NODES: ':7000' }, /REDIS_CLUSTER_NODES: ":7000" is not host:port/],
    [{ REDIS_SENTINELS: '[]:26379', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS: "\[\]:26379" is not host:port/],
    // Accepted before as hex, exponent or padded numbers (HUB_PORT=0x10 listened on 16, 1e3 on 1000).
    [{ HUB_PORT: '0x10' }, /HUB_PORT: must be a whole number in decimal digits/],
    [{ HUB_PORT: '1e3' }, /HUB_PORT: must be a whole number in decimal digits/],
    [{ HUB_PORT: ' 4000' }, /HUB_PORT: must be a whole number in decimal digits/],
    [{ HUB_SESSION_TTL: '0b101' }, /HUB_SESSION_TTL: must be a whole number in decimal digits/],
    [{ ARGON2_MEMORY_KIB: '2e4' }, /ARGON2_MEMORY_KIB: must be a whole number in decimal digits/],
    [{ REDIS_WAIT_REPLICAS: '0o1' }, /REDIS_WAIT_REPLICAS: must be a whole number in decimal digits/],
    [{ METRICS_PORT: '+9100' }, /METRICS_PORT: must be a whole number in decimal digits/],
    [{ HUB_COOKIE_SECRETS: ' , ' }, /HUB_COOKIE_SECRETS: needs at least one secret/],
    [{ HUB_TOTP_KEYS: ',' }, /HUB_TOTP_KEYS: needs at least one key/],
    [{ LOGIN_BACKOFF_BASE_SECONDS: '600', LOGIN_BACKOFF_MAX_SECONDS: '300' }, /LOGIN_BACKOFF_BASE_SECONDS: must not be more than LOGIN_BACKOFF_MAX_SECONDS/],
    [{ DELIVERY_BACKOFF_BASE_MS: '5000', DELIVERY_BACKOFF_MAX_MS: '1000' }, /DELIVERY_BACKOFF_BASE_MS: must not be more than DELIVERY_BACKOFF_MAX_MS/],
    [{ HUB_PORT: '4711', METRICS_PORT: '4711' }, /METRICS_PORT: must differ from HUB_PORT/],
    // Accepted before: mail went out with a From: servers refuse; a public key set failed in oidc-provider with "jwks.keys[0].d …".
    [{ MAIL_FROM: 'not an address' }, /MAIL_FROM: must be an address, or a name and an address/],
    [{ HUB_JWKS: JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4', y: '4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM', kid: 'pub-1' }] }) }, /HUB_JWKS: key 0 \(kid pub-1\) has no private part \("d"\)/],
    // One line that says what is missing (an operator review: a bare host:port got three lines, or a scheme of "hub.sso.localhost:").
    [{ REDIS_URL: '127.0.0.1:7190' }, /^invalid hub configuration:\n  REDIS_URL: has no scheme: write redis:\/\/127\.0\.0\.1:7190 \(or rediss:\/\/ for TLS\)$/],
    [{ HUB_ISSUER: 'hub.sso.localhost:7101' }, /^invalid hub configuration:\n  HUB_ISSUER: has no scheme: write https:\/\/… \(or http:\/\/… on loopback\), e\.g\. https:\/\/hub\.sso\.localhost:7101 /],
    // Said in zod's words before ("Too big: expected number to be <=65535"); now in the README's, with the value given (a first-day operator review).
    [{ HUB_PORT: '70000' }, /^invalid hub configuration:\n  HUB_PORT: must be at most 65535 \(70000 given\)$/],
    [{ HUB_PORT: '0' }, /HUB_PORT: must be at least 1 \(0 given\)$/],
    [{ HUB_SESSION_TTL: '0' }, /HUB_SESSION_TTL: must be more than 0 \(0 given\)$/],
    [{ SYNC_CODE_TTL: '600' }, /SYNC_CODE_TTL: must be at most 60 \(600 given\)$/],
  ])('%j is refused with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('what a server start checks (an operator review: a hub started half-configured, silently)', () => {
  test('production on the demo issuer (unset, or .env.example\'s value) stops with what to set, unless the demo is run on purpose', () => {
    const env = { NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(() => checkServerStart(loadConfig(env), env)).toThrow(/HUB_ISSUER: set it in production.*https:\/\/id\.example\.com/);
    const copied = { ...env, HUB_ISSUER: 'http://hub.sso.localhost:4000' }; // compose's default, .env.example's value
    expect(() => checkServerStart(loadConfig(copied), copied)).toThrow(/HUB_DEMO=true/);
    const demo = { ...copied, HUB_DEMO: 'true' };
    expect(checkServerStart(loadConfig(demo), demo)).toEqual([]);
    const set = { ...env, HUB_ISSUER: 'https://id.example.com', HUB_TRUST_PROXY: 'true' };
    expect(checkServerStart(loadConfig(set), set)).toEqual([]);
    expect(checkServerStart(loadConfig({}), {})).toEqual([]); // npm start, tests: the demo issuer
  });

  test('a production start names every setting it refuses at once, not one per restart (a first-day operator review: NODE_ENV=production alone took three starts to learn HUB_ISSUER, REDIS_URL and HUB_TRUST_PROXY)', () => {
    const bare = { NODE_ENV: 'production' };
    let message = '';
    try { checkServerStart(loadConfig(bare), bare); } catch (error) { message = (error as Error).message; }
    expect(message).toMatch(/^invalid hub configuration:\n {2}HUB_ISSUER: set it in production.*HUB_TRUST_PROXY=true.*\n {2}REDIS_URL: set it in production/s);
    const outbox = { ...bare, MAIL_DEV_OUTBOX: 'true', HUB_KEY_RETIRE_SECONDS: '60' };
    try { checkServerStart(loadConfig(outbox), outbox); } catch (error) { message = (error as Error).message; }
    expect(message.split('\n').map((line) => line.trim().split(':')[0])).toEqual(['invalid hub configuration', 'HUB_ISSUER', 'MAIL_DEV_OUTBOX', 'REDIS_URL', 'HUB_KEY_RETIRE_SECONDS']);
    // Checks across variables that loadConfig makes after each value is valid, likewise together.
    const crossed = { HUB_ISSUER: 'https://id.example.com', METRICS_PORT: '4000', ARGON2_CONCURRENCY: '4', SIGNUP_MAILS_PER_NETWORK: '10' };
    expect(() => loadConfig(crossed)).toThrow(ConfigError);
    try { loadConfig(crossed); } catch (error) { message = (error as Error).message; }
    expect(message.split('\n').map((line) => line.trim().split(':')[0])).toEqual(['invalid hub configuration', 'SIGNUP_MAILS_PER_NETWORK', 'METRICS_PORT', 'HUB_TRUST_PROXY', 'ARGON2_CONCURRENCY']);
  });

  test('the Redis settings that do not fit are named together, with the other refusals (before: one per start, and only after every other setting was right)', () => {
    const tangled = {
      HUB_ISSUER: 'https://id.example.com', // HUB_TRUST_PROXY missing
      REDIS_CLUSTER_NODES: 'a:1',
      REDIS_SENTINELS: 'b:2', // both: one too many, and no REDIS_SENTINEL_NAME
      REDIS_TLS_CA_FILE: '/nonexistent/ca.pem', // REDIS_TLS not set
    };
    let message = '';
    try { loadConfig(tangled); } catch (error) { message = (error as Error).message; }
    expect(message.split('\n').map((line) => line.trim().split(':')[0])).toEqual(['invalid hub configuration', 'HUB_TRUST_PROXY', 'REDIS_CLUSTER_NODES, REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'REDIS_TLS_CA_FILE']);
    const single = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PASSWORD: 'p', REDIS_TLS: 'true', REDIS_SENTINEL_NAME: 'm', REDIS_SENTINEL_USERNAME: 'u' };
    try { loadConfig(single); } catch (error) { message = (error as Error).message; }
    expect(message.split('\n').map((line) => line.trim().split(':')[0])).toEqual(['invalid hub configuration', 'REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS']);
    expect(message).not.toContain(': p'); // the password's value is not echoed
  });

  test('HUB_KEY_RETIRE_SECONDS below the ID token lifetime is refused, below the session lifetime warned about; an https:// issuer on the embedded store is warned about without NODE_ENV=production (an operator review)', () => {
    // Retired after 1 s, a rotated key left ID tokens in date that no /jwks verified, and sign-outs with them as id_token_hint failed.
    const https = { HUB_ISSUER: 'https://id.example.com', HUB_TRUST_PROXY: 'true', REDIS_URL: 'redis://127.0.0.1:6379' };
    for (const value of ['1', '3599']) {
      const env = { ...https, HUB_KEY_RETIRE_SECONDS: value };
      expect(() => checkServerStart(loadConfig(env), env)).toThrow(/HUB_KEY_RETIRE_SECONDS: must be at least the ID token's lifetime \(3600 s/);
    }
    const short = { ...https, HUB_KEY_RETIRE_SECONDS: '3600' };
    expect(checkServerStart(loadConfig(short), short)).toEqual([expect.stringMatching(/^HUB_KEY_RETIRE_SECONDS \(3600 s\) is less than the session and refresh token lifetimes/)]);
    const long = { ...https, HUB_KEY_RETIRE_SECONDS: String(40 * 86_400) };
    expect(checkServerStart(loadConfig(long), long)).toEqual([]);
    // A mistyped REDIS_URL without NODE_ENV=production: an https hub on the embedded store, ready.
    const typo = { HUB_ISSUER: 'https://id.example.com', HUB_TRUST_PROXY: 'true', REDIS_URI: 'redis://127.0.0.1:6379' };
    const said = checkServerStart(loadConfig(typo), typo);
    expect(said).toContain('REDIS_URI is not a setting of the hub and is ignored: did you mean REDIS_URL?');
    expect(said.some((line) => line.startsWith('HUB_ISSUER is https:// but no Redis is set'))).toBe(true);
  });

  test('the development outbox (anyone can read /dev/outbox, reset links included) is refused in production, unless the demo is run on purpose', () => {
    const env = { NODE_ENV: 'production', REDIS_URL: 'redis://127.0.0.1:6379', HUB_ISSUER: 'https://id.example.com', HUB_TRUST_PROXY: 'true', MAIL_DEV_OUTBOX: 'true' };
    expect(() => checkServerStart(loadConfig(env), env)).toThrow(ConfigError);
    expect(() => checkServerStart(loadConfig(env), env)).toThrow(/MAIL_DEV_OUTBOX: refused in production.*\/dev\/outbox.*set SMTP_URL and unset MAIL_DEV_OUTBOX.*HUB_DEMO=true/);
    const demo = { ...env, HUB_DEMO: 'true' };
    expect(checkServerStart(loadConfig(demo), demo)).toEqual([]);
    const development = { ...env, NODE_ENV: 'development' };
    expect(checkServerStart(loadConfig(development), development)).toEqual([]);
  });

  test('production without a Redis setting (left out, or its name mistyped) stops naming REDIS_URL instead of running on a store of its own (an outside operator review: that replica reported ready and split the fleet)', () => {
    const base = { NODE_ENV: 'production', HUB_ISSUER: 'https://id.example.com', HUB_TRUST_PROXY: 'true' };
    expect(() => checkServerStart(loadConfig(base), base)).toThrow(ConfigError);
    expect(() => checkServerStart(loadConfig(base), base)).toThrow(/REDIS_URL: set it in production.*REDIS_CLUSTER_NODES or REDIS_SENTINELS; without one.*embedded store inside this process.*HUB_DEMO=true/);
    const typo = { ...base, REDIS_URI: 'redis://127.0.0.1:6379' };
    expect(() => checkServerStart(loadConfig(typo), typo)).toThrow(/REDIS_URI is set: did you mean REDIS_URL\?/);
    for (const set of [{ REDIS_URL: 'redis://127.0.0.1:6379' }, { REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'hub' }, { REDIS_CLUSTER_NODES: '127.0.0.1:7000' }, { HUB_DEMO: 'true' }]) {
      const env = { ...base, ...set };
      expect(checkServerStart(loadConfig(env), env)).toEqual([]);
    }
    expect(checkServerStart(loadConfig({}), {})).toEqual([]); // npm start, tests: the embedded store
  });

  test('a variable one or two typos from a setting is said at start with the setting it resembles; the rest of the environment is not', () => {
    const env = { HUB_SESION_TTL: '60', hub_issuer: 'http://127.0.0.1:4000', REDIS_URI: 'redis://x', PATH: '/usr/bin', HOME: '/root', HOSTNAME: 'box', NODE_ENV: 'development', HUB_URL: 'http://hub', HUB_INTERNAL_URL: 'http://127.0.0.1:4000', BBS_PORT: '4001', SHOP_PORT: '4003', DEMO_HOST: '0.0.0.0', SMTP_HOST: 'mail', REDIS_PORT: 'tcp://10.0.0.2:6379' };
    expect(checkServerStart(loadConfig(env), env)).toEqual([
      'HUB_SESION_TTL is not a setting of the hub and is ignored: did you mean HUB_SESSION_TTL?',
      'hub_issuer is not a setting of the hub and is ignored: did you mean HUB_ISSUER?',
      'REDIS_URI is not a setting of the hub and is ignored: did you mean REDIS_URL?',
    ]);
  });

  test('in production a variable one or two typos from a setting is refused, naming it, the setting and what to do (an operator review: HUB_SESION_TTL=3600 started with a warning and twelve-hour sessions)', () => {
    const base = { NODE_ENV: 'production', HUB_ISSUER: 'https://id.example.com', HUB_TRUST_PROXY: 'true', REDIS_URL: 'redis://127.0.0.1:6379', PATH: '/usr/bin', HOSTNAME: 'box', REDIS_PORT: 'tcp://10.0.0.2:6379', SMTP_HOST: 'mail' };
    const typo = { ...base, HUB_SESION_TTL: '3600', KEY_PREFX: 'fleet:' };
    expect(() => checkServerStart(loadConfig(typo), typo)).toThrow(ConfigError);
    expect(() => checkServerStart(loadConfig(typo), typo)).toThrow(/^invalid hub configuration:\n  HUB_SESION_TTL: not a setting of the hub: did you mean HUB_SESSION_TTL\? Refused in production \(NODE_ENV=production\), where the hub would ignore it and run on HUB_SESSION_TTL's default: rename it to HUB_SESSION_TTL, or remove it from the hub's environment, or list it in HUB_NOT_SETTINGS if it belongs to something else\n  KEY_PREFX: not a setting of the hub: did you mean KEY_PREFIX\?/);
    // The rest of a production environment (Kubernetes' REDIS_PORT, the image's PATH) starts as before.
    expect(checkServerStart(loadConfig(base), base)).toEqual([]);
    // The demo on purpose, and development, only say it.
    for (const env of [{ ...typo, HUB_DEMO: 'true' }, { ...typo, NODE_ENV: 'development' }]) expect(checkServerStart(loadConfig(env), env)).toContain('HUB_SESION_TTL is not a setting of the hub and is ignored: did you mean HUB_SESSION_TTL?');
  });

  test('HUB_NOT_SETTINGS names variables of something else that look like a typo (a shared ConfigMap\'s REDIS_URI): not refused in production, not warned about; the rest still are', () => {
    // A diff review: with no way round the refusal, a variable of another program that happens to
    // be a typo or two from a hub setting stopped a production start for good.
    const base = { NODE_ENV: 'production', HUB_ISSUER: 'https://id.example.com', HUB_TRUST_PROXY: 'true', REDIS_URL: 'redis://127.0.0.1:6379' };
    const shared = { ...base, REDIS_URI: 'mongodb://other-app', LOG_LEVELS: 'debug', HUB_NOT_SETTINGS: 'REDIS_URI, LOG_LEVELS' };
    expect(checkServerStart(loadConfig(shared), shared)).toEqual([]);
    const typo = { ...shared, HUB_SESION_TTL: '3600' };
    expect(() => checkServerStart(loadConfig(typo), typo)).toThrow(/^invalid hub configuration:\n  HUB_SESION_TTL: not a setting of the hub: did you mean HUB_SESSION_TTL\?.*or list it in HUB_NOT_SETTINGS if it belongs to something else$/);
    expect(() => loadConfig({ HUB_NOT_SETTINGS: 'REDIS_URL' })).toThrow(/HUB_NOT_SETTINGS: REDIS_URL is a setting of the hub/);
  });

  test('an http:// issuer on a public host is said at start (no Secure cookies, no HSTS); loopback and *.localhost are not', () => {
    const env = { HUB_ISSUER: 'http://id.example.com' };
    expect(checkServerStart(loadConfig(env), env)).toEqual([expect.stringMatching(/http:\/\/ on id\.example\.com.*not Secure.*HUB_ISSUER=https/)]);
    for (const issuer of ['http://127.0.0.1:4000', 'http://localhost:4000', 'http://hub.sso.localhost:4000', 'http://[::1]:4000']) {
      expect(checkServerStart(loadConfig({ HUB_ISSUER: issuer }), { HUB_ISSUER: issuer })).toEqual([]);
    }
  });

  test('HUB_PORT set without HUB_ISSUER is said at start: the default issuer names port 4000, where browsers and subsites would be sent (a first-day operator review: HUB_PORT=4876 alone listened on 4876 and sent every sign-in to :4000)', () => {
    const env = { HUB_PORT: '4876' };
    expect(checkServerStart(loadConfig(env), env)).toEqual([
      'HUB_ISSUER is not set, so it is its default http://hub.sso.localhost:4000, but the hub listens on HUB_PORT 4876: browsers and subsites are sent to port 4000; set HUB_ISSUER=http://hub.sso.localhost:4876 (or the URL of the proxy in front of the hub)',
    ]);
    for (const quiet of [{}, { HUB_PORT: '4000' }, { HUB_PORT: '4876', HUB_ISSUER: 'http://hub.sso.localhost:4000' }, { HUB_PORT: '4876', HUB_ISSUER: 'http://127.0.0.1:4876' }]) {
      expect(checkServerStart(loadConfig(quiet), quiet)).toEqual([]);
    }
  });

  test('UV_THREADPOOL_SIZE given to the hub but not to the process (main(env) from a script) is warned about: libuv sized its pool from the process', () => {
    const env = { UV_THREADPOOL_SIZE: '16' };
    expect(checkServerStart(loadConfig(env), env, {})).toEqual([expect.stringMatching(/^UV_THREADPOOL_SIZE is 16 in the hub's settings but unset \(4 threads\) in this process's environment.*ARGON2_CONCURRENCY, \d+ here/)]);
    expect(checkServerStart(loadConfig(env), env, { UV_THREADPOOL_SIZE: '16' })).toEqual([]);
    expect(checkServerStart(loadConfig({}), {}, { UV_THREADPOOL_SIZE: '16' })).toEqual([]); // assumed 4: the safe side
  });
});
