/**
 * OIDC Core §3.1.2.1 and RP-Initiated Logout 1.0 §2: a relying party's form POST to /auth or
 * /session/end. The hub answered it `303` to the same endpoint with every posted parameter in the
 * query, so `id_token_hint`, `login_hint`, `state`, `nonce` and request objects reached the
 * address bar, the browser's history and proxies' access logs, which a site that chose POST wanted
 * to avoid (and a form within 8 KB whose URL would pass 8,000 characters got a 413). Now the form
 * is kept in the store under a random single-use handle and only the handle goes into the URL
 * (hub/src/oidc/post-as-get.ts, posted-forms.ts). On the embedded store and a real Redis.
 */
import { decodeJwt } from 'jose';
import { TestBrowser } from '../src/testing/browser.js';
import { captureLogger } from '../src/testing/capture-logger.js';
import { faultyStore } from '../src/testing/faulty-store.js';
import { openTestStore, startTestHub, testStoreKinds, type RunningHub } from '../src/testing/test-hub.js';
import { POSTED_FORM_TTL_SECONDS } from '../src/oidc/posted-forms.js';
import { digest } from '../src/store/keys.js';
import type { Store } from '../src/store/store.js';
import { authUrl, basic, codeRequest, postForm, walk } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const POST_LOGOUT = 'http://rp.test/logged-out';
const ALICE = { login: 'alice', password: 'alice-password-1' };
const HANDLE_LOCATION = /^\/(auth|session\/end)\?hub-posted-form=([A-Za-z0-9_-]{43})$/;
const EXPIRED = 'has expired or was already used';
const ALTERED = 'was changed on the way here';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(testStoreKinds())('a form POST to /auth or /session/end is kept server-side under a single-use handle (%s)', (kind) => {
  let hub: RunningHub;
  let inner: Store;
  let faults: ReturnType<typeof faultyStore>;
  let secret: string;
  const log = captureLogger();

  beforeAll(async () => {
    inner = await openTestStore(kind);
    faults = faultyStore(inner);
    hub = await startTestHub(kind, { LOG_LEVEL: 'debug' }, faults.store, log.logger);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    const client = await hub.services.clients.register({
      clientId: 'rp',
      trusted: true,
      redirectUris: [REDIRECT],
      postLogoutRedirectUris: [POST_LOGOUT],
    });
    secret = client.clientSecret!;
  });
  afterEach(() => faults.plan(undefined));
  afterAll(async () => {
    await hub.close();
    await inner.close();
  });

  const keyOf = (handle: string) => hub.services.keys.postedForm(digest(handle));

  /** POSTs `form` to `path` from `browser`; returns the 303's Location and its handle. */
  async function post(browser: TestBrowser, path: string, form: Record<string, string>): Promise<{ location: string; handle: string; response: Response }> {
    const response = await browser.post(`${hub.url}${path}`, form);
    expect(response.status).toBe(303);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const location = response.headers.get('location')!;
    const match = HANDLE_LOCATION.exec(location);
    expect(match).not.toBeNull();
    return { location, handle: match![2]!, response };
  }

  /** The friendly 400 page of this path: in HTML, not cached, no stack. */
  async function expectRefusal(response: Response, text: string): Promise<void> {
    const html = await response.text();
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('location')).toBeNull();
    expect(html).toContain(text);
    expect(html).toContain('go back to the site you came from');
    expect(html).not.toMatch(/at .*\.(ts|js):\d+/);
  }

  async function signedIn(): Promise<{ browser: TestBrowser; idToken: string }> {
    const browser = new TestBrowser();
    const request = codeRequest('rp', REDIRECT);
    const { callback } = await walk(browser, hub.url, authUrl(hub.url, request.params), ALICE);
    const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: basic('rp', secret) });
    return { browser, idToken: String(tokens.body.id_token) };
  }

  test('POST /auth: the Location carries only the handle, none of the posted values; following it answers as the GET would (a code at once for a signed-in browser with prompt=none)', async () => {
    const { browser } = await signedIn();
    const request = codeRequest('rp', REDIRECT, { prompt: 'none', login_hint: 'alice@example.test', ui_locales: 'en' });
    const form = request.params as Record<string, string>;
    const { location } = await post(browser, '/auth', form);
    for (const value of [form.state!, form.nonce!, form.code_challenge!, 'alice', 'login_hint', 'state=']) expect(location).not.toContain(value);
    const { callback, pages } = await walk(browser, hub.url, `${hub.url}${location}`);
    expect(pages).toHaveLength(0); // silent: the session was found, as with the GET
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    expect(callback.searchParams.get('state')).toBe(form.state);
    const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: basic('rp', secret) });
    expect(tokens.status).toBe(200);
    expect(decodeJwt(String(tokens.body.id_token)).nonce).toBe(form.nonce);
  });

  test('POST /auth/ and /session/end/ (a trailing slash, which their GETs take) are kept as well: not a 404 (a review)', async () => {
    const request = codeRequest('rp', REDIRECT, { login_hint: 'alice' });
    const { location } = await post(new TestBrowser(), '/auth/', request.params as Record<string, string>);
    expect(location.startsWith('/auth?')).toBe(true);
    const signOut = await post(new TestBrowser(), '/session/end/', { client_id: 'rp' });
    expect(signOut.location.startsWith('/session/end?')).toBe(true);
  });

  test('POST /auth from a signed-out browser: the GET of the handle goes to the sign-in interaction, as the GET of the form would', async () => {
    const request = codeRequest('rp', REDIRECT, { login_hint: 'alice' });
    const asGet = await new TestBrowser().get(authUrl(hub.url, request.params));
    expect(asGet.status).toBe(303);
    expect(asGet.headers.get('location')).toMatch(/^\/interaction\/[^/?]+$/);
    const browser = new TestBrowser();
    const { location } = await post(browser, '/auth', request.params as Record<string, string>);
    const followed = await browser.get(`${hub.url}${location}`);
    expect(followed.status).toBe(303);
    expect(followed.headers.get('cache-control')).toBe('no-store');
    expect(followed.headers.get('location')).toMatch(/^\/interaction\/[^/?]+$/);
    // And the sign-in finishes with the posted state.
    const { callback } = await walk(browser, hub.url, new URL(followed.headers.get('location')!, hub.url).toString(), ALICE);
    expect(callback.searchParams.get('state')).toBe(request.params.state);
  });

  test('the form is stored by the SHA-256 digest of its handle, with a TTL of at most POSTED_FORM_TTL_SECONDS, and nothing of it is logged', async () => {
    const { browser } = await signedIn();
    const form = codeRequest('rp', REDIRECT, { prompt: 'none', login_hint: 'secret-hint-value' }).params as Record<string, string>;
    const { handle, location } = await post(browser, '/auth', form);
    expect(await inner.get(hub.services.keys.postedForm(handle))).toBeNull();
    const kept = await inner.get(keyOf(handle));
    expect(kept).toContain('secret-hint-value');
    const ttl = await inner.ttl(keyOf(handle));
    expect(POSTED_FORM_TTL_SECONDS).toBeLessThanOrEqual(120);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(POSTED_FORM_TTL_SECONDS);
    await browser.get(`${hub.url}${location}`);
    expect(await inner.get(keyOf(handle))).toBeNull(); // taken
    const logged = JSON.stringify(log.lines);
    expect(log.lines.length).toBeGreaterThan(0);
    for (const value of ['secret-hint-value', form.state!, form.nonce!, handle]) expect(logged).not.toContain(value);
  });

  test('a handle works once: used again, the friendly 400 page (expired or used), not cached', async () => {
    const { browser } = await signedIn();
    const { location } = await post(browser, '/auth', codeRequest('rp', REDIRECT, { prompt: 'none' }).params as Record<string, string>);
    const first = await browser.get(`${hub.url}${location}`);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toMatch(/^http:\/\/rp\.test\/cb\?code=/);
    await expectRefusal(await browser.get(`${hub.url}${location}`), EXPIRED);
  });

  test('two GETs of one handle at once: one answers, the other gets the page (single use under a race)', async () => {
    const { browser } = await signedIn();
    const { location } = await post(browser, '/auth', codeRequest('rp', REDIRECT, { prompt: 'none' }).params as Record<string, string>);
    const answers = await Promise.all([browser.get(`${hub.url}${location}`), browser.get(`${hub.url}${location}`)]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([303, 400]);
  });

  test('an expired handle (its TTL ran out, or its record is gone) or one never issued: the same page', async () => {
    const browser = new TestBrowser();
    const form = codeRequest('rp', REDIRECT).params as Record<string, string>;
    const lapsed = await post(browser, '/auth', form);
    // The record as kept, with a one-second TTL: the store expires it.
    await inner.set(keyOf(lapsed.handle), (await inner.get(keyOf(lapsed.handle)))!, { ttlSeconds: 1 });
    await sleep(1_300);
    await expectRefusal(await browser.get(`${hub.url}${lapsed.location}`), EXPIRED);
    const gone = await post(browser, '/auth', form);
    await inner.del(keyOf(gone.handle));
    await expectRefusal(await browser.get(`${hub.url}${gone.location}`), EXPIRED);
    for (const handle of ['A'.repeat(43), 'short', '', '%00']) {
      await expectRefusal(await browser.get(`${hub.url}/auth?hub-posted-form=${handle}`), EXPIRED);
    }
  });

  test('a handle beside any other parameter is refused, and the form is used up (no parameter slipped in next to a kept form)', async () => {
    const browser = new TestBrowser();
    const form = codeRequest('rp', REDIRECT).params as Record<string, string>;
    for (const extra of ['&redirect_uri=https%3A%2F%2Fevil.example%2F', '&prompt=none', '&hub-posted-form=x']) {
      const { location } = await post(browser, '/auth', form);
      await expectRefusal(await browser.get(`${hub.url}${location}${extra}`), ALTERED);
      await expectRefusal(await browser.get(`${hub.url}${location}`), EXPIRED);
    }
    // The parameter first is no different.
    const { handle } = await post(browser, '/auth', form);
    await expectRefusal(await browser.get(`${hub.url}/auth?prompt=none&hub-posted-form=${handle}`), ALTERED);
    expect(await inner.get(keyOf(handle))).toBeNull();
  });

  test('a handle is taken only at the endpoint its form was posted to', async () => {
    const browser = new TestBrowser();
    const { handle } = await post(browser, '/auth', codeRequest('rp', REDIRECT).params as Record<string, string>);
    await expectRefusal(await browser.get(`${hub.url}/session/end?hub-posted-form=${handle}`), EXPIRED);
  });

  test('a GET whose parameter value merely holds the handle\'s name is any GET', async () => {
    const request = codeRequest('rp', REDIRECT, { state: 'hub-posted-form' });
    const response = await new TestBrowser().get(authUrl(hub.url, request.params));
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/^\/interaction\//);
  });

  test('a form within 8 KB whose URL would be past 8,000 characters goes on (before: a 413 page)', async () => {
    const browser = new TestBrowser();
    const form = { ...(codeRequest('rp', REDIRECT).params as Record<string, string>), login_hint: '中'.repeat(870) };
    const body = new URLSearchParams(form).toString();
    expect(body.length).toBeGreaterThan(8_000);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(8 * 1024);
    const { location } = await post(browser, '/auth', form);
    const followed = await browser.get(`${hub.url}${location}`);
    expect(followed.status).toBe(303);
    expect(followed.headers.get('location')).toMatch(/^\/interaction\//);
  });

  test('POST /session/end with id_token_hint: the hint stays out of the URL and the sign-out goes through to the post-logout URI', async () => {
    const { browser, idToken } = await signedIn();
    const { location } = await post(browser, '/session/end', { id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT, state: 'bye-post' });
    for (const value of [idToken, idToken.split('.')[1]!, 'bye-post', 'logged-out']) expect(location).not.toContain(value);
    const page = await browser.get(`${hub.url}${location}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('data-autosubmit'); // the user's own ID token: no question asked
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const done = await browser.post(`${hub.url}/session/end/confirm`, { xsrf, logout: 'yes' });
    const target = /data-continue="([^"]+)"/.exec(await done.text())?.[1]?.replace(/&amp;/g, '&');
    expect(target).toBe(`${POST_LOGOUT}?state=bye-post`);
    // Signed out: a silent check now gets login_required.
    const silent = await walk(browser, hub.url, authUrl(hub.url, codeRequest('rp', REDIRECT, { prompt: 'none' }).params));
    expect(silent.callback.searchParams.get('error')).toBe('login_required');
  });

  test('the store down: the POST and the GET of a handle get the hub\'s 503 page with Retry-After, never a 500 or a redirect', async () => {
    const browser = new TestBrowser();
    const form = codeRequest('rp', REDIRECT).params as Record<string, string>;
    faults.plan((method, key) => (method === 'set' && key.includes(':posted-form:') ? 'fail' : 'ok'));
    const posted = await browser.post(`${hub.url}/auth`, form);
    expect(posted.status).toBe(503);
    expect(posted.headers.get('retry-after')).toBeTruthy();
    expect(posted.headers.get('cache-control')).toBe('no-store');
    expect(posted.headers.get('location')).toBeNull();
    expect(await posted.text()).toContain('temporarily unavailable');
    faults.plan(undefined);
    const { location } = await post(browser, '/auth', form);
    faults.plan((method) => (method === 'take' ? 'fail' : 'ok'));
    const followed = await browser.get(`${hub.url}${location}`);
    expect(followed.status).toBe(503);
    expect(followed.headers.get('retry-after')).toBeTruthy();
    expect(followed.headers.get('cache-control')).toBe('no-store');
    expect(await followed.text()).toContain('temporarily unavailable');
  });

  test('no page links what the site posted: the sign-out question\'s language switch and the 503 page\'s "try again" (a review)', async () => {
    const { browser } = await signedIn();
    // Someone else's hint (or none): the question is asked, and the page has a language switch.
    const { location } = await post(browser, '/session/end', { client_id: 'rp', state: 'SECRET_STATE', logout_hint: 'SECRET_LOGOUT_HINT' });
    const question = await browser.get(`${hub.url}${location}`);
    expect(question.status).toBe(200);
    const html = await question.text();
    expect(html).toContain('/lang?'); // the switch is there…
    for (const value of ['SECRET_STATE', 'SECRET_LOGOUT_HINT', 'logout_hint']) expect(html).not.toContain(value); // …and links none of it
    // The store fails once the form was taken: the 503 page has no link that would carry the form.
    const request = codeRequest('rp', REDIRECT, { login_hint: 'SECRET_LOGIN_HINT', state: 'SECRET_AUTH_STATE' });
    const kept = await post(new TestBrowser(), '/auth', request.params as Record<string, string>);
    faults.plan((method) => (method === 'take' ? 'ok' : 'fail'));
    const failed = await new TestBrowser().get(`${hub.url}${kept.location}`);
    faults.plan(undefined);
    expect(failed.status).toBe(503);
    const page = await failed.text();
    for (const value of ['SECRET_LOGIN_HINT', 'SECRET_AUTH_STATE', request.params.nonce!, 'client_id=rp']) expect(page).not.toContain(value);
  });

  test('a HEAD of the handle\'s URL does not use the form up (only the browser\'s GET does)', async () => {
    const browser = new TestBrowser();
    const { location } = await post(browser, '/auth', codeRequest('rp', REDIRECT).params as Record<string, string>);
    const upper = location.replace('/auth', '/AUTH');
    for (const url of [location, upper]) await browser.request(`${hub.url}${url}`, { method: 'HEAD' });
    const followed = await browser.get(`${hub.url}${location}`);
    expect(followed.status).toBe(303);
    expect(followed.headers.get('location')).toMatch(/^\/interaction\//);
  });

  test('a request that would be kept past MAX_KEPT_LENGTH (bytes that are not UTF-8 grow 9 times once re-encoded) is the 413 page, no handle', async () => {
    const query = `y=${'%FF'.repeat(4_500)}`;
    const response = await fetch(`${hub.url}/auth?${query}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, body: Buffer.alloc(8_000, 0xff), redirect: 'manual' });
    expect(response.status).toBe(413);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('too long');
  });

  test('POST of another content type: still the 400 page saying what to send; a form past 8 KB: still the 413 page', async () => {
    const wrongType = await new TestBrowser().request(`${hub.url}/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"client_id":"rp"}' });
    expect(wrongType.status).toBe(400);
    expect(await wrongType.text()).toContain('application/x-www-form-urlencoded');
    const tooLong = await new TestBrowser().post(`${hub.url}/auth`, { client_id: 'x'.repeat(9_000) });
    expect(tooLong.status).toBe(413);
    expect(tooLong.headers.get('cache-control')).toBe('no-store');
    expect(await tooLong.text()).toContain('too long');
  });
});

describe.each(testStoreKinds())('a form POST to /auth counts as a sign-in start of its address (%s)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(kind, { SIGNIN_STARTS_PER_IP: '3' });
  });
  afterAll(() => hub.close());

  test('it writes a record before anyone signed in: past the per-address limit, the 429 page and no handle', async () => {
    const browser = new TestBrowser();
    const answers: Response[] = [];
    for (let i = 0; i < 4; i += 1) answers.push(await browser.post(`${hub.url}/auth`, { client_id: 'x', state: `s${i}` }));
    expect(answers.map((answer) => answer.status)).toEqual([303, 303, 303, 429]);
    const refused = answers[3]!;
    expect(refused.headers.get('retry-after')).toBeTruthy();
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(refused.headers.get('location')).toBeNull();
  });

  test('a POSTed sign-in counts once, at its POST: its GET is not counted a second time', async () => {
    const other = await startTestHub(kind, { SIGNIN_STARTS_PER_IP: '3' });
    try {
      await other.services.clients.register({ clientId: 'rp', redirectUris: ['http://rp.example.test/cb'], grantTypes: ['authorization_code'] });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        const browser = new TestBrowser();
        const posted = await browser.post(`${other.url}/auth`, { client_id: 'rp', response_type: 'code', scope: 'openid', redirect_uri: 'http://rp.example.test/cb', state: `s${i}`, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
        statuses.push(posted.status);
        if (posted.status !== 303) continue;
        // The follow-up GET opens the sign-in (an interaction): not refused, and not counted again.
        statuses.push((await browser.get(new URL(posted.headers.get('location')!, other.url).toString())).status);
      }
      expect(statuses).toEqual([303, 303, 303, 303, 303, 303, 429]);
    } finally {
      await other.close();
    }
  });
});
