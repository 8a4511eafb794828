import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createSubsiteKit } from '@sso-hub/subsite-kit';
import { TestBrowser, attribute } from '../hub/src/testing/browser.js';
import { continueUrlOf, signInAt } from '../hub/src/testing/flows.js';
import { RedisStore } from '../hub/src/store/redis.js';
import { startTestHub, testStoreKinds, type RunningHub } from '../hub/src/testing/test-hub.js';

async function listen(app: express.Express): Promise<{ server: Server; url: string }> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The kit against the real hub over HTTP: sync, lazy verification, logout (DESIGN flows 2-6). */
// TEST_STORE_KINDS picks the stores (kit-hub-cluster.test.ts runs it on a cluster and Sentinel,
// where the kit keeps its sessions and indexes on the same servers).
describe.each(testStoreKinds())('subsite kit ⇄ hub on %s', (kind) => {
  let hub: RunningHub;
  let site: { server: Server; url: string };
  let hubRequests: string[];

  beforeAll(async () => {
    hub = await startTestHub(kind);
    hubRequests = [];
    hub.server.prependListener('request', (req) => hubRequests.push(`${req.method} ${req.url?.split('?')[0]}`));
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', name: 'Alice', password: 'wonderland-123' });

    // The site's port must be known before registering its URLs: listen first, mount later.
    const app = express();
    site = await listen(app);
    const client = await hub.services.clients.register({
      clientId: 'bbs',
      name: 'Forum',
      trusted: true,
      redirectUris: [`${site.url}/sso/callback`],
      postLogoutRedirectUris: [`${site.url}/`],
      syncLoginUrl: `${site.url}/sso/synclogin`,
      syncLogoutUrl: `${site.url}/sso/synclogout`,
    });
    const sso = await createSubsiteKit({
      hubUrl: hub.url,
      clientId: 'bbs',
      clientSecret: client.clientSecret!,
      redirectUri: `${site.url}/sso/callback`,
      syncKey: client.sync!.key,
      sessionSecret: 'a-session-secret-for-tests-0123456789abcdef',
      logger: { warn: () => {} },
      // Under the hub's prefix, so the hub's clean-up removes the kit's keys too.
      ...(kind.startsWith('redis-') && hub.store instanceof RedisStore ? { redis: hub.store.client, redisPrefix: `${hub.config.KEY_PREFIX}kit:` } : {}),
    });
    app.use(sso.router);
    app.use(sso.lazyLogin);
    app.get('/', (_req, res) => res.type('html').send(res.locals.user ? `hello ${res.locals.user.name}` : 'hello guest'));
    app.get('/private', sso.requireLogin, (req, res) => res.type('html').send(`private ${req.user!.preferred_username}`));
  });
  afterAll(async () => {
    site.server.closeAllConnections();
    await new Promise<void>((resolve) => site.server.close(() => resolve()));
    await hub.close();
  });

  /** Signs in at the hub portal and loads the sync page's beacon for the site, as a browser would. */
  async function signInAndSync(browser: TestBrowser): Promise<void> {
    const login = await browser.follow(`${hub.url}/login`);
    const { body: syncPage } = await signInAt(browser, hub.url, login.url, 'alice', 'wonderland-123');
    const beacon = attribute(syncPage, /<img class="beacon" src="([^"]+)"/);
    expect(beacon.startsWith(`${site.url}/sso/synclogin?time=`)).toBe(true);
    const synced = await browser.get(beacon, { accept: 'image/*', 'sec-fetch-dest': 'image', 'sec-fetch-mode': 'no-cors' });
    expect(synced.status).toBe(200);
    expect(synced.headers.get('content-type')).toBe('image/gif');
    await browser.follow(continueUrlOf(syncPage, hub.url));
  }

  test('sign in at the hub, sync beacon, then one lazy verification costs authorize + token only', async () => {
    // A first visitor warms the kit's discovery and JWKS caches.
    const first = new TestBrowser();
    await signInAndSync(first);
    expect((await first.follow(`${site.url}/`, [new URL(site.url).host, new URL(hub.url).host])).body).toBe('hello Alice');

    const browser = new TestBrowser();
    await signInAndSync(browser);
    // The beacon left a Request-Login marker and no session.
    expect([...browser.cookies(site.url).keys()].some((name) => name.endsWith('request-login'))).toBe(true);
    expect([...browser.cookies(site.url).keys()].some((name) => name.endsWith('sid'))).toBe(false);

    hubRequests.length = 0;
    const page = await browser.follow(`${site.url}/`, [new URL(site.url).host, new URL(hub.url).host]);
    expect(page.body).toBe('hello Alice');
    expect(hubRequests).toEqual(['GET /auth', 'POST /token']);
    expect([...browser.cookies(site.url).keys()].some((name) => name.endsWith('request-login'))).toBe(false);
    // The subsite session cookie is a browser-session cookie.
    const setCookieSid = [...browser.cookies(site.url).keys()].find((name) => name.endsWith('sid'));
    expect(setCookieSid).toBeDefined();
  });

  test('a page view with no Request-Login costs the hub nothing', async () => {
    hubRequests.length = 0;
    const browser = new TestBrowser();
    const page = await browser.get(`${site.url}/`);
    expect(await page.text()).toBe('hello guest');
    expect(hubRequests).toEqual([]);
  });

  test('Request-Login with no hub session: one silent check, login_required, anonymous, no loop', async () => {
    const browser = new TestBrowser();
    // A valid sync beacon from a sign-in in another browser, replayed here: refused (single use)...
    const other = new TestBrowser();
    const login = await other.follow(`${hub.url}/login`);
    const { body } = await signInAt(other, hub.url, login.url, 'alice', 'wonderland-123');
    const beacon = attribute(body, /<img class="beacon" src="([^"]+)"/);
    expect((await other.get(beacon)).status).toBe(200);
    expect((await browser.get(beacon)).status).toBeGreaterThanOrEqual(400);

    // ...so plant the marker directly, as a stale cookie from an old sign-in would be.
    browser.cookies(site.url).set('sso.request-login', '1');
    const first = await browser.follow(`${site.url}/`, [new URL(site.url).host, new URL(hub.url).host]);
    expect(first.body).toBe('hello guest');
    hubRequests.length = 0;
    const second = await browser.follow(`${site.url}/`, [new URL(site.url).host, new URL(hub.url).host]);
    expect(second.body).toBe('hello guest');
    expect(hubRequests).toEqual([]);
  });

  test('a silent check started from //evil.example/phish comes back on the subsite, never off-site', async () => {
    const browser = new TestBrowser();
    browser.cookies(site.url).set('sso.request-login', '1');
    const hosts = [new URL(site.url).host, new URL(hub.url).host];
    const landed = await browser.follow(`${site.url}//evil.example/phish`, hosts);
    expect(new URL(landed.url).host).toBe(new URL(site.url).host);
    expect(landed.url).not.toContain('evil.example');
  });

  test('sign-out from the subsite ends the hub session and answers with synclogout beacons', async () => {
    const browser = new TestBrowser();
    const start = await browser.follow(`${site.url}/private`, [new URL(site.url).host, new URL(hub.url).host]);
    // requireLogin sent us to the hub's sign-in page.
    expect(start.url.startsWith(`${hub.url}/interaction/`)).toBe(true);
    const { body } = await signInAt(browser, hub.url, start.url, 'alice', 'wonderland-123');
    const done = await browser.follow(continueUrlOf(body, hub.url), [new URL(site.url).host, new URL(hub.url).host]);
    expect(done.body).toBe('private alice');

    const out = await browser.post(`${site.url}/sso/logout`, {}, { origin: site.url });
    expect(out.status).toBe(303);
    const endSession = await browser.get(out.headers.get('location')!);
    const confirm = await endSession.text();
    expect(confirm).toContain('data-autosubmit'); // valid id_token_hint: no question asked
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm)![1]!;
    const sync = await browser.post(`${hub.url}/session/end/confirm`, { xsrf, logout: 'yes' });
    const syncPage = await sync.text();
    expect(syncPage).toContain(`data-continue="${site.url}/"`);
    const beacon = attribute(syncPage, /<img class="beacon" src="([^"]+)"/);
    expect(beacon.startsWith(`${site.url}/sso/synclogout?`)).toBe(true);
    expect((await browser.get(beacon)).status).toBe(200);

    const after = await browser.follow(`${site.url}/`, [new URL(site.url).host, new URL(hub.url).host]);
    expect(after.body).toBe('hello guest');
    const account = await browser.follow(`${hub.url}/account`);
    expect(account.url.startsWith(`${hub.url}/interaction/`)).toBe(true);
  });
});
