/**
 * A site set up wrongly gets a 500 "misconfigured" with a log line saying what to change, not
 * the 503 "try again" of an outage with `page failed: Error`, and never a redirect loop:
 * - behind a TLS proxy without `trust proxy`, express-session silently drops the Secure session
 *   cookie, and every sign-in went round the hub and back forever with nothing logged;
 * - `sso.lazyLogin` mounted before `sso.router` answered every page 503 "temporarily unavailable".
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import cookieParser from 'cookie-parser';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { createSubsiteKit } from './kit.js';
import { HTML, isDeletion, kitOptions, setCookies } from './test-support/site.js';
import { SESSION_SECRET, startStubHub, type StubHub } from './test-support/stub-hub.js';

let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

function capture(): { lines: string[]; logger: { warn(message: string): void } } {
  const lines: string[] = [];
  return { lines, logger: { warn: (message: string) => lines.push(message) } };
}

describe('a site behind a TLS proxy (secureCookies) that does not trust it', () => {
  async function site(trustProxy: boolean) {
    const log = capture();
    const sso = await createSubsiteKit(kitOptions(hub, { secureCookies: true, logger: log.logger }));
    const app = express();
    if (trustProxy) app.set('trust proxy', 1);
    app.use(sso.router);
    app.use(sso.lazyLogin);
    app.get('/private', sso.requireLogin, (req, res) => { res.json({ sub: req.user?.sub }); });
    app.get('/forum', (req, res) => { res.json({ user: req.user ?? null }); });
    app.use(sso.errorHandler);
    return { app, log };
  }

  it('answers the sign-in with a 500 page and logs the fix, instead of going round the hub', async () => {
    const { app, log } = await site(false);
    const login = await request(app).get('/sso/login?next=/private').set(HTML).set('X-Forwarded-Proto', 'https');
    expect(login.status).toBe(500);
    expect(login.headers.location).toBeUndefined();
    expect(login.text).toContain('configuration problem');
    expect(login.text).not.toContain('trust proxy'); // the fix is for the log, not for visitors
    expect(log.lines.join('\n')).toContain("app.set('trust proxy', 1)");
    // The callback says the same (a lazy check sent to the hub comes back there).
    const callback = await request(app).get('/sso/callback?code=x&state=y').set(HTML).set('X-Forwarded-Proto', 'https');
    expect(callback.status).toBe(500);
    expect(callback.headers.location).toBeUndefined();
  });

  it('the silent check (lazyLogin) makes the same check: logs the fix once a minute, stays anonymous, drops Request-Login, never goes to the hub', async () => {
    const { app, log } = await site(false);
    for (let i = 0; i < 3; i += 1) {
      // supertest talks plain http: send the Secure Request-Login cookie by hand.
      const page = await request(app).get('/forum').set(HTML).set('X-Forwarded-Proto', 'https').set('Cookie', '__Host-sso.request-login=1');
      expect(page.status).toBe(200);
      expect(page.headers.location).toBeUndefined();
      expect(isDeletion(setCookies(page)['__Host-sso.request-login'])).toBe(true);
    }
    const said = log.lines.filter((line) => line.includes('Express sees this request as plain http'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('/forum: this site is misconfigured');
    expect(said[0]).toContain('pass secureCookies: false');
  });

  it('the proxy is trusted but sends no X-Forwarded-Proto (nginx sends none unless told): the log says to have the proxy send it, not to set trust proxy', async () => {
    const { app, log } = await site(true);
    const login = await request(app).get('/sso/login?next=/private').set(HTML);
    expect(login.status).toBe(500);
    const said = log.lines.join('\n');
    expect(said).toContain('the proxy sends no X-Forwarded-Proto');
    expect(said).toContain('proxy_set_header X-Forwarded-Proto $scheme');
    expect(said).not.toContain("call app.set('trust proxy', 1)");
  });

  it('the trusted proxy says http (the visitor came over plain http): the log says so', async () => {
    const { app, log } = await site(true);
    expect((await request(app).get('/sso/login?next=/private').set(HTML).set('X-Forwarded-Proto', 'http')).status).toBe(500);
    expect(log.lines.join('\n')).toContain('came over plain http (X-Forwarded-Proto: http)');
  });

  it('trust proxy set, but not to this peer: the log says it does not trust this peer', async () => {
    const log = capture();
    const sso = await createSubsiteKit(kitOptions(hub, { secureCookies: true, logger: log.logger }));
    const app = express().set('trust proxy', '10.9.8.7').use(sso.router).use(sso.errorHandler);
    expect((await request(app).get('/sso/login?next=/private').set(HTML).set('X-Forwarded-Proto', 'https')).status).toBe(500);
    expect(log.lines.join('\n')).toMatch(/it is set, but not to this request's peer \(.*127\.0\.0\.1\)/);
  });

  it('goes to the hub once the proxy is trusted', async () => {
    const { app } = await site(true);
    const login = await request(app).get('/sso/login?next=/private').set(HTML).set('X-Forwarded-Proto', 'https');
    expect(login.status).toBe(302);
    expect(new URL(login.headers.location!).pathname).toBe('/auth');
  });
});

describe('secureCookies set to true for an http redirectUri (an .env copied from production to a plain-http site)', () => {
  it('the log says the redirectUri is http, not "an https redirectUri", and names both fixes', async () => {
    // Before: "secureCookies is on (an https redirectUri) … call app.set('trust proxy', 1)", for a
    // redirectUri that was http: no proxy setting could help (a new-developer review).
    const log = capture();
    const redirectUri = kitOptions(hub).redirectUri;
    expect(redirectUri.startsWith('http://')).toBe(true);
    const sso = await createSubsiteKit(kitOptions(hub, { secureCookies: true, logger: log.logger }));
    const app = express().use(sso.router).use(sso.errorHandler);
    const login = await request(app).get('/sso/login?next=/').set(HTML);
    expect(login.status).toBe(500);
    const said = log.lines.join('\n');
    expect(said).not.toContain('(an https redirectUri)');
    expect(said).toContain(`secureCookies is on (set to true, while redirectUri ${redirectUri} is http: the browser comes back to it over plain http; make redirectUri https, or pass secureCookies: false)`);
  });
});

describe('sso.lazyLogin mounted before sso.router', () => {
  /** A site that mounts them the wrong way round, and what the kit logs. */
  async function wrongWayRound() {
    const log = capture();
    const sso = await createSubsiteKit(kitOptions(hub, { logger: log.logger }));
    const app = express();
    app.use(sso.lazyLogin);
    app.use(sso.router);
    app.get('/', (_req, res) => { res.send('home'); });
    app.use(sso.errorHandler);
    return { app, log };
  }

  it('answers 500 "site error", not 503 "try again", and logs which way round to mount them', async () => {
    const { app, log } = await wrongWayRound();
    const page = await request(app).get('/').set(HTML);
    expect(page.status).toBe(500);
    expect(page.headers['retry-after']).toBeUndefined();
    expect(page.text).toContain('configuration problem');
    const api = await request(app).get('/').set('Accept', 'application/json');
    expect(api.status).toBe(500);
    expect(api.body).toEqual({ error: 'server_error' });
    expect(log.lines.some((line) => line.includes('mount it at the site root (app.use(sso.router)), before sso.lazyLogin'))).toBe(true);
  });

  it('says so once a minute, not once per request (an outside review: 13 lines in a few page views)', async () => {
    const { app, log } = await wrongWayRound();
    for (let i = 0; i < 5; i += 1) expect((await request(app).get('/').set(HTML)).status).toBe(500);
    expect(log.lines.filter((line) => line.includes('req.sso is not set'))).toHaveLength(1);
  });
});

describe('sso.router mounted under a path of its own (app.use(\'/auth\', sso.router)), redirectUri at the root', () => {
  it('the lazyLogin line says where the router is mounted and that it must be at the site root', async () => {
    const log = capture();
    const sso = await createSubsiteKit(kitOptions(hub, { logger: log.logger }));
    const app = express();
    app.use('/auth', sso.router);
    app.use(sso.lazyLogin);
    app.get('/', (_req, res) => { res.send('home'); });
    app.use(sso.errorHandler);
    await request(app).get('/auth/sso/unknown').set(HTML);
    expect((await request(app).get('/').set(HTML)).status).toBe(500);
    const said = log.lines.filter((line) => line.includes('req.sso is not set'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("it is mounted at '/auth', so it sees only the requests under that path");
    expect(said[0]).toContain('mount it at the site root (app.use(sso.router))');
  });
});

describe('sso.router mounted at another path than redirectUri names (a newcomer review: a bare 404 and no log line)', () => {
  it('says in the log where to mount it, once a minute, and keeps serving the pages', async () => {
    const log = capture();
    const sso = await createSubsiteKit(kitOptions(hub, { logger: log.logger, redirectUri: 'http://site.test/app/sso/callback' }));
    const app = express();
    app.use(sso.router); // at the root, while redirectUri puts the kit under /app
    app.use(sso.lazyLogin);
    app.get('/', (_req, res) => { res.send('home'); });
    app.use(sso.errorHandler);
    for (let i = 0; i < 3; i += 1) expect((await request(app).get('/').set(HTML)).status).toBe(200);
    const said = log.lines.filter((line) => line.includes('sso.router is mounted at'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("mount it with app.use('/app', sso.router)");
  });

  it('mounted where redirectUri says: nothing is said', async () => {
    const log = capture();
    const sso = await createSubsiteKit(kitOptions(hub, { logger: log.logger, redirectUri: 'http://site.test/app/sso/callback' }));
    const app = express();
    app.use('/app', sso.router);
    app.use('/app', sso.lazyLogin);
    app.get('/app', (_req, res) => { res.send('home'); });
    expect((await request(app).get('/app').set(HTML)).status).toBe(200);
    expect(log.lines.filter((line) => line.includes('sso.router is mounted at'))).toEqual([]);
  });

  it('the other way round (mounted under /app, redirectUri at the root) names the mount path too', async () => {
    const log = capture();
    const sso = await createSubsiteKit(kitOptions(hub, { logger: log.logger, redirectUri: 'http://site.test/sso/callback' }));
    const app = express();
    app.use('/app', sso.router);
    app.use(sso.lazyLogin);
    app.get('/app/x', (_req, res) => { res.send('x'); });
    expect((await request(app).get('/app/x').set(HTML)).status).toBe(200);
    expect(log.lines.some((line) => line.includes("sso.router is mounted at '/app'") && line.includes("mount it with app.use('/', sso.router)"))).toBe(true);
  });
});

describe('a sign-in started on another host than redirectUri (a newcomer review: the browser came back to a port nothing listened on, and nothing was logged)', () => {
  it('still goes to the hub, and says in the log where the browser will come back to', async () => {
    const log = capture();
    const sso = await createSubsiteKit(kitOptions(hub, { logger: log.logger }));
    const app = express();
    app.use(sso.router);
    const login = await request(app).get('/sso/login?next=/').set(HTML).set('Host', 'other.test:4211');
    expect(login.status).toBe(302);
    expect(log.lines.some((line) => line.includes('a sign-in started at other.test:4211, but redirectUri sends the browser back to'))).toBe(true);
    // A visitor sending other Host values cannot flood the log: one line a minute in all.
    for (const host of ['a.test', 'b.test', 'c.test']) await request(app).get('/sso/login?next=/').set(HTML).set('Host', host);
    expect(log.lines.filter((line) => line.includes('a sign-in started at'))).toHaveLength(1);
  });

  it("behind a proxy the app trusts, the host is the forwarded one: a proxy that rewrites Host (nginx's default) is not warned about once a minute for good", async () => {
    // A review: with trust proxy set, the warning named 127.0.0.1:7214 (the rewritten Host) at every sign-in.
    const redirectHost = new URL(kitOptions(hub).redirectUri).host;
    const log = capture();
    const sso = await createSubsiteKit(kitOptions(hub, { logger: log.logger }));
    const app = express();
    app.set('trust proxy', 'loopback');
    app.use(sso.router);
    const login = await request(app).get('/sso/login?next=/').set(HTML).set('Host', '127.0.0.1:7214').set('X-Forwarded-Host', redirectHost);
    expect(login.status).toBe(302);
    expect(log.lines).toEqual([]);
    // Not trusted: the forwarded header is anyone's, and the Host as sent is said.
    const untrusting = express();
    const logged = capture();
    const kit = await createSubsiteKit(kitOptions(hub, { logger: logged.logger }));
    untrusting.use(kit.router);
    await request(untrusting).get('/sso/login?next=/').set(HTML).set('Host', '127.0.0.1:7214').set('X-Forwarded-Host', redirectHost);
    expect(logged.lines.some((line) => line.includes('a sign-in started at 127.0.0.1:7214'))).toBe(true);
  });
});

describe("a site's own express-session mounted before sso.router (a newcomer review: forced and back-channel logout silently stopped working)", () => {
  async function site(order: 'before' | 'after') {
    const log = capture();
    const sso = await createSubsiteKit(kitOptions(hub, { logger: log.logger }));
    const own = session({ secret: 'x'.repeat(40), resave: false, saveUninitialized: false, cookie: { maxAge: 7 * 86_400_000 } });
    const app = express();
    if (order === 'before') app.use(own);
    app.use(sso.router);
    if (order === 'after') app.use(own);
    app.use(sso.lazyLogin);
    app.get('/', (req, res) => { res.send(`home ${req.sessionStore === sso.sessionStore ? 'kit-session' : 'other-session'}`); });
    app.use(sso.errorHandler);
    return { app, log };
  }

  it('refuses every page and the kit routes with the misconfiguration page, and says in the log what to change', async () => {
    const { app, log } = await site('before');
    const page = await request(app).get('/').set(HTML);
    expect(page.status).toBe(500);
    expect(page.text).toContain('configuration problem');
    const synclogin = await request(app).get('/sso/synclogin?time=1&code=x').set(HTML);
    expect(synclogin.status).toBe(500);
    expect(String(synclogin.headers['set-cookie'] ?? '')).not.toContain('request-login');
    expect(log.lines.some((line) => line.includes('another session middleware (express-session or cookie-session) ran before sso.router') && line.includes('mount it after sso.router'))).toBe(true);
    // Every request fails the same way: said once a minute, not once per request.
    for (let i = 0; i < 4; i += 1) await request(app).get('/').set(HTML);
    expect(log.lines.filter((line) => line.includes('another session middleware'))).toHaveLength(1);
  });

  it('mounted after sso.router it steps aside: the pages get the kit session', async () => {
    const { app } = await site('after');
    const page = await request(app).get('/').set(HTML);
    expect(page.status).toBe(200);
    expect(page.text).toBe('home kit-session');
  });
});

describe('two kit sites on one host, different ports (an outside review: signing in to one signed the other out, silently)', () => {
  /** A session cookie signed as express-session signs it. */
  function sessionCookie(name: string, id: string, secret: string): string {
    const signature = createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '');
    return `${name}=${encodeURIComponent(`s:${id}.${signature}`)}`;
  }

  /** A kit site with one page, and what the kit logs. */
  async function siteWithLog(before?: express.RequestHandler) {
    const log = capture();
    const sso = await createSubsiteKit(kitOptions(hub, { logger: log.logger }));
    const app = express();
    if (before) app.use(before);
    app.use(sso.router);
    app.get('/', (req, res) => { res.json({ user: req.user ?? null }); });
    return { app, log };
  }

  it("a session cookie this site's secret did not sign is said in the log once a minute, with the fix (cookiePrefix)", async () => {
    const { app, log } = await siteWithLog();
    // The other site's cookie (same name, its own secret) as the browser sends it to this one.
    for (let i = 0; i < 3; i += 1) {
      const page = await request(app).get('/').set(HTML).set('Cookie', sessionCookie('sso.sid', `other-${i}`, 'the-other-sites-secret-'.repeat(2)));
      expect(page.status).toBe(200);
    }
    const said = log.lines.filter((line) => line.includes('did not sign'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('a session cookie sso.sid came that this site\'s sessionSecret did not sign');
    expect(said[0]).toContain('cookiePrefix');
  });

  it("is said too behind the site's own cookieParser(secret), which the README has mounted before sso.router for signed cookies", async () => {
    // cookie-parser with a secret moves every `s:` cookie (the session cookie among them) out of
    // req.cookies into req.signedCookies (as `false`: the site's secret did not sign it), and
    // the check, which read req.cookies only, said nothing (a new-developer review: two sites on
    // localhost signed each other out without a word in the log of the one with cookie-parser).
    const { app, log } = await siteWithLog(cookieParser('the site\'s own cookie secret, not the kit\'s'));
    const page = await request(app).get('/').set(HTML).set('Cookie', sessionCookie('sso.sid', 'other', 'the-other-sites-secret-'.repeat(2)));
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ user: null });
    expect(log.lines.filter((line) => line.includes("a session cookie sso.sid came that this site's sessionSecret did not sign"))).toHaveLength(1);
  });

  it("behind the site's own cookieParser(secret), a cookie this site signed is not warned about", async () => {
    const { app, log } = await siteWithLog(cookieParser('the site\'s own cookie secret, not the kit\'s'));
    expect((await request(app).get('/').set(HTML).set('Cookie', sessionCookie('sso.sid', 'gone', SESSION_SECRET))).status).toBe(200);
    expect(log.lines).toEqual([]);
  });

  it('a cookie this site signed (its session gone from the store, or an anonymous one) is not warned about', async () => {
    const { app, log } = await siteWithLog();
    expect((await request(app).get('/').set(HTML).set('Cookie', sessionCookie('sso.sid', 'gone', SESSION_SECRET))).status).toBe(200);
    expect(log.lines).toEqual([]);
  });
});
