import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { makeSite, setCookies, isDeletion, HTML } from '../test-support/site.js';
import { makeSyncCode, syncPath } from '../test-support/sync-codes.js';
import { browserAtHub, startStubHub, HUB_URL, CLIENT_ID, type StubHub } from '../test-support/stub-hub.js';

let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

async function signedIn() {
  const site = await makeSite(hub);
  const agent = request.agent(site.app);
  await agent.get(syncPath('synclogin', await makeSyncCode()));
  await agent.get(await browserAtHub(hub, (await agent.get('/').set(HTML)).headers.location!));
  return { ...site, agent };
}

describe('GET /sso/login: interactive authorization request', () => {
  it('redirects to the hub without prompt=none and returns to next', async () => {
    const { app } = await makeSite(hub);
    const agent = request.agent(app);
    const res = await agent.get('/sso/login?next=/forum%3Fpage%3D3');
    const url = new URL(res.headers.location!);
    expect(`${url.origin}${url.pathname}`).toBe(`${HUB_URL}/auth`);
    expect(url.searchParams.has('prompt')).toBe(false);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    const done = await agent.get(await browserAtHub(hub, res.headers.location!));
    expect(done.headers.location).toBe('/forum?page=3');
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });

  it('?prompt=login: to the hub with prompt=login even when signed in here (sign in as someone else); another prompt is not passed on', async () => {
    // The account-switch review had to build the /auth link by hand: the kit's login route sent a
    // signed-in visitor straight back to `next`, and took no prompt.
    const { agent } = await signedIn();
    expect((await agent.get('/sso/login?next=/x')).headers.location).toBe('/x');
    for (const prompt of ['login', 'select_account']) {
      const res = await agent.get(`/sso/login?next=/x&prompt=${prompt}`);
      const url = new URL(res.headers.location!);
      expect(`${url.origin}${url.pathname}`).toBe(`${HUB_URL}/auth`);
      expect(url.searchParams.get('prompt')).toBe(prompt);
    }
    expect((await agent.get('/sso/login?next=/x&prompt=none')).headers.location).toBe('/x');
    const { app } = await makeSite(hub);
    const anonymous = new URL((await request(app).get('/sso/login?prompt=consent%20login')).headers.location!);
    expect(anonymous.searchParams.has('prompt')).toBe(false);
  });

  it('fetched as an image, a frame or by fetch() (Sec-Fetch-Dest not document): 400, no pending sign-in cookie (an attacker review: 80 <img> on a sibling host left 77 cookies, 20 KB, and the site answered 431 to that browser for ten minutes)', async () => {
    const { app } = await makeSite(hub);
    for (const dest of ['image', 'iframe', 'script', 'empty']) {
      const res = await request(app).get('/sso/login?next=/x').set('Sec-Fetch-Dest', dest).set('Sec-Fetch-Site', 'same-site');
      expect({ dest, status: res.status }).toEqual({ dest, status: 400 });
      expect({ dest, cookies: Object.values(setCookies(res)).filter((cookie) => !isDeletion(cookie)) }).toEqual({ dest, cookies: [] });
    }
    // A page (a link, the address bar, a redirect) still starts the sign-in.
    const page = await request(app).get('/sso/login?next=/x').set('Sec-Fetch-Dest', 'document');
    expect(page.status).toBe(302);
    expect(Object.keys(setCookies(page)).some((name) => name.startsWith('sso.auth.'))).toBe(true);
  });

  it('/sso/callback fetched as an image or a frame (Sec-Fetch-Dest not document) is refused and keeps Request-Login: an <img> or <iframe> of it on a sibling page no longer cancels the next page view\'s sign-in (an attacker review)', async () => {
    const { app } = await makeSite(hub);
    const agent = request.agent(app);
    await agent.get(syncPath('synclogin', await makeSyncCode()));
    for (const [dest, mode] of [['image', 'no-cors'], ['iframe', 'navigate'], ['empty', 'cors']]) {
      const embedded = await agent.get('/sso/callback?state=forged').set('Sec-Fetch-Mode', mode!).set('Sec-Fetch-Dest', dest!).set('Sec-Fetch-Site', 'same-site');
      expect({ dest, status: embedded.status, cookies: setCookies(embedded) }).toEqual({ dest, status: 400, cookies: {} });
    }
    // Request-Login is still there: the next page view goes to the hub (lazy verification).
    const page = await agent.get('/').set(HTML);
    expect(page.status).toBe(302);
    expect(new URL(page.headers.location!).searchParams.get('prompt')).toBe('none');
  });

  it('a page in a frame starts no silent check (its answer would come back as a frame, which the callback refuses): served as it is, Request-Login kept for the next page view', async () => {
    const { app } = await makeSite(hub);
    const agent = request.agent(app);
    await agent.get(syncPath('synclogin', await makeSyncCode()));
    const framed = await agent.get('/').set(HTML).set('Sec-Fetch-Mode', 'navigate').set('Sec-Fetch-Dest', 'iframe');
    expect(framed.status).toBe(200);
    expect(Object.keys(setCookies(framed))).toEqual([]);
    const page = await agent.get('/').set(HTML).set('Sec-Fetch-Mode', 'navigate').set('Sec-Fetch-Dest', 'document');
    expect(page.status).toBe(302);
    expect(new URL(page.headers.location!).searchParams.get('prompt')).toBe('none');
  });

  it.each(['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'http:%2F%2Fevil.example', '%2F%2Fevil.example'])(
    'next=%s (open redirect attempt) → returns to /',
    async (next) => {
      const { app } = await makeSite(hub);
      const agent = request.agent(app);
      const res = await agent.get(`/sso/login?next=${next}`);
      const done = await agent.get(await browserAtHub(hub, res.headers.location!));
      expect(done.headers.location).toBe('/');
    },
  );

  it.each(['/.//evil.example/x', '/%2e//evil.example', '/..//evil.example'])(
    'signed-in user, next=%s (dot segments) → Location stays on the site',
    async (next) => {
      const { agent } = await signedIn();
      const res = await agent.get(`/sso/login?next=${next}`);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/');
    },
  );

  it('hub unreachable, API caller → 503 JSON, no stack trace', async () => {
    const { app } = await makeSite(undefined);
    const res = await request(app).get('/sso/login').set('Accept', 'application/json');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'temporarily_unavailable' });
  });

  it('hub unreachable, "Sign in" clicked (page view) → the kit\'s 503 HTML page, not raw JSON', async () => {
    const { app } = await makeSite(undefined);
    const res = await request(app).get('/sso/login?next=/forum').set(HTML).set('Sec-Fetch-Mode', 'navigate');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('Temporarily unavailable');
    expect(res.text).not.toContain('{"error"');
  });
});

describe('requireLogin', () => {
  it('page view without a user → /sso/login?next=<original>', async () => {
    const { app } = await makeSite(hub);
    const res = await request(app).get('/private?tab=2').set(HTML);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/sso/login?next=%2Fprivate%3Ftab%3D2');
  });

  it('API request without a user → 401 login_required JSON', async () => {
    const { app } = await makeSite(hub);
    const res = await request(app).get('/private').set('Accept', 'application/json');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'login_required' });
  });

  it('signed in → handler runs with req.user', async () => {
    const { agent } = await signedIn();
    const res = await agent.get('/private').set(HTML);
    expect(res.body).toEqual({ secret: true, sub: 'user-1' });
  });
});

describe('POST /sso/logout: CSRF-protected RP-initiated logout', () => {
  it('same-origin POST → local session ended, 303 to the hub end-session endpoint with hint', async () => {
    const { agent } = await signedIn();
    const res = await agent.post('/sso/logout').set('Sec-Fetch-Site', 'same-origin');
    expect(res.status).toBe(303);
    const url = new URL(res.headers.location!);
    expect(`${url.origin}${url.pathname}`).toBe(`${HUB_URL}/session/end`);
    expect(url.searchParams.get('id_token_hint')).toMatch(/^ey/);
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe('http://bbs.test/');
    expect(url.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(isDeletion(setCookies(res)['sso.sid'])).toBe(true);
    expect((await agent.get('/')).body.user).toBeNull();
  });

  it('GET /sso/logout (a bookmark, an old <a href>): a page whose button posts the sign-out, and nobody signed out by the GET; before, "That page does not exist" (a browser review)', async () => {
    const { agent } = await signedIn();
    const page = await agent.get('/sso/logout').set(HTML);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['content-security-policy']).toContain(`form-action 'self' ${HUB_URL}`);
    expect(page.text).toContain('<form method="post" action="/sso/logout">');
    expect(page.text).toContain('Sign out of this site and of the sign-in service?');
    expect(setCookies(page)['sso.sid'] === undefined || !isDeletion(setCookies(page)['sso.sid']!)).toBe(true);
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
    // The button: a same-origin POST, which signs out.
    const posted = await agent.post('/sso/logout').set('Sec-Fetch-Site', 'same-origin');
    expect(posted.status).toBe(303);
    expect((await agent.get('/')).body.user).toBeNull();
    // Signed out: the page says so, and still offers the hub's sign-out.
    expect((await agent.get('/sso/logout').set(HTML)).text).toContain('You are not signed in on this site.');
  });

  it('accepts a matching Origin when Fetch Metadata is absent', async () => {
    const { agent } = await signedIn();
    expect((await agent.post('/sso/logout').set('Origin', 'http://bbs.test')).status).toBe(303);
  });

  it.each([
    ['cross-site Sec-Fetch-Site', { 'Sec-Fetch-Site': 'cross-site' }],
    ['same-site sibling', { 'Sec-Fetch-Site': 'same-site' }],
    ['foreign Origin', { Origin: 'http://evil.test' }],
    ['foreign Referer', { Referer: 'http://evil.test/page' }],
    ['no origin information', {}],
  ])('refuses %s with 403 and keeps the session', async (_name, headers) => {
    const { agent } = await signedIn();
    const res = await agent.post('/sso/logout').set(headers as Record<string, string>);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'forbidden' });
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });
});
