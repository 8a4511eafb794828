/**
 * Seed files and the first admin (issue 9, operators 2): a seed only ever creates what is
 * missing; it never overwrites what an admin changed nor brings back what an admin deleted.
 * The first admin is made on purpose, with a random password shown once.
 */
import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/main.js';
import { cliHarness } from '../src/testing/cli-harness.js';
import { freePort } from '../src/testing/hub-process.js';
import { parse } from 'yaml';
import { ClientRegistry } from '../src/clients/client-registry.js';
import { secretDigest } from '../src/clients/client-secret.js';
import { Keys } from '../src/store/keys.js';
import { connectRedis, RedisStore } from '../src/store/redis.js';
import { deleteByPrefix } from '../src/store/redis-client.js';
import { parseSeed, applySeed, generatedSecretLines } from '../src/seed.js';
import { startHubProcess } from '../src/testing/hub-process.js';
import { readFileSync } from 'node:fs';
import { startTestHub, STORE_KINDS, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';

const SEED = parseSeed(`
users:
  - username: sam
    email: sam@example.test
    password: seeded-password-1
clients:
  - clientId: forum
    clientSecret: seeded-client-secret-0123456789abcdef
    redirectUris: [http://forum.test/sso/callback]
    syncLoginUrl: http://forum.test/sso/synclogin
    syncLogoutUrl: http://forum.test/sso/synclogout
    syncKey: seeded-sync-key-0123456789abcdefghijkl
`);

const UC_SEED = parseSeed(`
ucenterApps:
  - appId: 3
    name: Old Discuz
    type: DISCUZX
    url: http://discuz.test
    key: seeded-uc-key-0123456789abcdefghijklmnopqrstuvwxyz
`);

describe.each(STORE_KINDS)('a seed file on %s is create-only', (kind) => {

  let hub: RunningHub;
  beforeEach(async () => {
    hub = await startTestHub(kind);
  });
  afterEach(async () => {
    await hub.close();
  });

  test('UCenter applications too: created with their id and key, never re-keyed or brought back', async () => {
    const apps = hub.services.ucenterApps;
    expect(await applySeed(UC_SEED, hub.services)).toEqual({ created: ['ucenter:3'], skipped: [], generated: [] });
    expect(await apps.find(3)).toMatchObject({ appId: 3, key: 'seeded-uc-key-0123456789abcdefghijklmnopqrstuvwxyz', type: 'DISCUZX', synlogin: true, updatepw: false });
    const rotated = (await apps.rotateKey(3)).key;
    expect(await applySeed(UC_SEED, hub.services)).toEqual({ created: [], skipped: ['ucenter:3'], generated: [] });
    expect((await apps.find(3))?.key).toBe(rotated);
    await apps.remove(3);
    expect(await applySeed(UC_SEED, hub.services)).toEqual({ created: [], skipped: ['ucenter:3'], generated: [] });
    expect(await apps.find(3)).toBeUndefined();
  });

  test('a UCenter application listed twice is created once, the first as written (an operator review: "created ucenter:9, ucenter:9", the second overwrote the first, key and URL)', async () => {
    const twice = parseSeed(`
ucenterApps:
  - appId: 9
    name: First
    url: http://first.test
    key: first-uc-key-0123456789abcdefghijklmnopqrstuvwxyz
  - appId: 9
    name: Second
    url: http://second.test
    key: second-uc-key-0123456789abcdefghijklmnopqrstuvwxyz
`);
    expect(await applySeed(twice, hub.services)).toEqual({ created: ['ucenter:9'], skipped: ['ucenter:9'], generated: [] });
    expect(await hub.services.ucenterApps.find(9)).toMatchObject({ name: 'First', url: 'http://first.test', key: 'first-uc-key-0123456789abcdefghijklmnopqrstuvwxyz' });
  });

  test('creates what is missing, once', async () => {
    expect(await applySeed(SEED, hub.services)).toEqual({ created: ['client:forum', 'user:sam'], skipped: [], generated: [] });
    expect(await applySeed(SEED, hub.services)).toEqual({ created: [], skipped: ['client:forum', 'user:sam'], generated: [] });
    // Stored as its digest only: the file's secret authenticates, the store does not hold it.
    const forum = (await hub.services.clients.findUncached('forum'))!;
    expect(forum.clientSecret).toBeUndefined();
    expect(forum.clientSecretDigest).toBe(secretDigest('seeded-client-secret-0123456789abcdef'));
  });

  test('never overwrites a rotated secret, an edited redirect URI or a changed password', async () => {
    const { clients, users } = hub.services;
    await applySeed(SEED, hub.services);
    const rotated = (await clients.rotateSecret('forum')).clientSecret;
    const rekeyed = (await clients.rotateSyncKey('forum')).sync!.key;
    await clients.update('forum', { redirectUris: ['http://forum.example/sso/callback'] });
    const sam = (await users.findByLogin('sam'))!;
    await users.setPassword(sam.id, 'changed-by-sam-1');
    await applySeed(SEED, hub.services);
    const forum = (await clients.findUncached('forum'))!;
    expect(forum.clientSecretDigest).toBe(secretDigest(rotated));
    expect(forum.clientSecret).toBeUndefined();
    expect(forum.sync?.key).toBe(rekeyed);
    expect(forum.redirectUris).toEqual(['http://forum.example/sso/callback']);
    expect(await hub.services.hasher.verify((await users.findByLogin('sam'))!.passwordHash, 'changed-by-sam-1')).toBe(true);
  });

  test('never brings back a user or client an admin deleted', async () => {
    await applySeed(SEED, hub.services);
    await hub.services.lifecycle.delete('sam');
    await hub.services.clients.remove('forum');
    expect(await applySeed(SEED, hub.services)).toEqual({ created: [], skipped: ['client:forum', 'user:sam'], generated: [] });
    expect(await hub.services.users.findByLogin('sam')).toBeUndefined();
    expect(await hub.services.clients.findUncached('forum')).toBeUndefined();
  });

  test('a client seeded without clientSecret or syncKey: the generated ones are in the report, once, for the CLI to show', async () => {
    const seed = parseSeed(`
clients:
  - clientId: api
    redirectUris: [http://api.test/callback]
    syncLoginUrl: http://api.test/sso/synclogin
    syncLogoutUrl: http://api.test/sso/synclogout
  - clientId: spa
    redirectUris: [http://spa.test/callback]
    tokenEndpointAuthMethod: none
`);
    const report = await applySeed(seed, hub.services);
    const api = (await hub.services.clients.findUncached('api'))!;
    // The report's secret is the one the registration returned: the store holds only its digest.
    const generated = report.generated[0]!.clientSecret!;
    expect(generated).toHaveLength(43);
    expect(api.clientSecret).toBeUndefined();
    expect(api.clientSecretDigest).toBe(secretDigest(generated));
    expect(report).toEqual({ created: ['client:api', 'client:spa'], skipped: [], generated: [{ clientId: 'api', clientSecret: generated, syncKey: api.sync!.key }] });
    expect(generatedSecretLines(report)).toEqual([`client api: client secret (shown once): ${generated}`, `client api: sync key (shown once): ${api.sync!.key}`]);
    // Applied again: nothing created, nothing to show.
    expect((await applySeed(seed, hub.services)).generated).toEqual([]);
  });

  test('idTokenSignedResponseAlg (as the README says for seeds) is kept, not dropped', async () => {
    await applySeed(parseSeed('clients:\n  - clientId: es\n    redirectUris: [http://es.test/cb]\n    idTokenSignedResponseAlg: ES256\n'), hub.services);
    expect((await hub.services.clients.findUncached('es'))?.idTokenSignedResponseAlg).toBe('ES256');
    expect(() => parseSeed('clients:\n  - clientId: es\n    idTokenSignedResponseAlg: HS256\n')).toThrow(/clients\.0\.idTokenSignedResponseAlg/);
  });

  test('one wrong entry among several: named, and nothing of the seed written (an operator review: "redirect URI is not a URL" with no entry, the clients before it created)', async () => {
    const seed = parseSeed(`
users:
  - username: kim
    email: kim@example.test
    password: seeded-password-1
clients:
  - clientId: good1
    redirectUris: [http://good1.test/sso/callback]
  - clientId: zz3
    redirectUris: [not a url]
`);
    await expect(applySeed(seed, hub.services)).rejects.toThrow(/^client:zz3: .*not a URL: not a url/);
    expect(await hub.services.clients.findUncached('good1')).toBeUndefined();
    expect(await hub.services.users.findByLogin('kim')).toBeUndefined();
    expect(await hub.store.setMembers(hub.services.keys.seedApplied())).toEqual([]);
    const shortPassword = parseSeed('users:\n  - username: lee\n    email: lee@example.test\n    password: short\n');
    await expect(applySeed(shortPassword, hub.services)).rejects.toThrow(/^user:lee: .*8 characters/);
  });

  test('a client for an ID token algorithm the pinned keys cannot sign: named, and nothing of the seed written (a review: the entries before it were written, then the start failed)', async () => {
    hub.services.clients.limitSigningAlgs(['RS256']);
    try {
      const seed = parseSeed('users:\n  - username: pat\n    email: pat@example.test\n    password: seeded-password-1\nclients:\n  - clientId: es-site\n    redirectUris: [http://es.test/cb]\n    idTokenSignedResponseAlg: ES256\n');
      await expect(applySeed(seed, hub.services)).rejects.toThrow(/^client:es-site: This hub signs ID tokens with RS256 only/);
      expect(await hub.services.users.findByLogin('pat')).toBeUndefined();
      expect(await hub.services.clients.findUncached('es-site')).toBeUndefined();
    } finally {
      hub.services.clients.limitSigningAlgs(['RS256', 'ES256', 'EdDSA']);
    }
  });

  test('the check covers only what is to be made: an entry applied before is skipped as it is, even one this version would refuse', async () => {
    await hub.store.setAdd(hub.services.keys.seedApplied(), 'user:old');
    const seed = parseSeed('users:\n  - username: old\n    email: old@example.test\n    password: seeded-password-1\n    name: "\\u202Eevil"\n  - username: kim\n    email: kim@example.test\n    password: seeded-password-1\n    name: |\n      Kim\n');
    const report = await applySeed(seed, hub.services);
    expect(report.skipped).toEqual(['user:old']);
    expect(report.created).toEqual(['user:kim']);
    expect((await hub.services.users.findByLogin('kim'))!.name).toBe('Kim'); // a block scalar's newline is trimmed, not refused
  });

  test("a seed user with another account's id or address is refused, naming the entry, and is not marked applied; the corrected file creates it (an operator review)", async () => {
    // The id: the record was written over, so the seed's user took carol's identity (her sub,
    // sessions, grants) with her name and address still leading to it, and the admin role.
    const carol = await hub.services.users.create({ username: 'carol', email: 'carol@example.test', password: 'carol-password-long-1' });
    const byId = parseSeed(`users:\n  - id: ${carol.id}\n    username: mallory\n    email: mallory@example.test\n    password: mallory-password-1\n    roles: [admin]\n`);
    await expect(applySeed(byId, hub.services)).rejects.toThrow(`user:mallory: The user id ${carol.id} belongs to another account.`);
    // Not even through the repository: a given id another account holds is a conflict, and the claims are given back.
    await expect(hub.services.users.create({ id: carol.id, username: 'mallory', email: 'mallory@example.test', password: 'mallory-password-1' })).rejects.toThrow('belongs to another account');
    expect(await hub.services.users.findById(carol.id)).toMatchObject({ username: 'carol', email: 'carol@example.test', roles: [] });
    expect(await hub.services.users.findByLogin('mallory')).toBeUndefined();
    expect(await hub.services.users.findByLogin('mallory@example.test')).toBeUndefined();
    // The address: "left as they are" and marked applied for good, so the corrected file never created hank.
    const clash = parseSeed('users:\n  - username: hank\n    email: carol@example.test\n    password: hank-password-long-1\n');
    await expect(applySeed(clash, hub.services)).rejects.toThrow('user:hank: The e-mail address carol@example.test is already registered.');
    expect(await hub.store.setMembers(hub.services.keys.seedApplied())).toEqual([]);
    const fixed = parseSeed('users:\n  - username: hank\n    email: hank@example.test\n    password: hank-password-long-1\n');
    expect((await applySeed(fixed, hub.services)).created).toEqual(['user:hank']);
    expect(await hub.services.users.findByLogin('hank@example.test')).toMatchObject({ username: 'hank' });
  });

  test('replicas applying one file together: an entry another process made between this one\'s two looks is there already, not a clash (a review of the clash check)', async () => {
    const seed = parseSeed('users:\n  - username: rita\n    email: rita@example.test\n    password: rita-password-long-1\n');
    const { users } = hub.services;
    let raced = false;
    // "Process A" finishes applying the same file at this process's first look at the address.
    const racing = new Proxy(users, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'findByEmail' && prop !== 'findById') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        return async (...args: unknown[]) => {
          if (!raced) {
            raced = true;
            await applySeed(seed, hub.services);
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const report = await applySeed(seed, { ...hub.services, users: racing });
    expect(raced).toBe(true);
    expect(report).toMatchObject({ created: [], skipped: ['user:rita'] });
  });

  test('entries that already existed before the seed are left as they are', async () => {
    await hub.services.users.create({ username: 'sam', email: 'sam@elsewhere.test', password: 'made-by-admin-1' });
    expect((await applySeed(SEED, hub.services)).skipped).toContain('user:sam');
    expect((await hub.services.users.findByLogin('sam'))!.email).toBe('sam@elsewhere.test');
  });
});

describe('a seed file with a key it does not know', () => {
  test('a key the schema does not know (a CLI flag name, snake_case, a typo) is refused and named, not dropped', () => {
    // Dropped silently, `redirect_uris` made a client with no redirect URI and `syncLoginURL` one that is never synced.
    expect(() => parseSeed('clients:\n  - clientId: forum\n    redirect_uris: [http://forum.test/cb]\n', 'seed.yaml')).toThrow(
      /seed\.yaml is not a valid seed file:\n {2}clients\.0: unknown key "redirect_uris"/,
    );
    expect(() => parseSeed('users:\n  - username: sam\n    email: sam@x.test\n    password: long-enough-1\n    role: admin\n')).toThrow(/users\.0: unknown key "role"/);
    expect(() => parseSeed('ucenterApps:\n  - appId: 2\n    name: D\n    url: http://d.test\n    key: 0123456789abcdef0123456789abcdef\n    uc_key: x\n')).toThrow(/ucenterApps\.0: unknown key "uc_key"/);
    expect(() => parseSeed('client:\n  - clientId: forum\n')).toThrow(/\(top level\): unknown key "client"/);
  });
});

describe('the first admin (Redis)', () => {
  const prefix = `test:bootstrap:${randomUUID()}:`;
  const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: prefix };
  const { run, cleanUp } = cliHarness(env);
  afterAll(cleanUp);

  test('admin bootstrap creates an admin with a random password shown once, only while there is none', async () => {
    const first = await run('admin', 'bootstrap', '--username', 'root', '--email', 'root@example.test');
    expect(first.code).toBe(0);
    const password = /one-time password \(shown once[^)]*\): (\S+)/.exec(first.out)![1]!;
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect((await run('users', 'list')).out).toMatch(/root\s+root@example.test\s+active\s+\[admin\]/);
    const again = await run('admin', 'bootstrap', '--username', 'root2');
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/an admin already exists/i);
    expect(again.out).not.toContain(password);
    // The password works (and is no fixed value: another deployment gets another one).
    const hub = await startTestHub('redis', { KEY_PREFIX: prefix });
    try {
      const root = (await hub.services.users.findByLogin('root'))!;
      expect(await hub.services.hasher.verify(root.passwordHash, password)).toBe(true);
    } finally {
      await hub.close();
    }
  });
});

describe('HUB_SEED_FILE that cannot be used stops start-up, naming the variable and the file', () => {
  // One case starts a hub process (tsx compiles it): slow on a loaded machine.
  jest.setTimeout(120_000);
  const ROOT = fileURLToPath(new URL('../../', import.meta.url));

  test('a missing file: one line naming HUB_SEED_FILE and the path, exit code 1, no stack', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'hub/src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HUB_PORT: String(port), HUB_ISSUER: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn', HUB_SEED_FILE: '/nonexistent/seed.yaml' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise((resolve) => child.once('exit', (exitCode, signal) => resolve(exitCode ?? signal)));
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(output).toContain('HUB_SEED_FILE: cannot read /nonexistent/seed.yaml (ENOENT)\n');
    expect(output).not.toContain('no such file or directory, open');
    expect(output).not.toMatch(/^\s+at /m);
  });

  test('a file that is not YAML, or not a seed: the message names HUB_SEED_FILE and the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seed-file-'));
    try {
      const broken = join(dir, 'broken.yaml');
      await writeFile(broken, 'users: [\n  - username: sam\n');
      await expect(main({ HUB_SEED_FILE: broken, LOG_LEVEL: 'silent', HUB_PORT: String(await freePort()) })).rejects.toThrow(
        new RegExp(`^HUB_SEED_FILE: ${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid YAML or JSON: .*$`),
      );
      const invalid = join(dir, 'invalid.yaml');
      await writeFile(invalid, 'clients:\n  - name: no id\n');
      await expect(main({ HUB_SEED_FILE: invalid, LOG_LEVEL: 'silent', HUB_PORT: String(await freePort()) })).rejects.toThrow(`HUB_SEED_FILE: ${invalid} is not a valid seed file:\n  clients.0.clientId:`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('HUB_SEED_FILE with an entry the hub refuses', () => {
  test('start-up stops naming the variable, the file and the entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seed-file-'));
    try {
      const file = join(dir, 'seed.yaml');
      await writeFile(file, 'clients:\n  - clientId: good1\n    redirectUris: [http://good1.test/sso/callback]\n  - clientId: zz3\n    redirectUris: [not a url]\n');
      await expect(main({ HUB_SEED_FILE: file, LOG_LEVEL: 'silent', HUB_PORT: String(await freePort()) })).rejects.toThrow(`HUB_SEED_FILE ${file}: client:zz3: `);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a client secret with a character outside printable ASCII stops it too, before anything is written (RFC 6749 Appendix A.2: oidc-provider refused every request of such a client)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seed-file-'));
    try {
      const file = join(dir, 'seed.yaml');
      await writeFile(file, 'clients:\n  - clientId: uni\n    clientSecret: "pässwörd-of-more-than-32-characters-xyz"\n    redirectUris: [http://uni.test/sso/callback]\n');
      await expect(main({ HUB_SEED_FILE: file, LOG_LEVEL: 'silent', HUB_PORT: String(await freePort()) })).rejects.toThrow(
        `HUB_SEED_FILE ${file}: client:uni: A client secret takes printable ASCII characters only`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run hub -- seed FILE (Redis)', () => {
  const prefix = `test:seed-cli:${randomUUID()}:`;
  const { run, cleanUp } = cliHarness({ REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: prefix });
  afterAll(cleanUp);

  test('a missing file: an error line naming the path, exit code 1', async () => {
    const result = await run('seed', '/nonexistent/seed.yaml');
    expect(result).toMatchObject({ code: 1, out: 'error: cannot read /nonexistent/seed.yaml (ENOENT)' });
  });
});

describe('the README seed example', () => {
  test('uses the real field names: every key in it is one the seed schema keeps', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Seeding ('));
    const block = /```yaml\n([\s\S]*?)```/.exec(section.slice(0, section.indexOf('\n### ', 1)))?.[1];
    expect(block).toBeDefined();
    // The schema drops a key it does not know: parsed as a seed, the example must lose nothing.
    expect(parseSeed(block!)).toEqual(parse(block!));
  });
});

describe('HUB_SEED_FILE at start-up (hub process, Redis)', () => {
  jest.setTimeout(120_000);

  test('a client created with a generated secret: the log names the client, never the secret', async () => {
    const prefix = `test:seed-log:${randomUUID()}:`;
    const dir = await mkdtemp(join(tmpdir(), 'seed-log-'));
    const store = new RedisStore(await connectRedis(TEST_REDIS_URL));
    const file = join(dir, 'seed.yaml');
    await writeFile(file, 'clients:\n  - clientId: api\n    redirectUris: [http://api.test/callback]\n    syncLoginUrl: http://api.test/sso/synclogin\n    syncLogoutUrl: http://api.test/sso/synclogout\n');
    const hub = await startHubProcess({ REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: prefix, LOG_LEVEL: 'info', HUB_SEED_FILE: file });
    try {
      const api = (await new ClientRegistry(store, new Keys(prefix)).findUncached('api'))!;
      const output = hub.stdout() + hub.stderr();
      expect(output).toMatch(/"created":\["client:api"\].*"msg":"seed applied"/);
      // The store holds the secret's digest only: no 43-character value in the output is the secret.
      expect(api.clientSecret).toBeUndefined();
      const candidates = output.match(/[A-Za-z0-9_-]{43}/g) ?? [];
      expect(candidates.filter((candidate) => secretDigest(candidate) === api.clientSecretDigest)).toEqual([]);
      expect(output).not.toContain(api.sync!.key);
    } finally {
      await hub.stop('SIGKILL');
      await deleteByPrefix(store.client, prefix);
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
