/**
 * Another site's page could embed the hub's sign-in and sign-out pages as images (an outside
 * review: 300 `<img src="https://hub/session/end">` tags). The visitor's own browser sent them from
 * the visitor's address, each counted against that address's SIGNIN_STARTS_PER_IP, and the visitor
 * (with everyone behind the same address) then got "too many sign-in pages" for five minutes,
 * renewed by the next visit. A browser says what it fetches a URL for (`Sec-Fetch-Dest`): those
 * pages are refused as anything but a page of their own, without counting or storing anything.
 */
import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, testStoreKinds, type RunningHub } from '../src/testing/test-hub.js';

const RP = { client_id: 'rp', response_type: 'code', scope: 'openid', redirect_uri: 'http://rp.example.test/cb', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };
const LIMIT = 3;

describe.each(testStoreKinds())('sign-in and sign-out pages fetched as images, scripts, frames or by fetch() (%s)', (kind) => {
  let hub: RunningHub;
  beforeEach(async () => {
    hub = await startTestHub(kind, { SIGNIN_STARTS_PER_IP: String(LIMIT) });
    await hub.services.clients.register({ clientId: 'rp', redirectUris: ['http://rp.example.test/cb'], grantTypes: ['authorization_code'] });
  });
  afterEach(() => hub.close());

  const authorize = (state: string) => `${hub.url}/auth?${new URLSearchParams({ ...RP, state }).toString()}`;

  test('another site embedding them many times does not lock the visitor out of signing in', async () => {
    const victim = new TestBrowser();
    const embedded = { 'sec-fetch-dest': 'image', 'sec-fetch-mode': 'no-cors', 'sec-fetch-site': 'cross-site', accept: 'image/avif,image/webp,*/*' };
    const statuses: number[] = [];
    for (let i = 0; i < 3 * LIMIT; i += 1) {
      for (const url of [`${hub.url}/session/end`, `${hub.url}/login`, authorize(`img${i}`)]) {
        const answer = await victim.get(url, embedded);
        statuses.push(answer.status);
        // Nothing was stored for it: no interaction, no portal session, no sign-out form.
        expect(answer.headers.getSetCookie()).toEqual([]);
        expect(answer.headers.get('location')).toBeNull();
      }
    }
    expect(new Set(statuses)).toEqual(new Set([400]));
    // The visitor then opens the sign-in from a site: a page of its own, not refused.
    const page = await victim.get(authorize('real'), { 'sec-fetch-dest': 'document', 'sec-fetch-site': 'cross-site' });
    expect(page.status).toBe(303);
    const login = await new TestBrowser().get(`${hub.url}/login`, { 'sec-fetch-dest': 'document' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toMatch(/^\/auth\?/);
  });

  test('every kind of embedding is refused, in the reader\'s language, as RFC 6749 JSON for a program', async () => {
    for (const dest of ['image', 'script', 'iframe', 'empty', 'style', 'Image']) {
      const answer = await new TestBrowser().get(authorize(dest), { 'sec-fetch-dest': dest });
      expect(answer.status).toBe(400);
      expect(await answer.text()).toContain('not inside another page');
    }
    const chinese = await new TestBrowser().get(`${hub.url}/login`, { 'sec-fetch-dest': 'image', 'accept-language': 'zh-CN' });
    expect(chinese.status).toBe(400);
    expect(await chinese.text()).toContain('不能嵌入其他页面');
    const json = await new TestBrowser().get(`${hub.url}/session/end`, { 'sec-fetch-dest': 'empty', accept: 'application/json' });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });
    // A cross-site form POST whose browser says it is not a page (fetch with no-cors): refused before a handle is kept.
    const posted = await new TestBrowser().post(`${hub.url}/auth`, { ...RP, state: 'posted' }, { 'sec-fetch-dest': 'empty' });
    expect(posted.status).toBe(400);
    expect(posted.headers.get('location')).toBeNull();
  });

  test('a public client\'s pushed authorization request by fetch() from its page (CORS) is no page: not refused (a review)', async () => {
    await hub.services.clients.register({ clientId: 'spa', redirectUris: ['http://spa.example.test/cb'], tokenEndpointAuthMethod: 'none' });
    const push = await fetch(`${hub.url}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', origin: 'http://spa.example.test', 'sec-fetch-dest': 'empty', 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'cross-site' },
      body: new URLSearchParams({ ...RP, client_id: 'spa', redirect_uri: 'http://spa.example.test/cb', state: 'par' }).toString(),
    });
    expect(push.status).toBe(201);
    expect(await push.json()).toMatchObject({ request_uri: expect.any(String) });
  });

  test('pages and requests that say nothing (an older browser, a program) are still counted', async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i += 1) statuses.push((await new TestBrowser().get(authorize(`plain${i}`))).status);
    expect(statuses).toEqual([303, 303, 303, 429]);
    // And a page (`document`) past the limit is refused as before.
    expect((await new TestBrowser().get(`${hub.url}/login`, { 'sec-fetch-dest': 'document' })).status).toBe(429);
  });

  test('a silent check (prompt=none) stays outside: neither counted nor refused, whatever its destination', async () => {
    for (let i = 0; i < LIMIT + 2; i += 1) {
      const silent = await new TestBrowser().get(`${authorize(`silent${i}`)}&prompt=none`, { 'sec-fetch-dest': 'iframe' });
      expect(silent.status).toBe(303);
      expect(silent.headers.get('location')).toContain('error=login_required');
    }
  });
});
