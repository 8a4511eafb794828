import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { runCli } from '../src/cli.js';
import { cliHarness } from '../src/testing/cli-harness.js';
import { connectRedis } from '../src/store/redis.js';
import { deleteByPrefix } from '../src/store/redis-client.js';
import { parseSeed } from '../src/seed.js';
import { startTestHub, TEST_REDIS_URL } from '../src/testing/test-hub.js';
import { Readable } from 'node:stream';

describe('admin CLI against Redis', () => {
  const prefix = `test:cli:${randomUUID()}:`;
  const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: prefix, HUB_ISSUER: 'http://hub.test' };

  const { run, cleanUp } = cliHarness(env);
  afterAll(cleanUp);

  test('adds, lists, disables and deletes users; never prints a password or hash', async () => {
    const added = await run('users', 'add', '--username', 'carol', '--email', 'carol@example.test', '--password', 'correct-horse-1');
    expect(added.code).toBe(0);
    expect(added.out).toMatch(/created user carol/);
    expect(added.out).not.toContain('correct-horse-1');
    const listed = await run('users', 'list');
    expect(listed.out).toMatch(/carol\s+carol@example.test\s+active\s+uid \d+/);
    expect(listed.out).not.toMatch(/argon2/);
    expect((await run('users', 'disable', 'carol')).out).toMatch(/disabled carol/);
    expect((await run('users', 'list')).out).toMatch(/carol\s+carol@example.test\s+disabled/);
    expect((await run('users', 'delete', 'carol')).code).toBe(0);
    expect((await run('users', 'list')).out).not.toMatch(/carol/);
  });

  test('users add, keys rotate and seed are audited as CLI actions, as every other command is; no password, secret or private key in the entries (an outside operator review: an admin added from a shell left no trace)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seed-audit-'));
    try {
      const file = join(dir, 'seed.yaml');
      writeFileSync(file, 'users:\n  - username: sid\n    email: sid@example.test\n    password: seeded-password-for-sid-1\n');
      const added = await run('users', 'add', '--username', 'ada', '--email', 'ada@example.test', '--password', 'correct-horse-ada-1', '--role', 'admin');
      expect(added.code).toBe(0);
      const adaId = /created user ada \((\S+)\)/.exec(added.out)![1];
      expect((await run('keys', 'rotate', '--alg', 'ES256')).code).toBe(0);
      expect((await run('seed', file)).code).toBe(0);
      const client = await connectRedis(TEST_REDIS_URL);
      const raw = await client.zRange(`${prefix}audit:log`, 0, -1);
      await client.quit();
      const entries = raw.map((entry) => JSON.parse(entry) as { event: string; actor?: string; subject?: string; detail?: Record<string, unknown> });
      expect(entries).toEqual(expect.arrayContaining([
        expect.objectContaining({ event: 'admin.user.create', actor: 'cli', subject: adaId, detail: { username: 'ada', admin: true } }),
        expect.objectContaining({ event: 'admin.keys.rotate', actor: 'cli', detail: { keys: expect.stringMatching(/^\S+ ES256 from \d{4}-\d\d-\d\dT[\d:.]+Z$/) } }),
        expect.objectContaining({ event: 'admin.seed.apply', actor: 'cli', detail: { file, created: 'user:sid' } }),
      ]));
      const text = raw.join('\n');
      for (const secret of ['correct-horse-ada-1', 'seeded-password-for-sid-1', '"d":']) expect(text).not.toContain(secret);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a role the hub does not know (a typo of admin) is refused, and no user is created', async () => {
    // Before, `--role admn` made a user listed as [admn] who was no admin at all.
    const typo = await run('users', 'add', '--username', 'dora', '--email', 'dora@example.test', '--password', 'correct-horse-2', '--role', 'admn');
    expect(typo.code).toBe(1);
    expect(typo.out).toMatch(/unknown role "admn": the hub knows admin/);
    expect((await run('users', 'list')).out).not.toMatch(/dora/);
    expect(() => parseSeed('users:\n  - username: dora\n    email: dora@example.test\n    password: correct-horse-2\n    roles: [Admin]\n')).toThrow(/users\.0\.roles\.0: a role the hub knows: admin/);
  });

  test('registers a client and shows its secret and sync key once', async () => {
    const added = await run(
      'clients', 'add', '--id', 'forum', '--name', 'Forum', '--redirect-uri', 'http://forum.test/sso/callback',
      '--sync-login-url', 'http://forum.test/sso/synclogin', '--sync-logout-url', 'http://forum.test/sso/synclogout',
    );
    expect(added.code).toBe(0);
    const secret = /client secret \(shown once\): (\S+)/.exec(added.out)![1]!;
    expect(Buffer.from(secret, 'base64url').length).toBeGreaterThanOrEqual(32); // 256 bits
    expect(added.out).toMatch(/sync key \(shown once\): \S{43}/);
    const listed = await run('clients', 'list');
    expect(listed.out).toMatch(/forum\s+Forum\s+grants=authorization_code,refresh_token\s+consent\s+sync=img/);
    expect(listed.out).not.toContain(secret);
  });

  test('refuses a sync transport or an auth method the hub does not know, and stores nothing', async () => {
    const base = ['clients', 'add', '--trusted', '--redirect-uri', 'http://pig.test/sso/callback', '--sync-login-url', 'http://pig.test/sso/synclogin', '--sync-logout-url', 'http://pig.test/sso/synclogout'];
    expect(await run(...base, '--id', 'pig', '--transport', 'carrier-pigeon')).toMatchObject({ code: 1, out: 'error: Unknown sync transport carrier-pigeon: use img or script.' });
    const auth = await run('clients', 'add', '--id', 'zz6', '--redirect-uri', 'https://zz.example/sso/callback', '--auth', 'bogus');
    expect(auth.code).toBe(1);
    expect(auth.out).toMatch(/^error: Unknown token endpoint auth method bogus: use client_secret_basic, client_secret_post, none\.$/);
    expect((await run(...base, '--id', 'pig2', '--transport', 'script')).code).toBe(0);
    const listed = (await run('clients', 'list')).out;
    expect(listed).not.toMatch(/^pig\s|^zz6\s/m);
    expect(listed).toMatch(/pig2\s.*sync=script/);
  });

  test('registers a client with ES256 ID tokens; refuses an alg the hub does not offer', async () => {
    const added = await run('clients', 'add', '--id', 'shop', '--redirect-uri', 'http://shop.test/cb', '--id-token-alg', 'ES256');
    expect(added.code).toBe(0);
    expect((await run('clients', 'list')).out).toMatch(/shop\s+shop\s+.*id_token=ES256/);
    const bad = await run('clients', 'add', '--id', 'shop2', '--redirect-uri', 'http://shop.test/cb', '--id-token-alg', 'HS256');
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^error: The ID token signature must be one of RS256, ES256, EdDSA/);
  });

  test('keys rotate: a new key of each kind by default, of one kind with --alg; a bad --alg is a clear error', async () => {
    const all = await run('keys', 'rotate');
    expect(all.code).toBe(0);
    expect(all.out.match(/new signing key \S+ \((RS256|ES256|EdDSA)\)/g)).toHaveLength(3);
    // No hub has run under this test's KEY_PREFIX: the command does not claim that every hub publishes the key (an outside operator review: a mistyped KEY_PREFIX).
    expect(all.out).toMatch(/no hub has run under KEY_PREFIX "test:cli:[^"]+": a hub started with it will publish it and sign with it from/);
    expect(all.out).not.toMatch(/every hub process publishes it/);
    const one = await run('keys', 'rotate', '--alg', 'EdDSA');
    expect(one.out.match(/new signing key \S+ \((\w+)\)/g)).toEqual([expect.stringContaining('(EdDSA)')]);
    const bad = await run('keys', 'rotate', '--alg', 'RS512');
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^error: --alg must be one of RS256, ES256, EdDSA/m);
  });

  test('seed shows, once, the secret and sync key it generated for a client the file gives none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seed-cli-'));
    try {
      const file = join(dir, 'seed.yaml');
      writeFileSync(file, 'clients:\n  - clientId: seeded\n    redirectUris: [http://seeded.test/sso/callback]\n    syncLoginUrl: http://seeded.test/sso/synclogin\n    syncLogoutUrl: http://seeded.test/sso/synclogout\n');
      const first = await run('seed', file);
      expect(first.code).toBe(0);
      const secret = /client seeded: client secret \(shown once\): (\S+)/.exec(first.out)?.[1];
      expect(secret).toBeDefined();
      expect(first.out).toMatch(/client seeded: sync key \(shown once\): \S{43}/);
      const again = await run('seed', file);
      expect(again.out).not.toMatch(/shown once/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad input gives a clear error and a non-zero exit code', async () => {
    const bad = await run('users', 'add', '--username', 'x!', '--email', 'no', '--password', 'short');
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^error: /);
    expect((await run('nonsense')).code).toBe(2);
  });

  test('every command of the CLI\'s usage is in the README (an operator review: `clients check` was only in docs/subsite-protocol.md)', async () => {
    const lines: string[] = [];
    expect(await runCli(['--help'], {}, (line) => lines.push(line), () => undefined)).toBe(0);
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const commands = [...lines.join('\n').matchAll(/npm run hub -- ([a-z-]+) ([a-z|-]+)/g)].flatMap(([, group, names]) => names!.split('|').map((name) => `${group} ${name}`));
    expect(commands.length).toBeGreaterThan(15);
    const missing = commands.filter((command) => {
      const [group, name] = command.split(' ');
      return !new RegExp(`npm run hub -- ${group} ([a-z-]+\\|)*${name}\\b`).test(readme);
    });
    expect(missing).toEqual([]);
  });

  test('an unknown option is named with the option it most likely is (an operator review: node\'s words sent them to positional arguments)', async () => {
    const unknown = (...argv: string[]) => runCli(argv, { REDIS_URL: TEST_REDIS_URL }, () => undefined, () => undefined);
    await expect(unknown('clients', 'add', '--id', 'x', '--redirect_uri', 'https://x.test/cb')).rejects.toThrow(/^unknown option --redirect_uri: did you mean --redirect-uri\? \(npm run hub -- --help/);
    await expect(unknown('clients', 'update', 'x', '--post-logout-url', 'https://x.test/')).rejects.toThrow(/^unknown option --post-logout-url: did you mean --post-logout-uri\?/);
    await expect(unknown('users', 'add', '--usrname', 'x')).rejects.toThrow(/^unknown option --usrname: did you mean --username\?/);
    await expect(unknown('clients', 'list', '--frobnicate')).rejects.toThrow(/^unknown option --frobnicate \(npm run hub -- --help/);
    await expect(unknown('clients', 'list', '--frobnicate')).rejects.not.toThrow(/positional argument/);
  });
});

describe('the CLI next to a running hub, with only REDIS_URL and KEY_PREFIX (as the README allows)', () => {
  test('a KEY_PREFIX no hub has published under while a hub has under another is refused, naming it, with nothing written; --new-prefix runs it; the right one runs quietly', async () => {
    // A review: `clients add` and `admin bootstrap` with a mistyped KEY_PREFIX said "registered"
    // and "created", exit 0, into keys no hub reads; then a warning ending "carry on" and exit 0.
    const hub = await startTestHub('redis');
    const typoPrefix = `${hub.config.KEY_PREFIX}typo:`;
    try {
      const run = async (prefix: string, ...more: string[]) => {
        const printed: string[] = [];
        const warned: string[] = [];
        const code = await runCli(['clients', 'add', '--id', `typo-${randomUUID()}`, '--redirect-uri', 'https://t.test/cb', ...more], { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: prefix }, (line) => printed.push(line), (line) => warned.push(line));
        return { code, printed: printed.join('\n'), warned: warned.join('\n') };
      };
      const typo = await run(typoPrefix);
      expect(typo.code).toBe(1);
      expect(typo.printed).toMatch(new RegExp(`^error: no hub has published its settings under KEY_PREFIX ".*typo:" on Redis .*, but hubs have under .*${JSON.stringify(hub.config.KEY_PREFIX).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*run the command again with --new-prefix`));
      expect(typo.printed).not.toMatch(/registered client/);
      const client = await connectRedis(TEST_REDIS_URL);
      try {
        const written: string[] = [];
        for await (const keys of client.scanIterator({ MATCH: `${typoPrefix}*` })) written.push(...keys);
        expect(written).toEqual([]);
        const forced = await run(typoPrefix, '--new-prefix');
        expect(forced.code).toBe(0);
        expect(forced.printed).toMatch(/registered client/);
        expect(forced.warned).toMatch(/^warning: no hub has published its settings under KEY_PREFIX ".*typo:" on Redis .* \(--new-prefix\)/);
      } finally {
        await deleteByPrefix(client, typoPrefix);
        await client.quit();
      }
      const right = await run(hub.config.KEY_PREFIX);
      expect(right.code).toBe(0);
      expect(right.warned).toBe('');
    } finally {
      await hub.close();
    }
  });

  test('a mistyped variable (KEY_PREFX, REDIS_URI) is refused with the setting it looks like, before anything is written (as the hub warns at start)', async () => {
    const prefix = `test:cli-typo:${randomUUID()}:`;
    await expect(runCli(['clients', 'add', '--id', 'typo1', '--redirect-uri', 'https://t.test/cb'], { REDIS_URL: TEST_REDIS_URL, KEY_PREFX: prefix }, () => undefined, () => undefined)).rejects.toThrow(/^refused: KEY_PREFX is not a setting of the hub: did you mean KEY_PREFIX\?/);
    await expect(runCli(['users', 'list'], { REDIS_URI: TEST_REDIS_URL }, () => undefined, () => undefined)).rejects.toThrow(/REDIS_URI is not a setting of the hub: did you mean REDIS_URL\?/);
    // One named in HUB_NOT_SETTINGS belongs to something else: the command runs.
    const said: string[] = [];
    expect(await runCli(['users', 'list', '--new-prefix'], { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: prefix, REDIS_URI: 'mongodb://other', HUB_NOT_SETTINGS: 'REDIS_URI' }, (line) => said.push(line), (line) => said.push(line))).toBe(0);
    expect(said.join('\n')).not.toMatch(/REDIS_URI/);
    const client = await connectRedis(TEST_REDIS_URL);
    try {
      expect(await client.exists('sso:client:{typo1}')).toBe(0);
    } finally {
      await client.quit();
    }
  });

  test('users add --password -: the password is read from standard input, not the command line (an operator review: it was in the shell history and ps)', async () => {
    const hub = await startTestHub('redis');
    try {
      const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX };
      const lines: string[] = [];
      const code = await runCli(['users', 'add', '--username', 'piped', '--email', 'piped@example.test', '--password', '-'], env, (line) => lines.push(line), () => undefined, Readable.from(['piped-password-long-1\nignored second line\n']));
      expect(code).toBe(0);
      expect(lines.join('\n')).not.toContain('piped-password-long-1');
      const user = (await hub.services.users.findByLogin('piped'))!;
      expect(await hub.services.hasher.verify(user.passwordHash, 'piped-password-long-1')).toBe(true);
    } finally {
      await hub.close();
    }
  });

  test('uses the hub\'s issuer, sign-up mode and key timing, not its own environment\'s defaults', async () => {
    // Before, `invites create` printed a link on the default issuer with a warning about the CLI's
    // own HUB_SIGNUP, and `keys rotate` activated a key on the CLI's default delay.
    const hub = await startTestHub('redis', { HUB_ISSUER: 'https://id.example.test', HUB_TRUST_PROXY: 'true', HUB_SIGNUP: 'invite', HUB_KEY_ACTIVATION_DELAY_MS: '120000', HUB_KEY_RETIRE_SECONDS: '7200' });
    try {
      const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX };
      const lines: string[] = [];
      expect(await runCli(['invites', 'create'], env, (line) => lines.push(line))).toBe(0);
      const out = lines.join('\n');
      expect(out).toMatch(/^https:\/\/id\.example\.test\/signup\?invite=/m);
      expect(out).not.toMatch(/warning: HUB_SIGNUP/);
      // Only what the command goes by (before, every setting that differed: the key timing too).
      expect(out).toMatch(/note: using the running hub's HUB_ISSUER, HUB_SIGNUP \(published/);
      await hub.services.clients.register({ clientId: 'synced', redirectUris: ['https://synced.test/cb'], syncLoginUrl: 'https://synced.test/sso/synclogin', syncLogoutUrl: 'https://synced.test/sso/synclogout' });
      const syncRotated: string[] = [];
      expect(await runCli(['clients', 'rotate-sync-key', 'synced'], env, (line) => syncRotated.push(line))).toBe(0);
      expect(syncRotated.join('\n')).not.toMatch(/note: using the running hub's/);
      const rotated: string[] = [];
      const before = Date.now();
      expect(await runCli(['keys', 'rotate', '--alg', 'ES256'], env, (line) => rotated.push(line))).toBe(0);
      const activatesAt = Date.parse(/signs with it from (\S+);/.exec(rotated.join('\n'))![1]!);
      expect(activatesAt - before).toBeGreaterThanOrEqual(119_000); // the hub's, not the CLI's default (90 s)
      expect(rotated.join('\n')).toMatch(/stay published 7200 s after that/);
      expect(rotated.join('\n')).toMatch(/every hub process publishes it within/);
    } finally {
      await hub.close();
    }
  });

  test('an https hub takes no new plain-http client URL off loopback, unless the client is registered with --allow-http; what a client already has stays', async () => {
    // Before, `clients add --redirect-uri http://forum.example/cb` on an https hub was taken
    // without a word: its codes, ID tokens and logout tokens then crossed the network in clear.
    const hub = await startTestHub('redis', { HUB_ISSUER: 'https://id.example.test', HUB_TRUST_PROXY: 'true' });
    try {
      const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX };
      const refused: string[] = [];
      expect(await runCli(['clients', 'add', '--id', 'plain', '--redirect-uri', 'http://forum.example/cb'], env, (line) => refused.push(line))).toBe(1);
      expect(refused.join('\n')).toMatch(/^error: redirect URI must be https on this hub \(its issuer is https\).*--allow-http.*: http:\/\/forum\.example\/cb$/m);
      expect(await hub.services.clients.findUncached('plain')).toBeUndefined();
      // Every URL a browser is sent to: the sync beacons too (an http image on the https sync page is
      // mixed content, which Chromium upgrades to https). The hub's own server-to-server calls
      // (signed, single-use) may stay on an internal http network. Loopback stays allowed (RFC 8252 §7.3).
      await hub.services.clients.register({ clientId: 'bcl', redirectUris: ['https://bcl.example/cb'], backchannelLogoutUri: 'http://bcl.internal/logout', userdeleteUrl: 'http://bcl.internal/sso/userdelete' });
      await expect(hub.services.clients.register({ clientId: 'post', redirectUris: ['https://post.example/cb'], postLogoutRedirectUris: ['http://post.example/'] })).rejects.toThrow(/post-logout redirect URI must be https/);
      await expect(hub.services.clients.register({ clientId: 'sync', redirectUris: ['https://sync.example/cb'], syncLoginUrl: 'http://sync.example/sso/synclogin', syncLogoutUrl: 'https://sync.example/sso/synclogout' })).rejects.toThrow(/sync login URL must be https/);
      for (const uri of ['http://127.0.0.1:7000/cb', 'http://[::1]/cb', 'http://localhost/cb', 'http://bbs.sso.localhost:4001/cb']) {
        await hub.services.clients.register({ clientId: `loop-${randomUUID().slice(0, 8)}`, redirectUris: [uri] });
      }
      // With --allow-http it is registered, and `clients show` says so.
      expect(await runCli(['clients', 'add', '--id', 'plain', '--redirect-uri', 'http://forum.example/cb', '--allow-http'], env, () => undefined)).toBe(0);
      const shown: string[] = [];
      expect(await runCli(['clients', 'show', 'plain'], env, (line) => shown.push(line))).toBe(0);
      expect(shown.join('\n')).toMatch(/plain-http URLs: allowed on an https hub \(--allow-http\)/);
      // Turned off again: its http URI stays (a running site is not broken), a new one is refused.
      expect(await runCli(['clients', 'update', 'plain', '--no-allow-http', '--name', 'Forum'], env, () => undefined)).toBe(0);
      expect((await hub.services.clients.findUncached('plain'))!.redirectUris).toEqual(['http://forum.example/cb']);
      const again: string[] = [];
      expect(await runCli(['clients', 'update', 'plain', '--redirect-uri', 'http://forum.example/cb', '--redirect-uri', 'http://forum.example/cb2'], env, (line) => again.push(line))).toBe(1);
      expect(again.join('\n')).toMatch(/http:\/\/forum\.example\/cb2$/m);
      // A seed's new client is checked the same way before anything is written.
      expect(() => hub.services.clients.check({ clientId: 'seeded', redirectUris: ['http://seeded.example/cb'] })).toThrow(/allowHttp in a seed file/);
      expect(hub.services.clients.check({ clientId: 'seeded', redirectUris: ['http://seeded.example/cb'], allowHttp: true }).allowHttp).toBe(true);
    } finally {
      await hub.close();
    }
  });

  test('an http hub (a development set-up) takes plain-http client URLs as before', async () => {
    const hub = await startTestHub('redis');
    try {
      expect(new URL(hub.config.HUB_ISSUER).protocol).toBe('http:');
      const client = await hub.services.clients.register({ clientId: 'dev', redirectUris: ['http://dev.example/cb'] });
      expect(client.allowHttp).toBeUndefined();
    } finally {
      await hub.close();
    }
  });

  test('keys rotate next to a hub that signs with HUB_JWKS: refused with what to do, nothing written', async () => {
    // Before, it answered "every hub process publishes it … (no restart needed)" and exit 0, while
    // the hubs went on signing with their pinned key and never published the new one.
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const jwks = { keys: [{ ...(await exportJWK(privateKey)), kid: 'pinned-1', alg: 'RS256', use: 'sig' }] };
    const hub = await startTestHub('redis', { HUB_JWKS: JSON.stringify(jwks) });
    try {
      const lines: string[] = [];
      const code = await runCli(['keys', 'rotate'], { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX }, (line) => lines.push(line));
      expect(code).toBe(1);
      expect(lines.join('\n')).toMatch(/^error: the hub signs with the keys of its HUB_JWKS setting.*add the new private key to HUB_JWKS second.*then move it first/m);
      expect(await hub.store.get(hub.services.keys.signingKeys())).toBeNull();
      // Nor can a client be registered for an ID token algorithm the pinned keys do not sign (an
      // outside review: registered, and every token request of it answered invalid_client_metadata).
      const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX };
      const refused: string[] = [];
      expect(await runCli(['clients', 'add', '--id', 'pinned-es', '--redirect-uri', 'http://es.test/cb', '--id-token-alg', 'ES256'], env, (line) => refused.push(line))).toBe(1);
      expect(refused.join('\n')).toMatch(/^error: This hub signs ID tokens with RS256 only \(the kinds of key in its HUB_JWKS\): ES256 cannot be chosen/m);
      expect(await hub.services.clients.findUncached('pinned-es')).toBeUndefined();
      expect(await runCli(['clients', 'add', '--id', 'pinned-rs', '--redirect-uri', 'http://rs.test/cb', '--id-token-alg', 'RS256'], env, () => undefined)).toBe(0);
      // The hub's own registry (the console) says the same.
      await expect(hub.services.clients.register({ clientId: 'pinned-ed', redirectUris: ['http://ed.test/cb'], idTokenSignedResponseAlg: 'EdDSA' })).rejects.toThrow(/RS256 only/);
    } finally {
      await hub.close();
    }
  });

  test('with no hub\'s settings in the store, says it is using its own environment', async () => {
    const lines: string[] = [];
    const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: `test:cli-lonely:${randomUUID()}:` };
    const { cleanUp } = cliHarness(env);
    try {
      expect(await runCli(['invites', 'create', '--new-prefix'], env, (line) => lines.push(line))).toBe(0);
      expect(lines.join('\n')).toMatch(/warning: no hub has published its settings under KEY_PREFIX/);
    } finally {
      await cleanUp();
    }
  });
});

describe('admin CLI without a shared store', () => {
  test('refuses to run (a throw-away store would report success for nothing), and says what to do', async () => {
    const lines: string[] = [];
    const run = runCli(['clients', 'add', '--id', 'newsite', '--redirect-uri', 'http://newsite.test/sso/callback'], { HUB_ISSUER: 'http://hub.test' }, (line) => lines.push(line));
    await expect(run).rejects.toThrow(/no Redis is configured \(REDIS_URL.*admin console \(\/admin\)/s);
    expect(lines.join('\n')).not.toMatch(/registered|secret/);
  });

  test('admin bootstrap without Redis points to HUB_SEED_FILE, not to an admin console nobody can sign in to yet (a first-day operator review)', async () => {
    const run = runCli(['admin', 'bootstrap', '--username', 'root'], { HUB_ISSUER: 'http://hub.test' }, () => undefined);
    await expect(run).rejects.toThrow(/no Redis is configured.*first admin of a hub on the embedded store comes from HUB_SEED_FILE \(a user with roles: \[admin\]\)/s);
    await expect(runCli(['admin', 'bootstrap'], { HUB_ISSUER: 'http://hub.test' }, () => undefined)).rejects.not.toThrow(/use its admin console/);
  });

  test('a Redis that does not answer is named, with what to check', async () => {
    const run = runCli(['users', 'list'], { REDIS_URL: 'redis://127.0.0.1:1', KEY_PREFIX: 'test:cli-unreachable:' }, () => undefined);
    await expect(run).rejects.toThrow(/^Redis 127\.0\.0\.1:1 \(single\) did not answer \(no reply at all, so no password was refused\): is it running and reachable, and are REDIS_URL/);
  });

  test('a Redis that answers but has no such database is said so, not "did not answer" (an operator review)', async () => {
    const { hostname, port } = new URL(TEST_REDIS_URL);
    const run = runCli(['users', 'list'], { REDIS_URL: `redis://${hostname}:${port || 6379}/99`, KEY_PREFIX: 'test:cli-db:' }, () => undefined);
    await expect(run).rejects.toThrow(/^Redis .* \(single\) answered, but has no database 99 \(the \/99 of REDIS_URL\): a Redis server has databases 0 to 15/);
  });

  test('--help prints the usage and exits 0; no command at all exits 2', async () => {
    const lines: string[] = [];
    expect(await runCli(['--help'], {}, (line) => lines.push(line))).toBe(0);
    expect(lines.join('\n')).toMatch(/clients add/);
    expect(await runCli([], {}, () => undefined)).toBe(2);
  });
});
