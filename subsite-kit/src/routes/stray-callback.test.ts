import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { makeSite, setCookies, isDeletion, HTML } from '../test-support/site.js';
import { makeSyncCode, syncPath } from '../test-support/sync-codes.js';
import { useStubHub, browserAtHub, type StubHub } from '../test-support/stub-hub.js';

// A subsite review: a top-level navigation to /sso/callback that answers no request of this
// browser (a bookmark, a stale history entry, a link on someone else's page) deleted
// Request-Login, so the sign-in at the hub that a sync beacon had just told of never reached the
// site. Only an answer to this browser's own request clears it now.

let hub: StubHub;
useStubHub((started) => { hub = started; });

async function syncedBrowser() {
  const site = await makeSite(hub);
  const agent = request.agent(site.app);
  await agent.get(syncPath('synclogin', await makeSyncCode()));
  return { ...site, agent };
}

describe('a callback that matches no pending request of this browser', () => {
  it.each([
    ['a bookmarked sign-in answer', '/sso/callback?code=old-code&state=bookmarked-state&iss=x'],
    ['an error answer', '/sso/callback?error=access_denied&state=whatever'],
    ['no state at all', '/sso/callback?code=abc'],
  ])('%s: 400 page, Request-Login kept, the next page view still signs the user in', async (_name, path) => {
    const { agent } = await syncedBrowser();
    const stray = await agent.get(path).set(HTML);
    expect(stray.status).toBe(400);
    expect(setCookies(stray)['sso.request-login']).toBeUndefined();
    const lazy = await agent.get('/forum').set(HTML);
    expect(lazy.status).toBe(302); // the silent check the beacon asked for
    const back = await agent.get(await browserAtHub(hub, lazy.headers.location!));
    expect(back.headers.location).toBe('/forum');
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });

  it('with a silent check\'s state: Request-Login held back, not deleted (no loop, the sign-in not lost)', async () => {
    const { agent } = await syncedBrowser();
    const stray = await agent.get('/sso/callback?code=x&state=none.stale-silent-state').set(HTML);
    expect(stray.status).toBe(400);
    const line = setCookies(stray)['sso.request-login'];
    expect(isDeletion(line)).toBe(false);
    expect(line).toMatch(/^sso\.request-login=later\.\d+\.stray;/);
    // Held back: the next page view is served as it is (no second trip through the hub at once).
    expect((await agent.get('/forum').set(HTML)).status).toBe(200);
  });

  it('held back once only: a silent check made after the hold-back that answers astray again clears Request-Login (never a check every 30 s)', async () => {
    const { app } = await syncedBrowser();
    const stray = (cookie: string) => request(app).get('/sso/callback?code=x&state=none.stale-silent-state').set(HTML).set('Cookie', `sso.request-login=${cookie}`);
    const now = Math.floor(Date.now() / 1000);
    // The hold-back over, the check it allowed answered astray again (the pending cookie never kept): cleared.
    expect(isDeletion(setCookies(await stray(`later.${now - 1}.stray`))['sso.request-login'])).toBe(true);
    // Another tab's stray answer within the hold-back: left as it is.
    expect(setCookies(await stray(`later.${now + 25}.stray`))['sso.request-login']).toBeUndefined();
    // A hold-back of a hub that was down (no stray mark), over: held back for a stray answer now.
    expect(setCookies(await stray(`later.${now - 1}`))['sso.request-login']).toMatch(/^sso\.request-login=later\.\d+\.stray;/);
  });

  it('an answer that matches a pending request still clears Request-Login (the check never restarts)', async () => {
    const { agent } = await syncedBrowser();
    const lazy = await agent.get('/forum').set(HTML);
    const res = await agent.get(await browserAtHub(hub, lazy.headers.location!));
    expect(isDeletion(setCookies(res)['sso.request-login'])).toBe(true);
  });

  // A browser review: a signed-in member who reloads the sign-in answer's URL (or opens it again
  // from the history list) got "Sign-in failed: this sign-in was not started in this browser",
  // with a "Continue without signing in" link, while the session was signed in all along.
  it.each([
    ['no pending request at all (a reload of the finished answer)', false, (answered: string) => answered],
    ['another pending request than this one', true, (answered: string) => answered.replace(/state=[^&]+/, 'state=someone-elses-state')],
  ])('a browser signed in already, %s: back to the public page, still signed in, no error page', async (_name, otherTabPending, stray) => {
    const site = await makeSite(hub);
    const agent = request.agent(site.app);
    const start = await agent.get('/sso/login?next=/private').set(HTML);
    const answered = await browserAtHub(hub, start.headers.location!);
    expect((await agent.get(answered).set(HTML)).headers.location).toBe('/private');
    // A sign-in of another tab is pending in this browser.
    if (otherTabPending) expect((await agent.get('/sso/login?next=/forum').set(HTML)).status).toBe(302);
    const again = await agent.get(stray(answered)).set(HTML);
    expect(again.status).toBe(302);
    expect(again.headers.location).toBe('/');
    expect(setCookies(again)['sso.sid']).toBeUndefined(); // the session is neither ended nor replaced
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });

  // A browser review: with cookies blocked for the site, every "Sign in" ended on "not started in
  // this browser ... Please try again", which fails again each time; nothing said why.
  it('a browser that keeps none of the site\'s cookies: the error page says cookies are needed, and the other page does not', async () => {
    const site = await makeSite(hub);
    // No agent: nothing the site sets is sent back, as in a browser that blocks its cookies.
    const start = await request(site.app).get('/sso/login?next=/private').set(HTML);
    expect(start.status).toBe(302);
    const answered = await browserAtHub(hub, start.headers.location!);
    const res = await request(site.app).get(answered).set(HTML);
    expect(res.status).toBe(400);
    expect(res.text).toContain('not started in this browser');
    expect(res.text).toContain('cookies are allowed for this site');
    // A browser that keeps the site's cookies, whose sign-in answer is not its own: no word of cookies.
    const agent = request.agent(site.app);
    await agent.get('/sso/login?next=/forum').set(HTML);
    const other = await agent.get(answered.replace(/state=[^&]+/, 'state=someone-elses-state')).set(HTML);
    expect(other.status).toBe(400);
    expect(other.text).not.toContain('cookies are allowed');
  });

  it('a browser that is not signed in still gets the error page (nothing to continue as)', async () => {
    const site = await makeSite(hub);
    const res = await request(site.app).get('/sso/callback?code=old-code&state=bookmarked-state').set(HTML);
    expect(res.status).toBe(400);
    expect(res.text).toContain('not started in this browser');
  });
});
