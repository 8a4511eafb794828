/**
 * DESIGN flow 2, who gets a sync beacon: at sign-in only the subsites the user uses
 * (trusted ones and those the user consented to), at sign-out only the subsites this hub
 * session signed in to; and a sign-in with 1,000 registered subsites stays a small page
 * with small headers (issue 14: the CSP used to list every registered origin).
 */
import { TestBrowser, attribute, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest, signOut, walk, type Credentials } from './support.js';

const ALICE: Credentials = { login: 'alice', password: 'wonderland-123' };
const SUBSITES = {
  /** First-party: never asks consent, always synced at sign-in. */
  trusted: 'http://trusted.sso.test:5101',
  /** Third-party the user allowed once. */
  allowed: 'http://allowed.example:5102',
  /** Third-party the user never allowed: must never learn about the user's sign-ins. */
  stranger: 'http://stranger.example:5103',
} as const;
type Subsite = keyof typeof SUBSITES;

function subsiteInput(clientId: string, origin: string, trusted = false) {
  return {
    clientId,
    name: clientId,
    trusted,
    redirectUris: [`${origin}/sso/callback`],
    syncLoginUrl: `${origin}/sso/synclogin`,
    syncLogoutUrl: `${origin}/sso/synclogout`,
  };
}

/** The subsites a sync page sends a beacon to (img or script). */
function beaconClients(html: string): string[] {
  return [...html.matchAll(/class="beacon"[^>]*data-client="([^"]+)"/g)].map((match) => match[1]!).sort();
}

/** Bytes of the response head as a proxy sees it: status line aside, every header line. */
function headerBytes(response: Response): number {
  let bytes = 0;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') bytes += Buffer.byteLength(`${name}: ${value}\r\n`);
  });
  for (const cookie of response.headers.getSetCookie()) bytes += Buffer.byteLength(`set-cookie: ${cookie}\r\n`);
  return bytes;
}

/** Signs in from the hub's own portal; returns the sync page answer. */
async function portalSignIn(hub: RunningHub, browser: TestBrowser) {
  const landed = await browser.follow(`${hub.url}/login`);
  const action = new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
  const answer = await browser.post(action, { _csrf: inputValue(landed.body, '_csrf'), ...ALICE });
  const html = await answer.text();
  expect(answer.status).toBe(200);
  return { answer, html };
}

describe.each(STORE_KINDS)('sync beacons go only where the user is (%s)', (kind) => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    for (const [name, origin] of Object.entries(SUBSITES)) await hub.services.clients.register(subsiteInput(name, origin, name === 'trusted'));
    // Alice allows "allowed" once (sign-in and consent in a browser of its own).
    const request = codeRequest('allowed', `${SUBSITES.allowed}/sso/callback`);
    const consented = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
    expect(consented.sawConsent).toBe(true);
  });
  afterAll(() => hub.close());

  test('at sign-in: trusted and consented subsites get a beacon; an unconsented third party gets none', async () => {
    const { answer, html } = await portalSignIn(hub, new TestBrowser());
    expect(beaconClients(html)).toEqual<Subsite[]>(['allowed', 'trusted']);
    expect(html).not.toContain(SUBSITES.stranger);
    expect(answer.headers.get('content-security-policy')).not.toContain('stranger.example');
  });

  test('after the user withdraws consent, that subsite gets no beacon any more', async () => {
    await hub.services.consents.forget(
      (await hub.services.users.findByLogin('alice'))!.id,
      'allowed',
    );
    const { html } = await portalSignIn(hub, new TestBrowser());
    expect(beaconClients(html)).toEqual<Subsite[]>(['trusted']);
    // Consent again, for the tests after this one.
    const request = codeRequest('allowed', `${SUBSITES.allowed}/sso/callback`);
    expect((await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE)).sawConsent).toBe(true);
  });

  test('at sign-out: only the subsites this session signed in to get a synclogout beacon', async () => {
    const browser = new TestBrowser();
    const { html } = await portalSignIn(hub, browser);
    await browser.follow(continueUrlOf(html, hub.url));
    // This browser uses only the trusted subsite (its lazy verification: an authorization with the session).
    const request = codeRequest('trusted', `${SUBSITES.trusted}/sso/callback`, { prompt: 'none' });
    const { callback } = await walk(browser, hub.url, authUrl(hub.url, request.params));
    expect(callback.searchParams.get('code')).toBeTruthy();

    const out = await signOut(browser, hub.url);
    expect(out.status).toBe(200);
    expect(out.html).toContain('data-act="logout"');
    expect(beaconClients(out.html)).toEqual<Subsite[]>(['trusted']);
  });

  test('at sign-out of a session that used no subsite: no beacon at all', async () => {
    const browser = new TestBrowser();
    const { html } = await portalSignIn(hub, browser);
    await browser.follow(continueUrlOf(html, hub.url));
    const out = await signOut(browser, hub.url);
    expect(out.status).toBe(200);
    expect(beaconClients(out.html)).toEqual([]);
  });
});

describe.each(STORE_KINDS)('issue 14: a sign-in with 1,000 registered subsites on distinct origins (%s)', (kind) => {
  const REGISTERED = 1_000;
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    await hub.services.clients.register(subsiteInput('trusted', SUBSITES.trusted, true));
    const ids = Array.from({ length: REGISTERED }, (_, i) => i);
    for (let start = 0; start < ids.length; start += 10) {
      await Promise.all(ids.slice(start, start + 10).map((i) => hub.services.clients.register(subsiteInput(`site-${i}`, `https://site-${i}.example-${i}.test`))));
    }
    // Alice uses two of the third-party subsites.
    for (const clientId of ['site-7', 'site-700']) {
      const i = clientId.slice(5);
      const request = codeRequest(clientId, `https://site-${i}.example-${i}.test/sso/callback`);
      expect((await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE)).sawConsent).toBe(true);
    }
  }, 120_000);
  afterAll(() => hub.close());

  test("headers < 8 KB (Node's HTTP client reads them), a small page listing only the user's subsites", async () => {
    const { answer, html } = await portalSignIn(hub, new TestBrowser());
    expect(headerBytes(answer)).toBeLessThan(8 * 1024);
    expect(beaconClients(html)).toEqual(['site-7', 'site-700', 'trusted']);
    // Three beacons (each a URL with a signed code) and the page around them.
    expect(Buffer.byteLength(html)).toBeLessThan(8 * 1024);
    const csp = answer.headers.get('content-security-policy')!;
    expect(csp).not.toContain('site-1.example');
    expect(csp.length).toBeLessThan(512);
  });

  test('the sign-out page is as small: only where this session signed in', async () => {
    const browser = new TestBrowser();
    const { html } = await portalSignIn(hub, browser);
    await browser.follow(continueUrlOf(html, hub.url));
    const out = await signOut(browser, hub.url);
    expect(out.status).toBe(200);
    expect(beaconClients(out.html)).toEqual([]);
    expect(Buffer.byteLength(out.html)).toBeLessThan(4 * 1024);
    expect(out.csp!.length).toBeLessThan(512);
  });
});
