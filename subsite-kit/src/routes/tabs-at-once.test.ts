import { describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { EncryptJWT, jwtDecrypt } from 'jose';
import { makeSite, isDeletion, HTML } from '../test-support/site.js';
import { makeSyncCode, syncPath } from '../test-support/sync-codes.js';
import { useStubHub, browserAtHub, CLIENT_ID, HUB_URL, REDIRECT_URI, SESSION_SECRET, type StubHub } from '../test-support/stub-hub.js';
import { MAX_PENDING, SILENT_PENDING_TTL_SECONDS, codeChallengeOf } from '../pending-auth.js';

let hub: StubHub;
useStubHub((started) => { hub = started; });

type Answer = { status: number; headers: Record<string, unknown>; body: { user?: unknown } };

/**
 * One browser's cookie jar, kept by hand: the requests of tabs opened together all carry the
 * cookies the jar has when they leave, and their answers are stored in the order they arrive.
 */
class Jar {
  readonly cookies = new Map<string, string>();
  constructor(private readonly app: Express) {}

  /** Sends a GET with the jar's cookies as they are now; the answer's cookies are stored when it arrives. */
  async get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    const header = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const req = request(this.app).get(path).set(headers);
    const res = await (header ? req.set('Cookie', header) : req);
    this.store(res);
    return res as unknown as Answer;
  }

  store(res: { headers: Record<string, unknown> }): void {
    const raw = res.headers['set-cookie'];
    for (const line of Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : []) {
      const pair = line.split(';')[0]!;
      const name = pair.slice(0, pair.indexOf('='));
      if (isDeletion(line)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(pair.indexOf('=') + 1));
    }
  }

  /** The pending-request cookies (`sso.auth.<id>`, and the single `sso.auth` of earlier versions), not the dropped marker. */
  pendingCookies(): string[] {
    return [...this.cookies.keys()].filter((name) => name === 'sso.auth' || /^sso\.auth\.[A-Za-z0-9_-]{12}$/.test(name));
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The cookies' key, as the kit derives it from the session secret. */
const pendingKey = () => createHash('sha256').update('subsite-kit pending-auth\0').update(SESSION_SECRET).digest();
const cookieNameOf = (state: string) => `sso.auth.${createHash('sha256').update(state).digest('base64url').slice(0, 12)}`;
const stateOf = (location: string) => new URL(location, 'http://bbs.test').searchParams.get('state')!;

const TABS = ['/', '/private?thread=5', '/?page=2'];

describe('tabs of the site opened at once: each silent check keeps its own pending request (a review: two of three tabs ended on "does not belong to this browser")', () => {
  it.each([
    ['a browser restart restoring three tabs (keep me signed in: the remember marker)', async (jar: Jar) => { jar.cookies.set('sso.remember', '1'); }],
    ['three tabs opened right after a sign-in at the hub (Request-Login)', async (jar: Jar) => { await jar.get(syncPath('synclogin', await makeSyncCode())); }],
  ])('%s: all three come back signed in, each to its own page, none to the 400 page', async (_name, prepare) => {
    const { app } = await makeSite(hub);
    const jar = new Jar(app);
    await prepare(jar);

    // The three page views leave together, with the same cookies: none has a pending request yet.
    const starts = await Promise.all(TABS.map((path) => jar.get(path, HTML)));
    for (const start of starts) {
      expect(start.status).toBe(302);
      expect(new URL(start.headers.location as string).searchParams.get('prompt')).toBe('none');
    }

    // The hub answers each at once; the three callbacks also arrive together.
    const answers = await Promise.all(starts.map((start) => browserAtHub(hub, start.headers.location as string)));
    const backs = await Promise.all(answers.map((answer) => jar.get(answer)));
    expect(backs.map((back) => [back.status, back.headers.location])).toEqual(TABS.map((path) => [302, path]));
    expect((await jar.get('/')).body.user).toMatchObject({ sub: 'user-1' });
    // Each request had a cookie of its own, and each callback deleted its own.
    expect(jar.pendingCookies()).toEqual([]);
  });

  it('a tab\'s callback that arrives after another tab signed the browser in keeps that session: the other tab\'s page view in flight is still signed in (Chromium: one of three tabs anonymous)', async () => {
    const { app } = await makeSite(hub);
    const jar = new Jar(app);
    await jar.get(syncPath('synclogin', await makeSyncCode()));
    const starts = await Promise.all(['/?tab=a', '/?tab=b'].map((path) => jar.get(path, HTML)));
    const answers = await Promise.all(starts.map((start) => browserAtHub(hub, start.headers.location as string)));
    // Tab A's callback signs the browser in; its redirect back to /a leaves with that session cookie.
    const backA = await jar.get(answers[0]!);
    expect([backA.status, backA.headers.location]).toEqual([302, '/?tab=a']);
    const tabACookies = jar.header();
    // Tab B's callback arrives next, carrying the session tab A just made.
    const backB = await jar.get(answers[1]!);
    expect([backB.status, backB.headers.location]).toEqual([302, '/?tab=b']);
    // Tab A's page view, sent with the cookies it had: before, tab B's sign-in regenerated (destroyed)
    // that session and tab A's page came back anonymous, with Request-Login already cleared.
    const pageA = await request(app).get('/?tab=a').set(HTML).set('Cookie', tabACookies);
    expect(pageA.status).toBe(200);
    expect(pageA.body).toMatchObject({ user: { sub: 'user-1' } });
    expect((await jar.get('/?tab=b', HTML)).body).toMatchObject({ user: { sub: 'user-1' } });
  });

  it('a silent check\'s answer whose request the browser no longer keeps (more started than MAX_PENDING) goes to the home page anonymous, not to the error page, and does not loop', async () => {
    const lines: string[] = [];
    const { app } = await makeSite(hub, { logger: { warn: (line: string) => lines.push(line) } });
    const jar = new Jar(app);
    await jar.get(syncPath('synclogin', await makeSyncCode()));
    const silent = await jar.get('/forum?page=2', HTML);
    expect(new URL(silent.headers.location as string).searchParams.get('prompt')).toBe('none');
    // MAX_PENDING sign-ins started after it in other tabs: the silent check's request is the oldest, dropped.
    const others: string[] = [];
    for (let i = 0; i < MAX_PENDING; i++) others.push((await jar.get(`/sso/login?next=/p${i}`)).headers.location as string);

    const back = await jar.get(await browserAtHub(hub, silent.headers.location as string));
    expect(back.status).toBe(302);
    expect(back.headers.location).toBe('/');
    // Held back, not deleted (no loop; the sign-in it tells of is checked again after the delay).
    expect(jar.cookies.get('sso.request-login')).toMatch(/^later\.\d+\.stray$/);
    expect(lines).toContainEqual(expect.stringContaining('its answer matches no pending request of this browser'));
    const home = await jar.get('/', HTML);
    expect(home.status).toBe(200);
    expect(home.body.user).toBeNull();
    // The other tabs' sign-ins are still pending, and complete.
    expect(jar.pendingCookies()).toHaveLength(MAX_PENDING);
    const first = await jar.get(await browserAtHub(hub, others[0]!));
    expect([first.status, first.headers.location]).toEqual([302, '/p0']);
  });
});

describe('many tabs opened at once: the pending cookies stay bounded (a review: 40 tabs left 40 cookies, Node answered 431 to every page for 10 minutes)', () => {
  it('40 silent page views at once, then their answers: none refused (431), the first answer back leaves at most MAX_PENDING pending cookies, and no tab ends on the 400 page', async () => {
    const lines: string[] = [];
    const { app } = await makeSite(hub, { logger: { warn: (line: string) => lines.push(line) } });
    const jar = new Jar(app);
    await jar.get(syncPath('synclogin', await makeSyncCode()));
    const paths = Array.from({ length: 40 }, (_, i) => `/?tab=${i}`);
    const starts = await Promise.all(paths.map((path) => jar.get(path, HTML)));
    for (const start of starts) expect(new URL(start.headers.location as string).searchParams.get('prompt')).toBe('none');
    // Each added its own cookie, none seeing the others'; together they stay under Node's 16 KB of headers.
    expect(jar.pendingCookies()).toHaveLength(40);
    expect(jar.header().length).toBeLessThan(14_000);

    const answers = await Promise.all(starts.map((start) => browserAtHub(hub, start.headers.location as string)));
    const first = await jar.get(answers[0]!);
    expect([first.status, first.headers.location]).toEqual([302, paths[0]]);
    expect(jar.pendingCookies().length).toBeLessThanOrEqual(MAX_PENDING);
    expect((await jar.get('/', HTML)).status).toBe(200);

    // The tabs whose requests were kept come back to their pages; then those whose requests the
    // trim dropped, when the browser holds no pending request at all: the home page, not the 400 page.
    const kept = new Set(jar.pendingCookies());
    const order = answers.slice(1).map((answer, i) => ({ answer, path: paths[i + 1]! }))
      .sort((a, b) => Number(kept.has(cookieNameOf(stateOf(b.answer)))) - Number(kept.has(cookieNameOf(stateOf(a.answer)))));
    const backs: Array<[number, unknown]> = [];
    for (const { answer } of order) {
      const back = await jar.get(answer);
      backs.push([back.status, back.headers.location]);
    }
    expect(backs).toEqual(order.map(({ answer, path }) => [302, kept.has(cookieNameOf(stateOf(answer))) ? path : '/']));
    expect(backs.filter(([, location]) => location !== '/')).toHaveLength(kept.size);
    expect(jar.pendingCookies()).toEqual([]);
    expect(lines).toContainEqual(expect.stringContaining('its answer matches no pending request of this browser'));
    expect((await jar.get('/', HTML)).body.user).toMatchObject({ sub: 'user-1' });
  });

  it('a page view of a browser holding MAX_PENDING pending requests starts no silent check: served as it is, Request-Login kept for a later page view', async () => {
    const { app } = await makeSite(hub);
    const jar = new Jar(app);
    await jar.get(syncPath('synclogin', await makeSyncCode()));
    for (let i = 0; i < MAX_PENDING; i++) await jar.get(`/sso/login?next=/p${i}`);
    expect(jar.pendingCookies()).toHaveLength(MAX_PENDING);

    const page = await jar.get('/forum', HTML);
    expect(page.status).toBe(200);
    expect(page.headers.location).toBeUndefined();
    expect(page.body.user).toBeNull();
    expect(jar.cookies.has('sso.request-login')).toBe(true);
    expect(jar.pendingCookies()).toHaveLength(MAX_PENDING);

    // One of them gone (finished or expired): the next page view checks.
    jar.cookies.delete(jar.pendingCookies()[0]!);
    const later = await jar.get('/forum', HTML);
    expect(later.status).toBe(302);
    expect(new URL(later.headers.location as string).searchParams.get('prompt')).toBe('none');
  });

  it(`a silent check's cookie lives ${SILENT_PENDING_TTL_SECONDS} s (Max-Age and the JWE's exp), an interactive sign-in's ten minutes; neither stores the nonce or the PKCE verifier`, async () => {
    const { app } = await makeSite(hub);
    const jar = new Jar(app);
    await jar.get(syncPath('synclogin', await makeSyncCode()));
    const silent = await request(app).get('/forum').set(HTML).set('Cookie', jar.header());
    const login = await request(app).get('/sso/login?next=/wiki');
    for (const [res, seconds] of [[silent, SILENT_PENDING_TTL_SECONDS], [login, 600]] as const) {
      const name = cookieNameOf(stateOf(res.headers.location!));
      const line = (res.headers['set-cookie'] as unknown as string[]).find((one) => one.startsWith(`${name}=`))!;
      expect(line).toContain(`Max-Age=${seconds};`);
      const { payload } = await jwtDecrypt(line.slice(name.length + 1, line.indexOf(';')), pendingKey());
      expect(payload.exp! - Math.floor(Date.now() / 1000)).toBeGreaterThan(seconds - 5);
      expect(payload.exp! - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(seconds);
      expect(payload).not.toHaveProperty('nonce');
      expect(payload).not.toHaveProperty('codeVerifier');
      expect(line.indexOf(';')).toBeLessThan(340);
    }
  });

  it('a request in a cookie of its own as the previous version wrote it (nonce and verifier stored) still completes', async () => {
    const { app } = await makeSite(hub);
    const jar = new Jar(app);
    const entry = { state: randomBytes(32).toString('base64url'), nonce: randomBytes(32).toString('base64url'), codeVerifier: randomBytes(32).toString('base64url'), returnTo: '/forum', silent: false, at: Date.now() };
    const url = new URL(`${HUB_URL}/auth`);
    url.search = new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'openid profile email', state: entry.state, nonce: entry.nonce, code_challenge: codeChallengeOf(entry.codeVerifier), code_challenge_method: 'S256' }).toString();
    jar.cookies.set(cookieNameOf(entry.state), await new EncryptJWT(entry).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setIssuedAt().setExpirationTime('600s').encrypt(pendingKey()));

    const back = await jar.get(await browserAtHub(hub, url.href));
    expect([back.status, back.headers.location]).toEqual([302, '/forum']);
    expect(jar.pendingCookies()).toEqual([]);
    expect((await jar.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });
});

describe('a sign-in started before the upgrade (the single pending cookie of earlier versions)', () => {
  /** A request as an earlier version kept it, and the hub's authorization URL it sent the browser to. */
  function oldRequest(returnTo: string, silent: boolean) {
    const entry = { state: randomBytes(32).toString('base64url'), nonce: randomBytes(32).toString('base64url'), codeVerifier: randomBytes(32).toString('base64url'), returnTo, silent, exp: Math.floor(Date.now() / 1000) + 600 };
    const url = new URL(`${HUB_URL}/auth`);
    url.search = new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, scope: 'openid profile email', state: entry.state, nonce: entry.nonce, code_challenge: codeChallengeOf(entry.codeVerifier), code_challenge_method: 'S256', ...(silent ? { prompt: 'none' } : {}) }).toString();
    return { entry, url: url.href };
  }

  async function oldCookie(entries: object[]): Promise<string> {
    const key = createHash('sha256').update('subsite-kit pending-auth\0').update(SESSION_SECRET).digest();
    return new EncryptJWT({ pending: entries }).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setIssuedAt().setExpirationTime('600s').encrypt(key);
  }

  it('completes, the old cookie is deleted, and another tab\'s request in it is kept in a cookie of its own and completes too', async () => {
    const { app } = await makeSite(hub);
    const jar = new Jar(app);
    const first = oldRequest('/forum', false);
    const second = oldRequest('/wiki', false);
    jar.cookies.set('sso.auth', await oldCookie([second.entry, first.entry]));

    const back = await jar.get(await browserAtHub(hub, first.url));
    expect([back.status, back.headers.location]).toEqual([302, '/forum']);
    expect(jar.cookies.has('sso.auth')).toBe(false);
    expect(jar.pendingCookies()).toHaveLength(1);
    const late = await jar.get(await browserAtHub(hub, second.url));
    expect([late.status, late.headers.location]).toEqual([302, '/wiki']);
    expect(jar.pendingCookies()).toEqual([]);
    expect((await jar.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });
});
