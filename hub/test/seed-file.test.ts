/**
 * Seed files and the first admin (issue 9, operators 2): a seed only ever creates what is
 * missing; it never overwrites what an admin changed nor brings back what an admin deleted.
 * The first admin is made on purpose, with a random password shown once.
 */
import { randomUUID } from 'node:crypto';
import { cliHarness } from '../src/testing/cli-harness.js';
import { parseSeed, applySeed } from '../src/seed.js';
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
    expect(await applySeed(UC_SEED, hub.services)).toEqual({ created: ['ucenter:3'], skipped: [] });
    expect(await apps.find(3)).toMatchObject({ appId: 3, key: 'seeded-uc-key-0123456789abcdefghijklmnopqrstuvwxyz', type: 'DISCUZX', synlogin: true, updatepw: false });
    const rotated = (await apps.rotateKey(3)).key;
    expect(await applySeed(UC_SEED, hub.services)).toEqual({ created: [], skipped: ['ucenter:3'] });
    expect((await apps.find(3))?.key).toBe(rotated);
    await apps.remove(3);
    expect(await applySeed(UC_SEED, hub.services)).toEqual({ created: [], skipped: ['ucenter:3'] });
    expect(await apps.find(3)).toBeUndefined();
  });

  test('creates what is missing, once', async () => {
    expect(await applySeed(SEED, hub.services)).toEqual({ created: ['client:forum', 'user:sam'], skipped: [] });
    expect(await applySeed(SEED, hub.services)).toEqual({ created: [], skipped: ['client:forum', 'user:sam'] });
    expect((await hub.services.clients.findUncached('forum'))?.clientSecret).toBe('seeded-client-secret-0123456789abcdef');
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
    expect(forum.clientSecret).toBe(rotated);
    expect(forum.sync?.key).toBe(rekeyed);
    expect(forum.redirectUris).toEqual(['http://forum.example/sso/callback']);
    expect(await hub.services.hasher.verify((await users.findByLogin('sam'))!.passwordHash, 'changed-by-sam-1')).toBe(true);
  });

  test('never brings back a user or client an admin deleted', async () => {
    await applySeed(SEED, hub.services);
    await hub.services.lifecycle.delete('sam');
    await hub.services.clients.remove('forum');
    expect(await applySeed(SEED, hub.services)).toEqual({ created: [], skipped: ['client:forum', 'user:sam'] });
    expect(await hub.services.users.findByLogin('sam')).toBeUndefined();
    expect(await hub.services.clients.findUncached('forum')).toBeUndefined();
  });

  test('entries that already existed before the seed are left as they are', async () => {
    await hub.services.users.create({ username: 'sam', email: 'sam@elsewhere.test', password: 'made-by-admin-1' });
    expect((await applySeed(SEED, hub.services)).skipped).toContain('user:sam');
    expect((await hub.services.users.findByLogin('sam'))!.email).toBe('sam@elsewhere.test');
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
