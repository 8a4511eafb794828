import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { makeSite, setCookies, isDeletion, HTML } from './test-support/site.js';
import { makeSyncCode, syncPath } from './test-support/sync-codes.js';
import { useStubHub, browserAtHub, type StubHub } from './test-support/stub-hub.js';
import { SignInRefused } from './after-callback.js';

let hub: StubHub;
useStubHub((started) => { hub = started; });

/** Cookies of a response as `name=value` pairs a new agent can carry (what a browser keeps). */
function persistent(res: { headers: Record<string, unknown> }): string[] {
  return Object.values(setCookies(res))
    .filter((line) => /Max-Age=\d+/.test(line) && !isDeletion(line))
    .map((line) => line.split(';')[0]!);
}

describe('keep me signed in across a browser restart: the remember marker', () => {
  it('a sign-in sets a long-lived remember cookie; a new browser session (no session cookie) checks silently once and signs in', async () => {
    const { app } = await makeSite(hub);
    const agent = request.agent(app);
    await agent.get(syncPath('synclogin', await makeSyncCode()));
    const done = await agent.get(await browserAtHub(hub, (await agent.get('/').set(HTML)).headers.location!));
    expect(setCookies(done)['sso.remember']).toMatch(/Max-Age=2592000/);
    expect(setCookies(done)['sso.sid']).not.toMatch(/Max-Age/);

    // Browser restart: only the cookies with a Max-Age survive (remember), not the session cookie.
    const kept = persistent(done);
    expect(kept).toEqual(['sso.remember=1']);
    hub.resetCounts();
    const first = await request(app).get('/forum').set(HTML).set('Cookie', kept.join('; '));
    expect(first.status).toBe(302);
    expect(new URL(first.headers.location!).searchParams.get('prompt')).toBe('none');
    const restarted = request.agent(app);
    await restarted.get('/').set('Cookie', kept.join('; ')).set('Accept', 'application/json');
    const lazy = await restarted.get('/forum').set(HTML).set('Cookie', kept.join('; '));
    await restarted.get(await browserAtHub(hub, lazy.headers.location!));
    expect((await restarted.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });

  it('the hub session is gone (no keep me signed in): one silent check, login_required, anonymous, never again this browser session', async () => {
    const { app } = await makeSite(hub);
    hub.user = undefined;
    const agent = request.agent(app);
    const lazy = await agent.get('/forum').set(HTML).set('Cookie', 'sso.remember=1');
    expect(lazy.status).toBe(302);
    const back = await agent.get(await browserAtHub(hub, lazy.headers.location!)).set('Cookie', 'sso.remember=1');
    expect(back.headers.location).toBe('/forum');
    expect(isDeletion(setCookies(back)['sso.remember'])).toBe(true);
    const again = await agent.get('/forum').set(HTML);
    expect(again.status).toBe(200);
    expect(again.body.user).toBeNull();
  });

  it('no remember cookie, no Request-Login: no hub check at all', async () => {
    const { app } = await makeSite(hub);
    expect((await request(app).get('/forum').set(HTML)).status).toBe(200);
  });

  it('sign-out here and synclogout clear the remember marker', async () => {
    const { app } = await makeSite(hub);
    const agent = request.agent(app);
    await agent.get(syncPath('synclogin', await makeSyncCode()));
    await agent.get(await browserAtHub(hub, (await agent.get('/').set(HTML)).headers.location!));
    const out = await agent.post('/sso/logout').set('Sec-Fetch-Site', 'same-origin');
    expect(isDeletion(setCookies(out)['sso.remember'])).toBe(true);

    const other = request.agent(app);
    await other.get(syncPath('synclogin', await makeSyncCode()));
    await other.get(await browserAtHub(hub, (await other.get('/').set(HTML)).headers.location!));
    const synced = await other.get(syncPath('synclogout', await makeSyncCode({ act: 'logout' })));
    expect(isDeletion(setCookies(synced)['sso.remember'])).toBe(true);
  });
});

describe('a sync code spent already does nothing (replay)', () => {
  it('a used synclogout or synclogin code, replayed to another signed-in browser, is refused before it signs anyone out', async () => {
    const { app } = await makeSite(hub);
    const signedIn = async () => {
      const agent = request.agent(app);
      await agent.get(syncPath('synclogin', await makeSyncCode()));
      await agent.get(await browserAtHub(hub, (await agent.get('/').set(HTML)).headers.location!));
      expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
      return agent;
    };
    // Someone's own logout code (another hub session), used once, then put in a victim's page.
    const logout = syncPath('synclogout', await makeSyncCode({ act: 'logout', sid: 'attacker-hub-sid' }));
    expect((await request(app).get(logout)).status).toBe(200);
    const victim = await signedIn();
    const replayed = await victim.get(logout);
    expect(replayed.status).toBe(400);
    expect(replayed.body.error_description).toMatch(/already used/);
    expect((await victim.get('/')).body.user).toMatchObject({ sub: 'user-1' });

    // The same for a login code of another hub session (it would end the victim's local session as stale).
    const login = syncPath('synclogin', await makeSyncCode({ sid: 'attacker-hub-sid' }));
    expect((await request(app).get(login)).status).toBe(200);
    const replayedLogin = await victim.get(login);
    expect(replayedLogin.status).toBe(400);
    expect((await victim.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });
});

describe('Cancel at the hub and consent_required', () => {
  it('Cancel on the hub\'s sign-in page (access_denied) started from a protected page → the public page, not a loop', async () => {
    const { app } = await makeSite(hub);
    const agent = request.agent(app);
    hub.user = undefined; // the stub answers an interactive request with access_denied: the user cancelled
    const guarded = await agent.get('/private').set(HTML);
    const login = await agent.get(guarded.headers.location!).set(HTML);
    const res = await agent.get(await browserAtHub(hub, login.headers.location!));
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/');
  });

  it('publicPath sets where Cancel goes', async () => {
    const { app } = await makeSite(hub, { publicPath: '/welcome' });
    const agent = request.agent(app);
    hub.user = undefined;
    const login = await agent.get('/sso/login?next=/private').set(HTML);
    expect((await agent.get(await browserAtHub(hub, login.headers.location!))).headers.location).toBe('/welcome');
  });

  it('a silent check answered consent_required → res.locals.sso.consentRequired on the next pages, cleared by a sign-in', async () => {
    const { app } = await makeSite(hub);
    const agent = request.agent(app);
    await agent.get(syncPath('synclogin', await makeSyncCode()));
    const lazy = await agent.get('/').set(HTML);
    const state = new URL(lazy.headers.location!).searchParams.get('state')!;
    const back = await agent.get(`/sso/callback?error=consent_required&state=${state}`);
    expect(back.headers.location).toBe('/');
    const page = await agent.get('/').set('Accept', 'application/json');
    expect(page.body.sso).toEqual({ consentRequired: true });

    const login = await agent.get('/sso/login?next=/').set(HTML);
    const done = await agent.get(await browserAtHub(hub, login.headers.location!));
    expect(isDeletion(setCookies(done)['sso.consent-required'])).toBe(true);
    expect((await agent.get('/')).body.sso).toEqual({ consentRequired: false });
  });
});

describe('afterCallback: map claims or refuse a user', () => {
  it('maps claims into the user the site sees', async () => {
    const { app } = await makeSite(hub, { afterCallback: ({ user, claims }) => ({ ...user, name: `${String(claims.name)} (mapped)` }) });
    const agent = request.agent(app);
    const login = await agent.get('/sso/login?next=/').set(HTML);
    await agent.get(await browserAtHub(hub, login.headers.location!));
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1', name: 'Ada Lovelace (mapped)' });
  });

  it.each([
    ['returns false', () => false as const, 'This account may not sign in to this site.'],
    ['throws SignInRefused', () => { throw new SignInRefused('Members only.'); }, 'Members only.'],
  ])('refusal (%s) → 403 page with the message, no session, no redirect', async (_name, hook, message) => {
    const { app } = await makeSite(hub, { afterCallback: hook });
    const agent = request.agent(app);
    const guarded = await agent.get('/private').set(HTML);
    const login = await agent.get(guarded.headers.location!).set(HTML);
    const res = await agent.get(await browserAtHub(hub, login.headers.location!));
    expect(res.status).toBe(403);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain(message);
    expect(setCookies(res)['sso.sid']).toBeUndefined();
    expect((await agent.get('/')).body.user).toBeNull();
  });
});
