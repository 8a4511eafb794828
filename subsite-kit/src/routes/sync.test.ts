import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { makeSite, setCookies, isDeletion, HTML } from '../test-support/site.js';
import { makeSyncCode, syncPath } from '../test-support/sync-codes.js';
import { TRANSPARENT_GIF } from './sync-response.js';
import { browserAtHub, startStubHub, type StubHub } from '../test-support/stub-hub.js';

let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

describe('GET /sso/synclogin', () => {
  it('good code: 200 GIF for <img>, sets Request-Login, creates no session', async () => {
    const { app } = await makeSite(hub);
    const res = await request(app).get(syncPath('synclogin', await makeSyncCode())).set('Sec-Fetch-Dest', 'image');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/gif');
    expect(Buffer.from(res.body as Buffer).equals(TRANSPARENT_GIF)).toBe(true);
    expect(res.headers['cache-control']).toBe('no-store');
    const cookies = setCookies(res);
    expect(Object.keys(cookies)).toEqual(['sso.request-login']);
    expect(cookies['sso.request-login']).toMatch(/HttpOnly/);
    expect(cookies['sso.request-login']).toMatch(/SameSite=Lax/);
    expect(cookies['sso.request-login']).toMatch(/Max-Age=2592000/);
    expect(cookies['sso.request-login']).not.toMatch(/Secure/);
  });

  it('Secure and __Host- when secureCookies: a sibling host cannot plant the kit\'s cookies', async () => {
    const { app } = await makeSite(hub, { secureCookies: true });
    const res = await request(app).get(syncPath('synclogin', await makeSyncCode()));
    const cookies = setCookies(res);
    expect(Object.keys(cookies)).toEqual(['__Host-sso.request-login']);
    expect(cookies['__Host-sso.request-login']).toMatch(/Secure/);
    expect(cookies['__Host-sso.request-login']).toMatch(/Path=\//);
    expect(cookies['__Host-sso.request-login']).not.toMatch(/Domain=/i);
  });

  it('legacy <script>: 200 empty application/javascript', async () => {
    const { app } = await makeSite(hub);
    const res = await request(app).get(syncPath('synclogin', await makeSyncCode())).set('Sec-Fetch-Dest', 'script');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/javascript/);
    expect(res.text).toBe('');
  });

  it.each([
    ['forged', { key: 'forged-key-0123456789abcdef0123456789abcd' }],
    ['wrong audience', { aud: 'wiki' }],
    ['a logout code', { act: 'logout' }],
    ['expired', { iat: Math.floor(Date.now() / 1000) - 300, exp: Math.floor(Date.now() / 1000) - 250 }],
  ])('bad code (%s): 400 and no cookie at all', async (_name, spec) => {
    const { app } = await makeSite(hub);
    const res = await request(app).get(syncPath('synclogin', await makeSyncCode(spec)));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_token' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('missing code: 400 and no cookie', async () => {
    const { app } = await makeSite(hub);
    const res = await request(app).get('/sso/synclogin');
    expect(res.status).toBe(400);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('replayed code: second use is 400 and sets no cookie', async () => {
    const { app } = await makeSite(hub);
    const path = syncPath('synclogin', await makeSyncCode());
    expect((await request(app).get(path)).status).toBe(200);
    const replay = await request(app).get(path);
    expect(replay.status).toBe(400);
    expect(replay.headers['set-cookie']).toBeUndefined();
  });
});

/** A browser signed in at the site the way the kit does it: sync beacon, page view, silent check at the hub. */
async function signedInAgent(app: Parameters<typeof request.agent>[0]) {
  const agent = request.agent(app);
  await agent.get(syncPath('synclogin', await makeSyncCode()));
  const lazy = await agent.get('/').set(HTML);
  await agent.get(await browserAtHub(hub, lazy.headers.location!));
  expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  return agent;
}

describe('GET /sso/synclogout', () => {
  it('is idempotent: with nothing to end it still answers 200, twice', async () => {
    const { app } = await makeSite(hub);
    for (let i = 0; i < 2; i++) {
      const res = await request(app).get(syncPath('synclogout', await makeSyncCode({ act: 'logout' })));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('image/gif');
    }
  });

  it('rejects a login code', async () => {
    const { app } = await makeSite(hub);
    const res = await request(app).get(syncPath('synclogout', await makeSyncCode({ act: 'login' })));
    expect(res.status).toBe(400);
  });

  it('ends the signed-in local session and clears Request-Login', async () => {
    const { app } = await makeSite(hub);
    const agent = await signedInAgent(app);

    const res = await agent.get(syncPath('synclogout', await makeSyncCode({ act: 'logout' })));
    expect(res.status).toBe(200);
    expect(isDeletion(setCookies(res)['sso.sid'])).toBe(true);
    expect((await agent.get('/')).body.user).toBeNull();
  });

  it('clears a pending Request-Login', async () => {
    const { app } = await makeSite(hub);
    const agent = request.agent(app);
    await agent.get(syncPath('synclogin', await makeSyncCode()));
    const res = await agent.get(syncPath('synclogout', await makeSyncCode({ act: 'logout' })));
    expect(res.status).toBe(200);
    expect(isDeletion(setCookies(res)['sso.request-login'])).toBe(true);
    // No Request-Login any more: a page view is not redirected to the hub.
    expect((await agent.get('/').set(HTML)).status).toBe(200);
  });

  it('leaves alone a local session of another hub session (someone else\'s logout code planted in a page)', async () => {
    // Any hub user can take a logout code from their own sync page (or a UCenter app can mint
    // one) and plant it as an <img> in a forum post: it must not sign readers out of the forum.
    const { app } = await makeSite(hub);
    const agent = await signedInAgent(app);

    const planted = await agent.get(syncPath('synclogout', await makeSyncCode({ act: 'logout', sid: 'mallory-hub-sid' })));
    expect(planted.status).toBe(200);
    expect(planted.headers['set-cookie']).toBeUndefined();
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
    // The code of this browser's own hub session still signs it out.
    await agent.get(syncPath('synclogout', await makeSyncCode({ act: 'logout', sid: hub.sid })));
    expect((await agent.get('/')).body.user).toBeNull();
  });

  it('an account switch ("switch": true): the old user\'s session ends, and the Request-Login the new account\'s login code set just before stays, so the next page view signs the new account in', async () => {
    // A review of a subsite built from the docs: the switch's login code came first, its logout
    // code cleared the marker, and the site showed the new account signed out.
    const { app } = await makeSite(hub);
    const agent = await signedInAgent(app);
    await agent.get(syncPath('synclogin', await makeSyncCode({ sid: 'new-sign-in' })));
    const res = await agent.get(syncPath('synclogout', await makeSyncCode({ act: 'logout', sid: hub.sid, switch: true })));
    expect(res.status).toBe(200);
    const cookies = setCookies(res);
    expect(isDeletion(cookies['sso.sid'])).toBe(true);
    expect(cookies['sso.request-login']).toBeUndefined();
    // The next page view asks the hub (the silent check), as after any sign-in.
    const next = await agent.get('/').set(HTML);
    expect(next.status).toBe(302);
    expect(next.headers.location).toContain('prompt=none');
    // A switch code without a login code before it: signed out, nothing to ask.
    const lone = await signedInAgent(app);
    await lone.get(syncPath('synclogout', await makeSyncCode({ act: 'logout', sid: hub.sid, switch: true })));
    expect((await lone.get('/').set(HTML)).status).toBe(200);
    expect((await lone.get('/')).body.user).toBeNull();
  });

  it('a code for any hub session (sid "*", a UCenter application\'s sign-out) ends this browser\'s session', async () => {
    const { app } = await makeSite(hub);
    const agent = await signedInAgent(app);
    const res = await agent.get(syncPath('synclogout', await makeSyncCode({ act: 'logout', sid: '*' })));
    expect(res.status).toBe(200);
    expect(isDeletion(setCookies(res)['sso.sid'])).toBe(true);
    expect((await agent.get('/')).body.user).toBeNull();
  });

  it('a code for any hub session that names a user (sid "*" with sub: the hub\'s sign-out after its session expired) ends only a session of that user', async () => {
    // Anyone can take such a code from their own sign-out and plant it as an <img>: it must not
    // sign readers signed in as someone else out.
    const { app } = await makeSite(hub);
    const agent = await signedInAgent(app);
    const planted = await agent.get(syncPath('synclogout', await makeSyncCode({ act: 'logout', sid: '*', sub: 'mallory' })));
    expect(planted.status).toBe(200);
    expect(planted.headers['set-cookie']).toBeUndefined();
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
    // The user's own: signed out.
    const own = await agent.get(syncPath('synclogout', await makeSyncCode({ act: 'logout', sid: '*', sub: 'user-1' })));
    expect(own.status).toBe(200);
    expect(isDeletion(setCookies(own)['sso.sid'])).toBe(true);
    expect((await agent.get('/')).body.user).toBeNull();
    // A malformed sub is refused, not read as "no sub" (which would mean this browser's session).
    const other = await signedInAgent(app);
    const malformed = await other.get(syncPath('synclogout', await makeSyncCode({ act: 'logout', sid: '*', sub: 7 })));
    expect(malformed.status).toBe(400);
    expect((await other.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });

  it('ends sessions of that hub sid even when this request carries no session cookie', async () => {
    const { app } = await makeSite(hub);
    const browser = request.agent(app);
    await browser.get(syncPath('synclogin', await makeSyncCode()));
    const lazy = await browser.get('/').set(HTML);
    await browser.get(await browserAtHub(hub, lazy.headers.location!));
    expect((await browser.get('/')).body.user).toMatchObject({ sub: 'user-1' });

    // The beacon reaches the subsite without cookies (cross-site cookie blocking).
    const res = await request(app).get(syncPath('synclogout', await makeSyncCode({ act: 'logout', sid: hub.sid })));
    expect(res.status).toBe(200);
    expect((await browser.get('/')).body.user).toBeNull();
  });
});
