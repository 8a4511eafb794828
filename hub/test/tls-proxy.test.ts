/**
 * TLS ends in front of the hub (nginx, a cloud load balancer): the hub is reached over plain
 * HTTP with an https:// issuer. With HUB_TRUST_PROXY=true a whole portal sign-in works and
 * every cookie the hub sets is Secure; an https:// issuer without it is refused at start-up
 * (it used to start, drop the portal cookie and answer /auth with a 500).
 */
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const ISSUER = 'https://id.example.test';

describe('TLS terminated by a proxy in front of the hub', () => {
  test('an https:// issuer without HUB_TRUST_PROXY is refused at start-up, naming the variable', () => {
    expect(() => loadConfig({ HUB_ISSUER: ISSUER })).toThrow(ConfigError);
    expect(() => loadConfig({ HUB_ISSUER: ISSUER })).toThrow(/HUB_TRUST_PROXY: must be true when HUB_ISSUER is https/);
    expect(loadConfig({ HUB_ISSUER: ISSUER, HUB_TRUST_PROXY: 'true' }).secureCookies).toBe(true);
    expect(loadConfig({ HUB_ISSUER: 'http://hub.sso.localhost:4000' }).secureCookies).toBe(false);
  });

  describe('HUB_ISSUER https://, HUB_TRUST_PROXY=true, the proxy\'s hop in plain HTTP', () => {
    let hub: RunningHub;
    const cookies: string[] = [];

    beforeAll(async () => {
      hub = await startTestHub('memory', { HUB_ISSUER: ISSUER, HUB_TRUST_PROXY: 'true' });
      await hub.services.users.create({ username: 'tess', email: 'tess@example.test', password: 'behind-the-proxy-1' });
    });
    afterAll(() => hub.close());

    /** What the proxy does: the browser's https://id.example.test/… reaches the hub as http://127.0.0.1:port/…, with X-Forwarded-Proto. */
    const viaProxy = (url: string) => {
      const target = new URL(url, ISSUER);
      return `${hub.url}${target.pathname}${target.search}`;
    };
    const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7' };

    async function follow(browser: TestBrowser, start: string): Promise<{ url: string; status: number; body: string }> {
      let url = start;
      for (let hop = 0; hop < 10; hop += 1) {
        const response = await browser.get(viaProxy(url), headers);
        cookies.push(...response.headers.getSetCookie());
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location) {
          // Redirects name the issuer's origin, never the hub's own address.
          expect(new URL(location, ISSUER).origin).toBe(ISSUER);
          url = new URL(location, ISSUER).toString();
          continue;
        }
        return { url, status: response.status, body: await response.text() };
      }
      throw new Error('too many redirects');
    }

    test('a portal sign-in works end to end and every cookie is Secure', async () => {
      const browser = new TestBrowser();
      const form = await follow(browser, `${ISSUER}/login`);
      expect(form.status).toBe(200);
      const action = attribute(form.body, /action="(\/interaction\/[^"]+\/login)"/);
      const answer = await browser.post(viaProxy(action), { _csrf: inputValue(form.body, '_csrf'), login: 'tess', password: 'behind-the-proxy-1' }, headers);
      cookies.push(...answer.headers.getSetCookie());
      const sync = await answer.text();
      expect(answer.status).toBe(200);
      const account = await follow(browser, continueUrlOf(sync, ISSUER));
      expect(account.status).toBe(200);
      expect(new URL(account.url).pathname).toBe('/account');

      const names = cookies.map((cookie) => cookie.split('=', 1)[0]);
      // The session cookies are `__Host-`: a sibling host on the parent domain cannot plant one (cookie tossing).
      expect(names).toEqual(expect.arrayContaining(['__Host-hub_portal', 'hub_interaction', '__Host-hub_session']));
      expect(names).not.toContain('hub_session');
      // So is the sign-in's binding cookie (only this browser resumes it: security/sign-in-binding.ts).
      expect(names.filter((name) => name.startsWith('__Host-hub_signin_'))).toHaveLength(1);
      // And the record of who signed in here, for a sign-out after the hub session expired (oidc/signed-in-as.ts).
      expect(names).toEqual(expect.arrayContaining(['__Host-hub_signed_in_as', '__Host-hub_signed_in_as.sig']));
      for (const cookie of cookies) expect({ cookie: cookie.split('=', 1)[0], secure: /;\s*secure\b/i.test(cookie) }).toEqual({ cookie: cookie.split('=', 1)[0], secure: true });
      // What a browser requires of a __Host- cookie: Secure, Path=/, no Domain.
      for (const cookie of cookies.filter((line) => line.startsWith('__Host-'))) {
        expect(cookie).toMatch(/;\s*path=\/(;|$)/i);
        expect(cookie).not.toMatch(/;\s*domain=/i);
      }
    });

    test('discovery names the https:// issuer and HSTS is on', async () => {
      const response = await fetch(viaProxy('/.well-known/openid-configuration'), { headers });
      const discovery = (await response.json()) as { issuer: string; authorization_endpoint: string };
      expect(discovery.issuer).toBe(ISSUER);
      expect(discovery.authorization_endpoint).toBe(`${ISSUER}/auth`);
      const page = await fetch(viaProxy('/login'), { headers, redirect: 'manual' });
      expect(page.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    });
  });
});
