/**
 * A sign-out after the hub session expired from idle (subsite page views do not refresh it): a
 * browser review signed in at wiki (bbs followed by its sync beacon), waited past
 * HUB_SESSION_TTL and signed out at bbs. The hub had no session left to read its subsites from,
 * so only bbs signed out; wiki kept showing the user. With a valid `id_token_hint` the hub knows
 * the user: its sync page now pings the subsites that account uses with codes for any hub
 * session of this browser (`sid` `*`) that name the user (`sub`), so a kit ends only that user's
 * local session. Without a hint (or with a forged one) nothing is pinged, as before.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, postForm, walk } from './support.js';

const SITES = ['wiki', 'bbs', 'shop', 'stranger'] as const;
const redirectOf = (site: string) => `http://${site}.test/sso/callback`;
/** Long enough for the 2 s hub session to have expired, its record included (kept 5 s past its `exp`: hub/src/oidc/adapter.ts). */
const PAST_TTL_MS = 7500;

/** The sync page's beacons: `data-client` → the claims of its code. */
function beacons(html: string): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const m of html.matchAll(/<img class="beacon" src="([^"]+)"[^>]*data-client="([^"]+)">/g)) {
    const code = new URL(m[1]!.replace(/&amp;/g, '&')).searchParams.get('code')!;
    out.set(m[2]!, JSON.parse(Buffer.from(code.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>);
  }
  return out;
}

/** Follows GET /session/end as the browser does (its auto-submitted form, then the confirm). */
async function endSession(browser: TestBrowser, hubUrl: string, query: Record<string, string>): Promise<{ status: number; html: string; location: string | null }> {
  const page = await browser.get(`${hubUrl}/session/end?${new URLSearchParams(query).toString()}`);
  const html = await page.text();
  if (page.status !== 200) return { status: page.status, html, location: null };
  const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  // An expired session: oidc-provider's own auto-submitted form (logout=yes included); the logout=yes is the browser's button otherwise.
  const done = await browser.post(`${hubUrl}/session/end/confirm`, { logout: 'yes', ...fields });
  return { status: done.status, html: await done.text(), location: done.headers.get('location') };
}

describe.each(STORE_KINDS)('sign-out after the hub session expired (%s)', (kind) => {
  let hub: RunningHub;
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    hub = await startTestHub(kind, { HUB_SESSION_TTL: '2' });
    for (const site of SITES) {
      const client = await hub.services.clients.register({
        clientId: site,
        // wiki and bbs first-party; shop asks for consent (given below); stranger is never used.
        trusted: site === 'wiki' || site === 'bbs',
        redirectUris: [redirectOf(site)],
        postLogoutRedirectUris: [`http://${site}.test/`],
        syncLoginUrl: `http://${site}.test/sso/synclogin`,
        syncLogoutUrl: `http://${site}.test/sso/synclogout`,
      });
      secrets.set(site, client.clientSecret!);
    }
    for (const name of ['zhangsan', 'lisi']) await hub.services.users.create({ username: name, email: `${name}@example.test`, password: `${name}-password-1` });
  });
  afterAll(() => hub.close());

  /** Signs `name` in at wiki, bbs and shop (consenting there); returns the browser and wiki's ID token. */
  async function signedInEverywhere(name: string): Promise<{ browser: TestBrowser; idToken: string }> {
    const browser = new TestBrowser();
    let idToken = '';
    for (const site of ['wiki', 'bbs', 'shop']) {
      const request = codeRequest(site, redirectOf(site));
      const { callback } = await walk(browser, hub.url, authUrl(hub.url, request.params), { login: name, password: `${name}-password-1` });
      const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: redirectOf(site) }, { authorization: basic(site, secrets.get(site)!) });
      if (site === 'bbs') idToken = String(tokens.body.id_token);
    }
    return { browser, idToken };
  }

  test("with bbs's ID token as hint: wiki, bbs and shop get a logout code for any session of this browser naming the user; no one else does", async () => {
    const { browser, idToken } = await signedInEverywhere('zhangsan');
    const sub = decodeJwt(idToken).sub;
    await signedInEverywhere('lisi'); // lisi's consent to shop is not zhangsan's
    await sleep(PAST_TTL_MS);

    const out = await endSession(browser, hub.url, { id_token_hint: idToken, post_logout_redirect_uri: 'http://bbs.test/' });
    expect(out.status).toBe(200);
    const codes = beacons(out.html);
    expect([...codes.keys()].sort()).toEqual(['bbs', 'shop', 'wiki']);
    for (const [site, claims] of codes) {
      expect(claims).toMatchObject({ act: 'logout', sid: '*', sub, aud: site });
      expect(claims.switch).toBeUndefined();
    }
    // Then on to the site's post-logout URI, as oidc-provider was sending the browser.
    expect(out.html).toContain('http://bbs.test/');
    expect(out.html).not.toMatch(/<script[^>]*data-client=/); // images only
  });

  test('without a hint, or with a forged one, nothing is pinged', async () => {
    const { browser, idToken } = await signedInEverywhere('zhangsan');
    await sleep(PAST_TTL_MS);
    const plain = await endSession(browser, hub.url, { client_id: 'bbs' });
    expect(plain.status).not.toBe(500);
    expect(beacons(plain.html).size).toBe(0);

    const [header, , signature] = idToken.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...decodeJwt(idToken), sub: 'someone-else' })).toString('base64url');
    const forged = await endSession(browser, hub.url, { id_token_hint: `${header!}.${forgedPayload}.${signature!}` });
    expect(forged.status).toBe(400);
    expect(beacons(forged.html).size).toBe(0);
  });

  test("another browser holding the user's ID token gets no codes and learns nothing of the user's subsites", async () => {
    // An attacker review: every subsite the user signed in to holds such a token (and RP-initiated
    // logout carries it in a URL). Honoured on the hint alone, a fresh browser, or another user's
    // browser whose own session expired, was shown the user's consented subsites and given logout
    // codes naming the user, to plant as <img> in a page the user opens.
    const { idToken } = await signedInEverywhere('zhangsan');
    const fresh = await endSession(new TestBrowser(), hub.url, { id_token_hint: idToken });
    expect(fresh.status).toBe(200);
    expect(beacons(fresh.html).size).toBe(0);
    expect(fresh.html).not.toContain('http://shop.test/sso/synclogout');

    const { browser: lisis } = await signedInEverywhere('lisi');
    await sleep(PAST_TTL_MS);
    const other = await endSession(lisis, hub.url, { id_token_hint: idToken });
    expect(other.status).toBe(200);
    expect(beacons(other.html).size).toBe(0);
  });

  test('a sign-in made where no signed-in-as cookie was written (an older hub, or before the upgrade) gets one at its next authorization here', async () => {
    // An upgrade review: a browser whose hub sign-in went to a process of 9a87e18 (or was made
    // before the upgrade) had no cookie, and its sign-out after the hub session expired pinged no
    // other site, however many silent checks this version answered for that live session since.
    const browser = new TestBrowser();
    const signedInHere = new Set<string>();
    let idToken = '';
    for (const site of ['wiki', 'bbs', 'shop']) {
      const request = codeRequest(site, redirectOf(site));
      const { callback } = await walk(browser, hub.url, authUrl(hub.url, request.params), { login: 'zhangsan', password: 'zhangsan-password-1' });
      // The older process wrote none: gone after the sign-in (the first site's walk).
      if (site === 'wiki') for (const jar of browser.jar.values()) jar.delete('hub_signed_in_as') && signedInHere.add('wiki');
      const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: redirectOf(site) }, { authorization: basic(site, secrets.get(site)!) });
      if (site === 'bbs') idToken = String(tokens.body.id_token);
    }
    expect(signedInHere.has('wiki')).toBe(true);
    await sleep(PAST_TTL_MS);
    const out = await endSession(browser, hub.url, { id_token_hint: idToken });
    expect([...beacons(out.html).keys()].sort()).toEqual(['bbs', 'shop', 'wiki']);
  });

  test('a live session still signs out by its own authorizations (its sid, no sub)', async () => {
    const { browser, idToken } = await signedInEverywhere('zhangsan');
    const out = await endSession(browser, hub.url, { id_token_hint: idToken });
    const codes = beacons(out.html);
    expect([...codes.keys()].sort()).toEqual(['bbs', 'shop', 'wiki']);
    for (const claims of codes.values()) {
      expect(claims.sid).not.toBe('*');
      expect(claims.sub).toBeUndefined();
    }
  });
});
