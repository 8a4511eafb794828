/**
 * A site behind a proxy that strips its path: the browser asks for `/app/...`, the proxy
 * forwards `/...`, and redirectUri is `http://bbs.test/app/sso/callback`. The README calls this
 * set-up expected; a review found every sign-in ending outside the app (a 302 to `/private`
 * instead of `/app/private`), and sign-out stopping at the hub's error page (the default
 * post-logout target was the origin's `/`, which such a site does not register).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import request from 'supertest';
import type { Test } from 'supertest';
import express from 'express';
import { createSubsiteKit } from './kit.js';
import { makeSite, HTML, kitOptions } from './test-support/site.js';
import { makeSyncCode, syncPath } from './test-support/sync-codes.js';
import { HUB_URL, startStubHub, type StubHub } from './test-support/stub-hub.js';

const PUBLIC_REDIRECT = 'http://bbs.test/app/sso/callback';
let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

/** What the proxy does: a browser path under /app reaches the app without it. */
function stripped(browserPath: string): string {
  if (!browserPath.startsWith('/app/')) throw new Error(`the proxy only forwards /app/*, not ${browserPath}`);
  return browserPath.slice('/app'.length);
}

/** The hub's answer to the kit's redirect, as the browser's next path (under /app). */
async function throughHub(location: string): Promise<string> {
  const url = new URL(location);
  expect(url.origin).toBe(HUB_URL);
  expect(url.searchParams.get('redirect_uri')).toBe(PUBLIC_REDIRECT);
  const answer = await fetch(`${hub.url}${url.pathname}${url.search}`, { redirect: 'manual' });
  const back = new URL(answer.headers.get('location')!);
  return `${back.pathname}${back.search}`;
}

describe('behind a proxy that strips the site path', () => {
  async function site() {
    const { app } = await makeSite(hub, { redirectUri: PUBLIC_REDIRECT });
    const agent = request.agent(app);
    const browse = (browserPath: string): Test => agent.get(stripped(browserPath)).set(HTML);
    return { agent, browse };
  }

  it('requireLogin sends the browser to the sign-in under /app and back to /app/private', async () => {
    const { browse } = await site();
    const guard = await browse('/app/private');
    expect(guard.status).toBe(302);
    expect(guard.headers.location).toBe('/app/sso/login?next=%2Fapp%2Fprivate');
    const login = await browse(guard.headers.location!);
    const callback = await browse(await throughHub(login.headers.location!));
    expect(callback.status).toBe(302);
    expect(callback.headers.location).toBe('/app/private');
    const page = await browse(callback.headers.location!);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ secret: true, sub: 'user-1' });
  });

  it('the silent check after a sign-in at the hub comes back to the page under /app', async () => {
    const { browse } = await site();
    expect((await browse(`/app${syncPath('synclogin', await makeSyncCode())}`)).status).toBeLessThan(300);
    const lazy = await browse('/app/forum?page=2');
    expect(lazy.status).toBe(302);
    const callback = await browse(await throughHub(lazy.headers.location!));
    expect(callback.headers.location).toBe('/app/forum?page=2');
    expect((await browse('/app/forum')).body.user).toMatchObject({ sub: 'user-1' });
  });

  it('sign-out asks the hub to come back to the site root under /app', async () => {
    const { browse, agent } = await site();
    const login = await browse('/app/sso/login?next=/app/');
    await browse(await throughHub(login.headers.location!));
    const logout = await agent.post(stripped('/app/sso/logout')).set(HTML).set('Origin', 'http://bbs.test');
    expect(logout.status).toBe(303);
    expect(new URL(logout.headers.location!).searchParams.get('post_logout_redirect_uri')).toBe('http://bbs.test/app/');
  });

  it('GET /app/sso/logout: the page\'s button posts to /app/sso/logout, not to /sso/logout outside the app (a diff review)', async () => {
    const { browse } = await site();
    const page = await browse('/app/sso/logout');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<form method="post" action="/app/sso/logout">');
    expect(page.text).toContain('<a href="/app/" data-testid="kit-logout-cancel">');
  });

  it('a page whose own path starts like the site path still gets it in front (/app/app/x arrives as /app/x)', async () => {
    const { app, sso } = await makeSite(hub, { redirectUri: PUBLIC_REDIRECT });
    app.get('/app/private', sso.requireLogin, (_req, res) => { res.send('secret'); });
    const guard = await request(app).get(stripped('/app/app/private')).set(HTML);
    expect(guard.headers.location).toBe('/app/sso/login?next=%2Fapp%2Fapp%2Fprivate');
  });
});

describe('mounted under the site path, with no proxy', () => {
  it('the return path is the request path as it is (no second /app)', async () => {
    const sso = await createSubsiteKit(kitOptions(hub, { redirectUri: PUBLIC_REDIRECT }));
    const app = express();
    app.use('/app', sso.router);
    app.use(sso.lazyLogin);
    app.get('/app/private', sso.requireLogin, (_req, res) => { res.send('secret'); });
    const guard = await request(app).get('/app/private').set(HTML);
    expect(guard.status).toBe(302);
    expect(guard.headers.location).toBe('/app/sso/login?next=%2Fapp%2Fprivate');
    // The sign-out page's button posts back under /app, as it did.
    expect((await request(app).get('/app/sso/logout').set(HTML)).text).toContain('<form method="post" action="/app/sso/logout">');
  });
});

describe('the mount warning behind such a proxy', () => {
  /** A site behind the proxy, its log lines, and a clock the test moves on (`advance(ms)`). */
  let restoreClock: (() => void) | undefined;
  afterEach(() => restoreClock?.());
  async function loggingSite() {
    let offset = 0;
    const realNow = Date.now.bind(Date);
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
    restoreClock = () => clock.mockRestore();
    const lines: string[] = [];
    const { app } = await makeSite(hub, { redirectUri: PUBLIC_REDIRECT, logger: { warn: (line: string) => lines.push(line) } });
    const agent = request.agent(app);
    return {
      agent,
      lines,
      browse: (browserPath: string): Test => agent.get(stripped(browserPath)).set(HTML),
      advance: (ms: number) => { offset += ms; },
      mountWarnings: () => lines.filter((line) => line.includes('sso.router is mounted at')),
      cameBack: () => lines.filter((line) => line.includes('came back to sso.router')),
    };
  }

  it('is said at first, and no more once a sign-in has come back through the proxy (before: once a minute, for ever)', async () => {
    const { browse, advance, mountWarnings, cameBack } = await loggingSite();
    expect((await browse('/app/')).status).toBe(200);
    expect(mountWarnings()).toHaveLength(1);
    expect(mountWarnings()[0]).toContain("if a proxy in front of this server strips '/app', this is expected");

    const login = await browse('/app/sso/login?next=/app/forum');
    const callback = await browse(await throughHub(login.headers.location!));
    expect(callback.headers.location).toBe('/app/forum');
    expect(cameBack()).toEqual([expect.stringContaining("mounted at '/': a proxy in front of this server maps '/app' there")]);

    for (let i = 0; i < 2; i += 1) {
      advance(2 * 60_000);
      expect((await browse('/app/forum')).body.user).toMatchObject({ sub: 'user-1' });
    }
    expect(mountWarnings()).toHaveLength(1);
    expect(cameBack()).toHaveLength(1);
  });

  it('a sign-in answer that does not match its browser (no state) proves nothing: the warning goes on', async () => {
    const { agent, advance, mountWarnings, cameBack } = await loggingSite();
    await agent.get('/sso/callback?code=x&state=forged').set(HTML);
    advance(2 * 60_000);
    await agent.get('/').set(HTML);
    expect(mountWarnings()).toHaveLength(2);
    expect(cameBack()).toEqual([]);
  });
});

describe('the mount warning of a router mounted under a path of its own', () => {
  it("names the paths involved, not an empty one (a review: \"strips ''\" for app.use('/auth', sso.router) with redirectUri at the root)", async () => {
    const lines: string[] = [];
    const sso = await createSubsiteKit(kitOptions(hub, { logger: { warn: (line: string) => lines.push(line) } }));
    const app = express();
    app.use('/auth', sso.router);
    await request(app).get('/auth/sso/login').set(HTML);
    const warning = lines.find((line) => line.includes('sso.router is mounted at'));
    expect(warning).toContain("sso.router is mounted at '/auth' but redirectUri (http://bbs.test/sso/callback) puts the kit's routes under '/'");
    expect(warning).toContain("if a proxy in front of this server maps the browser's '/' to '/auth', this is expected");
    expect(warning).not.toContain("''");
  });
});
