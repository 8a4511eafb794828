import { runCli } from '../src/cli.js';
import { secretDigest } from '../src/clients/client-secret.js';
import { PORTAL_CLIENT_ID } from '../src/portal/portal-routes.js';
import { startTestHub, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';

/**
 * `clients update` and `clients show`: before, an operator without the console could only
 * remove a client and add it again to change a redirect URI, which printed a new secret and
 * sync key the subsite then had to be given; and the CLI's client changes were not audited.
 */
describe('clients update / show next to a running hub (Redis)', () => {
  let hub: RunningHub;
  const run = async (...argv: string[]) => {
    const lines: string[] = [];
    const code = await runCli(argv, { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX }, (line) => lines.push(line), () => undefined);
    return { code, out: lines.join('\n') };
  };
  /** The hub's answer to an authorization request for `shop` with this redirect URI: 303 to its sign-in, or 400. */
  const authorize = (redirectUri: string) =>
    fetch(`${hub.url}/auth?${new URLSearchParams({ client_id: 'shop', response_type: 'code', scope: 'openid', redirect_uri: redirectUri, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })}`, { redirect: 'manual' });

  /** The answer once the hub's client cache (checked once a second) has seen the change: polled up to 5 s. */
  const settledAuthorize = async (redirectUri: string, expected: number) => {
    let status = 0;
    for (let tries = 0; tries < 50 && status !== expected; tries += 1) {
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await authorize(redirectUri)).status;
    }
    return status;
  };

  beforeAll(async () => {
    hub = await startTestHub('redis');
  });
  afterAll(async () => {
    await hub.close();
  });

  test('changes only what is given, keeps the secret and sync key, and the running hub follows', async () => {
    const added = await run('clients', 'add', '--id', 'shop', '--name', 'Shop', '--redirect-uri', 'http://shop.test/sso/callback',
      '--sync-login-url', 'http://shop.test/sso/synclogin', '--sync-logout-url', 'http://shop.test/sso/synclogout');
    expect(added.code).toBe(0);
    const secret = /client secret \(shown once\): (\S+)/.exec(added.out)![1]!;
    const syncKey = /sync key \(shown once\): (\S+)/.exec(added.out)![1]!;
    expect(await settledAuthorize('http://shop.test/sso/callback', 303)).toBe(303);

    const updated = await run('clients', 'update', 'shop', '--redirect-uri', 'https://shop.test/sso/callback', '--trusted');
    expect(updated.code).toBe(0);
    expect(updated.out).toMatch(/^updated client shop$/m);
    expect(updated.out).toMatch(/redirect URIs: https:\/\/shop\.test\/sso\/callback$/m);
    expect(updated.out).toMatch(/consent: never asked \(trusted\)/);
    expect(updated.out).toMatch(/sync: img, login http:\/\/shop\.test\/sso\/synclogin/);
    // Nothing new to hand the subsite: no secret or key printed, the stored ones unchanged.
    expect(updated.out).not.toMatch(/shown once/);
    expect(updated.out).not.toContain(secret);
    const stored = (await hub.services.clients.findUncached('shop'))!;
    expect([stored.clientSecretDigest, stored.clientSecret, stored.sync?.key, stored.name]).toEqual([secretDigest(secret), undefined, syncKey, 'Shop']);

    // The running hub reloads its client cache: the new redirect URI works, the old one is refused.
    expect(await settledAuthorize('https://shop.test/sso/callback', 303)).toBe(303);
    expect((await authorize('http://shop.test/sso/callback')).status).toBe(400);

    // '' clears: sync off; show prints every setting but no secret.
    expect((await run('clients', 'update', 'shop', '--sync-login-url', '', '--sync-logout-url', '', '--untrusted')).code).toBe(0);
    const shown = await run('clients', 'show', 'shop');
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/sync: off/);
    expect(shown.out).toMatch(/consent: asked/);
    expect(shown.out).not.toContain(secret);
    expect(shown.out).not.toContain(syncKey);

    // Every change audited, as the console's are, with the CLI as the actor.
    const events = (await hub.services.audit.search({ client: 'shop' })).map((entry) => `${entry.event} ${entry.actor}`);
    expect(events).toEqual(expect.arrayContaining(['admin.client.register cli', 'admin.client.update cli']));
    expect(events.filter((event) => event === 'admin.client.update cli')).toHaveLength(2);
    // Each entry names the settings that changed, as the console's does: the CLI's named every
    // option given, a name given as it was among them (the last read of the session's changes).
    expect((await run('clients', 'update', 'shop', '--name', 'Shop', '--trusted')).code).toBe(0);
    await hub.services.audit.flush();
    const changed = (await hub.services.audit.search({ client: 'shop', event: 'admin.client.update' })).map((entry) => entry.detail?.changed);
    expect(changed.sort()).toEqual(['redirectUris,trusted', 'trusted', 'trusted,syncLoginUrl,syncLogoutUrl,syncTransport'].sort());
  });

  test('a secret made by the update (public → confidential) is shown once; --public drops it', async () => {
    expect((await run('clients', 'add', '--id', 'app', '--redirect-uri', 'http://app.test/cb', '--public')).out).not.toMatch(/client secret/);
    const confidential = await run('clients', 'update', 'app', '--auth', 'client_secret_post');
    expect(confidential.code).toBe(0);
    const secret = /client secret \(shown once\): (\S+)/.exec(confidential.out)![1]!;
    expect((await hub.services.clients.findUncached('app'))!.clientSecretDigest).toBe(secretDigest(secret));
    expect((await run('clients', 'update', 'app', '--public')).code).toBe(0);
    expect((await hub.services.clients.findUncached('app'))!.clientSecretDigest).toBeUndefined();
    expect((await hub.services.clients.findUncached('app'))!.clientSecret).toBeUndefined();
  });

  test('sync added by an update: its key is shown once; rotate-sync-key of a key no one saw takes effect at once', async () => {
    await run('clients', 'add', '--id', 'site1', '--redirect-uri', 'http://site1.test/sso/callback');
    const updated = await run('clients', 'update', 'site1', '--sync-login-url', 'http://site1.test/sso/synclogin', '--sync-logout-url', 'http://site1.test/sso/synclogout');
    const shownKey = /sync key \(shown once\): (\S+)/.exec(updated.out)?.[1];
    expect(shownKey).toBe((await hub.services.clients.findUncached('site1'))!.sync!.key);
    // A shown key may be in use: a normal rotation, with the overlap.
    const normal = await run('clients', 'rotate-sync-key', 'site1');
    expect(normal.out).toMatch(/keeps signing with the previous key for \d+ s/);
    expect((await hub.services.clients.findUncached('site1'))!.sync!.previousKey).toBe(shownKey);

    // Made by a declarative registration and shown to no one: before, the hub kept signing with it for the overlap.
    await hub.services.clients.upsert({ clientId: 'site2', redirectUris: ['http://site2.test/sso/callback'], syncLoginUrl: 'http://site2.test/sso/synclogin', syncLogoutUrl: 'http://site2.test/sso/synclogout' });
    const rotated = await run('clients', 'rotate-sync-key', 'site2');
    expect(rotated.code).toBe(0);
    const sync = (await hub.services.clients.findUncached('site2'))!.sync!;
    expect(rotated.out).toContain(`new sync key (shown once): ${sync.key}; the hub signs with it from now on: configure the subsite with it as syncKey`);
    expect(rotated.out).not.toMatch(/previous/);
    expect(sync.previousKey).toBeUndefined();
  });

  test('bad input is refused with what to fix, and changes nothing', async () => {
    await run('clients', 'add', '--id', 'blog', '--redirect-uri', 'http://blog.test/cb');
    const before = await hub.services.clients.findUncached('blog');
    expect(await run('clients', 'update', 'blog')).toMatchObject({ code: 1, out: expect.stringMatching(/^error: nothing to change/) });
    expect(await run('clients', 'update', 'blog', '--redirect-uri', '')).toMatchObject({ code: 1, out: 'error: A client that signs users in needs at least one redirect URI.' });
    expect(await run('clients', 'update', 'blog', '--sync-login-url', 'http://blog.test/sso/synclogin')).toMatchObject({ code: 1, out: 'error: Sync needs both a login and a logout URL.' });
    expect(await run('clients', 'update', 'blog', '--trusted', '--untrusted')).toMatchObject({ code: 1, out: expect.stringMatching(/contradict/) });
    expect(await run('clients', 'update', 'blog', '--redirect-uri', 'javascript:alert(1)')).toMatchObject({ code: 1 });
    expect(await hub.services.clients.findUncached('blog')).toEqual(before);
    expect((await run('clients', 'update', 'nosuch', '--name', 'X')).code).toBe(1);
    expect((await hub.services.clients.findUncached('nosuch'))).toBeUndefined();
    const own = await run('clients', 'update', PORTAL_CLIENT_ID, '--name', 'Mine now');
    expect(own).toMatchObject({ code: 1, out: expect.stringMatching(/the hub's own client/) });
    expect((await run('clients', 'show', PORTAL_CLIENT_ID)).code).toBe(1);
  });
  test('sync turned off on a subsite without a back-channel URI: told that sign-outs no longer reach it', async () => {
    // An outside review switched a subsite's sync off: a user who signed out at the hub stayed
    // signed in there, and neither the CLI nor the console had said a word.
    await run('clients', 'add', '--id', 'quiet', '--redirect-uri', 'http://quiet.test/sso/callback',
      '--sync-login-url', 'http://quiet.test/sso/synclogin', '--sync-logout-url', 'http://quiet.test/sso/synclogout');
    const off = await run('clients', 'update', 'quiet', '--sync-login-url', '', '--sync-logout-url', '');
    expect(off.code).toBe(0);
    expect(off.out).toMatch(/sign-outs at the hub no longer reach it/);
    // With a back-channel URI, sign-outs still reach it: no note.
    await run('clients', 'add', '--id', 'heard', '--redirect-uri', 'http://heard.test/sso/callback', '--backchannel-uri', 'http://127.0.0.1:9/sso/backchannel-logout',
      '--sync-login-url', 'http://heard.test/sso/synclogin', '--sync-logout-url', 'http://heard.test/sso/synclogout');
    const kept = await run('clients', 'update', 'heard', '--sync-login-url', '', '--sync-logout-url', '');
    expect(kept.out).not.toMatch(/no longer reach/);
  });
});
