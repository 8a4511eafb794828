/**
 * A site set up wrongly gets a 500 "misconfigured" with a log line saying what to change, not
 * the 503 "try again" of an outage with `page failed: Error`, and never a redirect loop:
 * - behind a TLS proxy without `trust proxy`, express-session silently drops the Secure session
 *   cookie, and every sign-in went round the hub and back forever with nothing logged;
 * - `sso.lazyLogin` mounted before `sso.router` answered every page 503 "temporarily unavailable".
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { createSubsiteKit } from './kit.js';
import { HTML, kitOptions } from './test-support/site.js';
import { startStubHub, type StubHub } from './test-support/stub-hub.js';

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

  it('goes to the hub once the proxy is trusted', async () => {
    const { app } = await site(true);
    const login = await request(app).get('/sso/login?next=/private').set(HTML).set('X-Forwarded-Proto', 'https');
    expect(login.status).toBe(302);
    expect(new URL(login.headers.location!).pathname).toBe('/auth');
  });
});

describe('sso.lazyLogin mounted before sso.router', () => {
  it('answers 500 "site error", not 503 "try again", and logs which way round to mount them', async () => {
    const log = capture();
    const sso = await createSubsiteKit(kitOptions(hub, { logger: log.logger }));
    const app = express();
    app.use(sso.lazyLogin);
    app.use(sso.router);
    app.get('/', (_req, res) => { res.send('home'); });
    app.use(sso.errorHandler);
    const page = await request(app).get('/').set(HTML);
    expect(page.status).toBe(500);
    expect(page.headers['retry-after']).toBeUndefined();
    expect(page.text).toContain('configuration problem');
    const api = await request(app).get('/').set('Accept', 'application/json');
    expect(api.status).toBe(500);
    expect(api.body).toEqual({ error: 'server_error' });
    expect(log.lines.some((line) => line.includes('mount sso.router (app.use(sso.router)) before sso.lazyLogin'))).toBe(true);
  });
});
