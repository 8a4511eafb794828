/**
 * The hub against a subsite that is neither the kit nor UCenter: a plain PHP site
 * (hub/test/php/oidc-site/, php -S) written from docs/subsite-protocol.md alone. It signs in
 * with the code flow + PKCE, checks its ES256 ID tokens with openssl, takes the sync beacons
 * (HS256 sync codes) and the silent check, RP-initiated and back-channel logout, and the
 * RS256 userdelete token. Each step goes through PHP's own $_GET, $_COOKIE, $_POST and
 * headers, so what the document says is what a site in another language meets. CI installs
 * php-cli (.ci/run); without PHP this test fails.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { freePort } from '../src/testing/hub-process.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { startPhpServer, stopPhpServer } from './php-server.js';
import { signOut, walk } from './support.js';

const SITE_DIR = fileURLToPath(new URL('./php/oidc-site', import.meta.url));
const POLLY = { username: 'polly', email: 'polly@example.com', name: 'Polly Glot', password: 'polly-password-1' };

describe('a plain PHP subsite (no kit) built from docs/subsite-protocol.md', () => {
  let hub: RunningHub;
  let php: ChildProcess;
  let site: string;
  let dir: string;
  let userId: string;

  /** The sync page's beacon for the PHP site, as the browser loads it. */
  function beaconOf(syncPage: string): string {
    return attribute(syncPage, /<img class="beacon" src="([^"]+)"[^>]*data-client="phpsite"/);
  }

  /** A page view of the site, following its redirects through the hub as a browser would. */
  async function view(browser: TestBrowser, path = '/'): Promise<string> {
    const { body, response } = await browser.follow(`${site}${path}`, [new URL(site).host, new URL(hub.url).host]);
    expect(response.status).toBe(200);
    return /<p id="who">([^<]*)<\/p>/.exec(body)?.[1] ?? body.slice(0, 200);
  }

  /** Sign-in at the hub's portal; the sync page's beacon is loaded; returns its answer. */
  async function signInAtHub(browser: TestBrowser): Promise<Response> {
    const landed = await browser.follow(`${hub.url}/login?next=%2Faccount`);
    const action = attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/);
    const answer = await browser.post(new URL(action, hub.url).toString(), { _csrf: inputValue(landed.body, '_csrf'), login: POLLY.username, password: POLLY.password });
    expect(answer.status).toBe(200);
    const syncPage = await answer.text();
    const beacon = await browser.get(beaconOf(syncPage), { accept: 'image/*', 'sec-fetch-dest': 'image', 'sec-fetch-mode': 'no-cors' });
    // The sync page then moves on (its script), which completes the hub's sign-in.
    await browser.follow(continueUrlOf(syncPage, hub.url));
    return beacon;
  }

  beforeAll(async () => {
    hub = await startTestHub('redis', { DELIVERY_BACKOFF_BASE_MS: '1', DELIVERY_BACKOFF_MAX_MS: '2', SYNC_KEY_OVERLAP_SECONDS: '0' });
    dir = await mkdtemp(join(tmpdir(), 'php-subsite-'));
    const port = await freePort();
    site = `http://127.0.0.1:${port}`;
    const client = await hub.services.clients.register({
      clientId: 'phpsite',
      name: 'PHP site',
      trusted: true,
      redirectUris: [`${site}/sso/callback`],
      postLogoutRedirectUris: [`${site}/`],
      syncLoginUrl: `${site}/sso/synclogin`,
      syncLogoutUrl: `${site}/sso/synclogout`,
      userdeleteUrl: `${site}/sso/userdelete`,
      backchannelLogoutUri: `${site}/sso/backchannel-logout`,
      idTokenSignedResponseAlg: 'ES256',
    });
    userId = (await hub.services.users.create(POLLY)).id;
    php = await startPhpServer([`127.0.0.1:${port}`, join(SITE_DIR, 'index.php')], {
      HUB_ISSUER: hub.url,
      HUB_INTERNAL_URL: hub.url,
      SSO_CLIENT_ID: 'phpsite',
      SSO_CLIENT_SECRET: client.clientSecret!,
      SSO_SYNC_KEY: client.sync!.key,
      SSO_REDIRECT_URI: `${site}/sso/callback`,
      SSO_ID_TOKEN_ALG: 'ES256',
      SITE_URL: site,
      SITE_DATA: dir,
    }, `${site}/`);
  });

  afterAll(async () => {
    await stopPhpServer(php);
    await hub?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("§3.4: the hub's integration check gets {\"sync\":\"ok\"} from both endpoints", async () => {
    expect(await hub.services.integration.check('phpsite')).toMatchObject({ ok: true, checks: [{ status: 'ok' }, { status: 'ok' }] });
  });

  it('§3–4: a sign-in at the hub sets Request-Login through the beacon; the next page view signs in silently with an ES256 ID token', async () => {
    const browser = new TestBrowser();
    expect(await view(browser)).toBe('anonymous');
    const beacon = await signInAtHub(browser);
    expect(beacon.status).toBe(200);
    expect(beacon.headers.get('content-type')).toBe('image/gif');
    expect(browser.cookies(site).get('Request-Login')).toBe('1');
    expect(await view(browser)).toBe('Hello Polly Glot');
    expect(browser.cookies(site).has('Request-Login')).toBe(false);
  });

  it('§3.3: a replayed or forged sync code gets 400 and no cookie', async () => {
    const browser = new TestBrowser();
    const landed = await browser.follow(`${hub.url}/login?next=%2Faccount`);
    const action = attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/);
    const sync = await (await browser.post(new URL(action, hub.url).toString(), { _csrf: inputValue(landed.body, '_csrf'), login: POLLY.username, password: POLLY.password })).text();
    const url = beaconOf(sync);
    expect((await browser.get(url)).status).toBe(200);
    const stranger = new TestBrowser();
    const replayed = await stranger.get(url);
    expect(replayed.status).toBe(400);
    expect(await replayed.json()).toMatchObject({ error: 'invalid_token', error_description: expect.stringContaining('already used') });
    const forged = await stranger.get(url.replace(/code=([^&.]+)\.([^&.]+)\.[^&]+/, 'code=$1.$2.AAAA'));
    expect(forged.status).toBe(400);
    expect(stranger.cookies(site).has('Request-Login')).toBe(false);
  });

  it('§3.3: a sign-out at the hub ends the site session through the synclogout beacon (the ID token sid), before any back-channel token', async () => {
    const browser = new TestBrowser();
    await signInAtHub(browser);
    expect(await view(browser)).toBe('Hello Polly Glot');
    const { status, html } = await signOut(browser, hub.url);
    expect(status).toBe(200);
    expect((await browser.get(beaconOf(html))).status).toBe(200);
    expect(await view(browser)).toBe('anonymous');
    // §6: the back-channel logout token (ES256, as the ID tokens) is delivered too, and accepted.
    await hub.deliveryWorker.runOnce();
    const logout = (await hub.services.deliveries.list('delivered')).find((item) => item.kind === 'backchannel-logout');
    expect(logout).toMatchObject({ clientId: 'phpsite', lastStatus: 200 });
  });

  it('§2, §5: sign-in from the site, then RP-initiated logout returns to the site with its state', async () => {
    const browser = new TestBrowser();
    const toLogin = await browser.get(`${site}/private`);
    const toHub = await browser.get(new URL(toLogin.headers.get('location')!, site).toString());
    const authUrl = toHub.headers.get('location')!;
    expect(new URL(authUrl).searchParams.get('code_challenge_method')).toBe('S256');
    const { callback, sawLogin } = await walk(browser, hub.url, authUrl, { login: POLLY.username, password: POLLY.password });
    expect(sawLogin).toBe(true);
    expect(callback.searchParams.get('iss')).toBe(hub.url);
    expect(await view(browser, callback.pathname + callback.search)).toBe('Hello Polly Glot');

    const out = await browser.request(`${site}/sso/logout`, { method: 'POST', headers: { origin: site, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(out.status).toBe(303);
    const endSession = new URL(out.headers.get('location')!);
    expect(endSession.searchParams.get('id_token_hint')).toBeTruthy();
    // The hint names the signed-in user: the confirmation submits itself (a script), as a browser runs it.
    const confirm = await (await browser.get(endSession.toString())).text();
    expect(confirm).toContain('data-autosubmit');
    const syncPage = await browser.post(`${hub.url}/session/end/confirm`, { xsrf: inputValue(confirm, 'xsrf'), logout: 'yes' });
    expect(syncPage.status).toBe(200);
    const continueUrl = continueUrlOf(await syncPage.text(), hub.url);
    expect(continueUrl).toMatch(new RegExp(`^${site}/\\?state=st-`));
    expect(await view(browser)).toBe('anonymous');
  });

  it('§7: deleting the user at the hub delivers an RS256 userdelete token that ends the site session', async () => {
    const browser = new TestBrowser();
    await signInAtHub(browser);
    expect(await view(browser)).toBe('Hello Polly Glot');
    await hub.services.lifecycle.delete(userId, { actor: 'test' });
    await hub.deliveryWorker.runOnce();
    const userdelete = (await hub.services.deliveries.list('delivered')).find((item) => item.kind === 'userdelete');
    expect(userdelete).toMatchObject({ clientId: 'phpsite', sub: userId, lastStatus: 200, attempts: 1 });
    // RS256 although the client's ID tokens are ES256 (§7), and the site found the session to end.
    expect(await readFile(join(dir, 'site.log'), 'utf8')).toMatch(new RegExp(`userdelete ${userId} alg=RS256 reason=deleted ended [1-9]`));
    expect(await view(browser)).toBe('anonymous');
  });

  it('§3.4: after the sync key changes, the check says wrong key (the site says "signature")', async () => {
    await hub.services.clients.rotateSyncKey('phpsite');
    expect(await hub.services.integration.check('phpsite')).toMatchObject({ ok: false, checks: [{ status: 'wrong_key' }, { status: 'wrong_key' }] });
  });
});
