import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import type { Express } from 'express';
import { makeSite, setCookies, isDeletion, HTML } from './test-support/site.js';
import { browserAtHub, startStubHub, HUB_URL, type StubHub } from './test-support/stub-hub.js';
import type { SubsiteKit } from './kit.js';
import type { SubsiteKitOptions } from './options.js';
import { randomUUID } from 'node:crypto';
import { BACKCHANNEL_LOGOUT_EVENT } from './hub-token.js';
import { CLIENT_ID } from './test-support/stub-hub.js';
import { cleanUpTestRedis, connectTestRedis } from './test-support/redis.js';
import type { RedisClientType } from 'redis';

let hub: StubHub;
let redis: RedisClientType;
const prefix = `sso-kit-test-recheck-${randomUUID()}:`;
beforeAll(async () => {
  hub = await startStubHub();
  redis = await connectTestRedis();
});
afterAll(async () => {
  await hub.close();
  await cleanUpTestRedis(redis, prefix);
});
beforeEach(() => {
  hub.user = { sub: 'bob', name: 'Bob' };
  hub.sid = 'hub-sid-1';
  hub.tokenFails = false;
});

const RECHECK = 900;
let clock: ReturnType<typeof jest.spyOn> | undefined;
afterEach(() => { clock?.mockRestore(); clock = undefined; });

/** Moves the kit's clock (Date.now) `seconds` past the real one. */
function later(seconds: number): void {
  clock?.mockRestore();
  const now = Date.now();
  clock = jest.spyOn(Date, 'now').mockReturnValue(now + seconds * 1000);
}

/** A crossSite site (shop) and a browser signed in there as bob through the first-view check; `/cart` keeps site data in the session. */
async function signedInAtShop(extra: Partial<SubsiteKitOptions> = {}): Promise<{ app: Express; sso: SubsiteKit; agent: request.Agent; sid: string }> {
  const { app, sso } = await makeSite(hub, { crossSite: true, ...storeOptions(), ...extra });
  app.get('/cart', (req, res) => {
    const data = req.session as unknown as { cart?: string[] };
    if (typeof req.query.add === 'string') data.cart = [...(data.cart ?? []), req.query.add];
    res.json({ cart: data.cart ?? [] });
  });
  const agent = request.agent(app);
  const first = await agent.get('/forum').set(HTML);
  const done = await agent.get(await browserAtHub(hub, first.headers.location!));
  const sid = setCookies(done)['sso.sid']!.split(';')[0]!;
  expect((await agent.get('/private').set(HTML)).body).toEqual({ secret: true, sub: 'bob' });
  return { app, sso, agent, sid };
}

/** The page view that starts a re-check: a redirect to the hub with prompt=none. */
async function expectRecheck(agent: request.Agent, path: string): Promise<string> {
  const res = await agent.get(path).set(HTML);
  expect(res.status).toBe(302);
  const url = new URL(res.headers.location!);
  expect(`${url.origin}${url.pathname}`).toBe(`${HUB_URL}/auth`);
  expect(url.searchParams.get('prompt')).toBe('none');
  return res.headers.location!;
}

/** The session store of the describe block running: memory, or Redis (connect-redis, SET XX writes). */
let storeOptions: () => Partial<SubsiteKitOptions> = () => ({});

describe.each(['memory', 'Redis'])('crossSite (%s store): a signed-in session is re-checked silently once crossSiteRecheckSeconds have passed', (store) => {
  beforeAll(() => { storeOptions = store === 'Redis' ? () => ({ redis, redisPrefix: prefix }) : () => ({}); });

  it('another user signed in at the hub (bob\'s hub session ended without a logout): shop switches to that user, session regenerated', async () => {
    const { agent, sid } = await signedInAtShop();
    hub.user = { sub: 'zhangsan', name: 'Zhang San' };
    hub.sid = 'hub-sid-2';
    // Within the interval: no hub round trip, still bob (the check is only a timestamp comparison).
    later(RECHECK - 10);
    expect((await agent.get('/private').set(HTML)).body).toEqual({ secret: true, sub: 'bob' });
    later(RECHECK + 1);
    const back = await agent.get(await browserAtHub(hub, await expectRecheck(agent, '/private')));
    expect(back.status).toBe(302);
    expect(back.headers.location).toBe('/private');
    const newSid = setCookies(back)['sso.sid']!.split(';')[0];
    expect(newSid).not.toBe(sid); // regenerated, as at any sign-in
    expect((await agent.get('/private').set(HTML)).body).toEqual({ secret: true, sub: 'zhangsan' });
  });

  it('the hub has no session for this browser (signed out with no back-channel logout, or expired): shop signs bob out', async () => {
    const { agent, app, sid } = await signedInAtShop();
    hub.user = undefined;
    later(RECHECK + 1);
    const callbackPath = await browserAtHub(hub, await expectRecheck(agent, '/private'));
    expect(callbackPath).toContain('error=login_required');
    const back = await agent.get(callbackPath);
    expect(back.headers.location).toBe('/private');
    expect(isDeletion(setCookies(back)['sso.sid'])).toBe(true);
    // Anonymous now, and no loop: requireLogin asks for a sign-in, other pages are served as they are.
    const page = await agent.get('/private').set(HTML);
    expect(page.status).toBe(302);
    expect(page.headers.location).toMatch(/^\/sso\/login\?/);
    expect((await agent.get('/forum').set(HTML)).body).toEqual({ user: null });
    expect((await agent.get('/forum').set(HTML)).status).toBe(200);
    // The old session is gone from the store, not only from this browser.
    expect((await request(app).get('/forum').set('Cookie', sid)).body).toEqual({ user: null });
  });

  it('a user who has not consented to shop signed in at the hub (consent_required): bob is signed out too', async () => {
    const { agent } = await signedInAtShop();
    later(RECHECK + 1);
    const location = await expectRecheck(agent, '/forum');
    const state = new URL(location).searchParams.get('state')!;
    const back = await agent.get(`/sso/callback?error=consent_required&state=${state}`);
    expect(back.headers.location).toBe('/forum');
    const page = await agent.get('/').set(HTML);
    expect(page.body.user).toBeNull();
    expect(page.body.sso).toEqual({ consentRequired: true });
  });

  it('the same user: the session stays, with its id and the site\'s data, and counts as verified again', async () => {
    const { agent } = await signedInAtShop();
    await agent.get('/cart?add=book').set(HTML);
    later(RECHECK + 1);
    const back = await agent.get(await browserAtHub(hub, await expectRecheck(agent, '/forum?x=1')));
    expect(back.headers.location).toBe('/forum?x=1');
    expect(setCookies(back)['sso.sid']).toBeUndefined(); // same session id
    expect((await agent.get('/cart').set(HTML)).body).toEqual({ cart: ['book'] });
    // Verified at the (mocked) now: the next re-check is one interval after it.
    later(2 * RECHECK);
    expect((await agent.get('/forum').set(HTML)).body).toEqual({ user: expect.objectContaining({ sub: 'bob' }) });
    later(2 * RECHECK + 2);
    await expectRecheck(agent, '/forum');
  });

  it('the same user under a new hub session: back-channel logout follows the new hub sid, not the old one', async () => {
    const { agent, app } = await signedInAtShop();
    hub.sid = 'hub-sid-2'; // bob's first hub session expired, he signed in at the hub again
    later(RECHECK + 1);
    await agent.get(await browserAtHub(hub, await expectRecheck(agent, '/forum')));
    clock?.mockRestore(); // the logout tokens below are checked against the real clock
    clock = undefined;
    const logout = async (sid: string) => {
      const now = Math.floor(Date.now() / 1000);
      const token = await hub.sign({ iss: HUB_URL, aud: CLIENT_ID, iat: now, exp: now + 120, jti: randomUUID(), sub: 'bob', sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } }, 'logout+jwt');
      expect((await request(app).post('/sso/backchannel-logout').type('form').send({ logout_token: token })).status).toBe(200);
    };
    await logout('hub-sid-1');
    expect((await agent.get('/forum').set(HTML)).body.user).toMatchObject({ sub: 'bob' });
    await logout('hub-sid-2');
    expect((await agent.get('/forum').set(HTML)).body.user).toBeNull();
  });

  it('never loops: a re-check that never came back is not started again before another interval; the session is kept', async () => {
    const { agent } = await signedInAtShop();
    later(RECHECK + 1);
    await expectRecheck(agent, '/forum'); // the browser never reaches the callback
    for (let i = 0; i < 3; i++) {
      const page = await agent.get('/forum').set(HTML);
      expect(page.status).toBe(200);
      expect(page.body.user).toMatchObject({ sub: 'bob' });
    }
    later(2 * RECHECK + 2);
    await expectRecheck(agent, '/forum');
  });

  it('never loops: a re-check that fails on an unreachable hub (503) keeps the session and is not retried on the next page', async () => {
    const { agent } = await signedInAtShop();
    later(RECHECK + 1);
    hub.tokenFails = true;
    const failed = await agent.get(await browserAtHub(hub, await expectRecheck(agent, '/forum')));
    // Back to the page, still signed in (it was the kit's 503 page before: never asked for).
    expect(failed.status).toBe(302);
    expect(failed.headers.location).toBe('/forum');
    expect(setCookies(failed)['sso.request-login']).toBeUndefined();
    const page = await agent.get('/forum').set(HTML);
    expect(page.status).toBe(200);
    expect(page.body.user).toMatchObject({ sub: 'bob' });
  });

  it('a store that fails when the re-check starts: the page is served, still signed in (no error page)', async () => {
    const { agent, sso } = await signedInAtShop();
    later(RECHECK + 1);
    const set = jest.spyOn(sso.sessionStore, 'set').mockImplementation((_sid, _data, callback) => callback?.(new Error('store down')));
    try {
      const page = await agent.get('/forum').set(HTML);
      expect(page.status).toBe(200);
      expect(page.body.user).toMatchObject({ sub: 'bob' });
    } finally {
      set.mockRestore();
    }
  });

  it('a hub answer this site refuses (afterCallback refuses the new user) ends the session: no 403 page followed by the old user', async () => {
    const { agent } = await signedInAtShop({ afterCallback: ({ user }) => (user.sub === 'mallory' ? false : undefined) });
    hub.user = { sub: 'mallory' };
    later(RECHECK + 1);
    const refused = await agent.get(await browserAtHub(hub, await expectRecheck(agent, '/forum')));
    expect(refused.status).toBe(403);
    expect((await agent.get('/forum').set(HTML)).body).toEqual({ user: null });
  });

  it.each([
    ['POST', (a: request.Agent) => a.post('/forum').set(HTML)],
    ['HEAD', (a: request.Agent) => a.head('/forum').set(HTML)],
    ['JSON GET', (a: request.Agent) => a.get('/forum').set('Accept', 'application/json')],
    ['fetch() (Sec-Fetch-Mode: cors)', (a: request.Agent) => a.get('/forum').set(HTML).set('Sec-Fetch-Mode', 'cors')],
    ['prefetch', (a: request.Agent) => a.get('/forum').set(HTML).set('Sec-Purpose', 'prefetch')],
    ['/sso/* route', (a: request.Agent) => a.get('/sso/unknown').set(HTML)],
  ])('not re-checked: %s', async (_name, send) => {
    const { agent } = await signedInAtShop();
    later(RECHECK + 1);
    expect((await send(agent)).status).not.toBe(302);
    // Nothing was started: the next page view re-checks.
    await expectRecheck(agent, '/forum');
  });

  it('a signed-in page view before the re-check is due writes nothing to the session store (the timestamps are compared in the session already read)', async () => {
    const { agent, sso } = await signedInAtShop();
    const set = jest.spyOn(sso.sessionStore, 'set');
    later(RECHECK - 1);
    expect((await agent.get('/forum').set(HTML)).status).toBe(200);
    expect(set).not.toHaveBeenCalled();
  });

  it('crossSiteRecheckSeconds: 0 turns it off', async () => {
    const { agent } = await signedInAtShop({ crossSiteRecheckSeconds: 0 });
    hub.user = undefined;
    later(RECHECK * 10);
    expect((await agent.get('/private').set(HTML)).body).toEqual({ secret: true, sub: 'bob' });
  });

  it('same-site kits are not re-checked', async () => {
    const { app } = await makeSite(hub, { crossSiteRecheckSeconds: 60 });
    const agent = request.agent(app);
    await agent.get(await browserAtHub(hub, (await agent.get('/sso/login?next=/')).headers.location!));
    hub.user = undefined;
    later(3600);
    expect((await agent.get('/private').set(HTML)).body).toEqual({ secret: true, sub: 'bob' });
  });
});
