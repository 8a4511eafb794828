import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import express from 'express';
import request from 'supertest';
import { HTML, kitOptions, makeSite, setCookies } from '../test-support/site.js';
import { makeSyncCode } from '../test-support/sync-codes.js';
import { SESSION_SECRET, startStubHub, type StubHub } from '../test-support/stub-hub.js';
import { createSubsiteKit } from '../kit.js';
import { isKitPath } from '../context.js';

// express-session's own cookie signing (it ships no types).
const signature = createRequire(import.meta.url)('cookie-signature') as { sign(value: string, secret: string): string };

let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

/**
 * The router sends `/sso/*` to the kit's route table and every other request only through
 * cookies, the session and `req.user`: what each side answers must be what the one route
 * table answered before, letter case included (express matches routes case-insensitively).
 */
describe('the kit router: its own paths and the site\'s pages', () => {
  it('names its own paths in any letter case, and nothing else', () => {
    for (const path of ['/sso', '/sso/', '/sso/synclogin', '/SSO/synclogin', '/Sso/Callback', '/sso/unknown']) expect(isKitPath(path)).toBe(true);
    for (const path of ['/', '/ssox', '/ssO-forum', '/forum/sso/synclogin', '/%73so/synclogin', '']) expect(isKitPath(path)).toBe(false);
  });

  it.each(['/sso/synclogin', '/SSO/SyncLogin'])('%s reaches the kit\'s sync route', async (path) => {
    const { app } = await makeSite(hub);
    const code = await makeSyncCode();
    const res = await request(app).get(`${path}?time=${code.time}&code=${encodeURIComponent(code.code)}`).set('Sec-Fetch-Dest', 'image');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/gif');
    expect(Object.keys(setCookies(res))).toEqual(['sso.request-login']);
  });

  it('a path under /sso in any letter case is the kit\'s (never a silent check), any other a site page', async () => {
    const { app } = await makeSite(hub);
    const cookie = 'sso.request-login=1';
    // The kit's paths never start a silent sign-in check, even with Request-Login set.
    for (const path of ['/sso/nothing-here', '/SSO/Nothing']) {
      const res = await request(app).get(path).set(HTML).set('Cookie', cookie);
      expect(res.status).toBe(404);
    }
    // A site page with Request-Login set goes to the hub with prompt=none.
    const page = await request(app).get('/forum').set(HTML).set('Cookie', cookie);
    expect(page.status).toBe(302);
    expect(page.headers.location).toContain('prompt=none');
    const anonymous = await request(app).get('/');
    expect(anonymous.body).toEqual({ user: null, locals: null, sso: { consentRequired: false } });
  });

  it('a site page sees req.cookies (j: JSON decoded), and a store failure goes to the site\'s error handler', async () => {
    const sso = await createSubsiteKit(kitOptions(hub));
    const app = express();
    app.use(sso.router);
    app.get('/cookies', (req, res) => { res.json(req.cookies as unknown); });
    const plain = await request(app).get('/cookies').set('Cookie', 'a=1; j=j%3A%7B%22b%22%3A2%7D');
    expect(plain.body).toEqual({ a: '1', j: { b: 2 } });

    // A session cookie whose store read fails: the error leaves the kit for the site's handler.
    const failing = await createSubsiteKit(kitOptions(hub));
    (failing.sessionStore as unknown as { get: (sid: string, cb: (error: unknown) => void) => void }).get = (_sid, cb) => cb(new Error('store down'));
    const site = express();
    site.use(failing.router);
    site.get('/', (_req, res) => { res.send('page'); });
    site.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => { res.status(599).send(`site handler: ${error.message}`); });
    // express-session reads the store only for a cookie signed with its secret: signed with the kit's.
    const cookie = `sso.sid=${encodeURIComponent(`s:${signature.sign('some-session', SESSION_SECRET)}`)}`;
    const res = await request(site).get('/').set('Cookie', cookie);
    expect(res.status).toBe(599);
    expect(res.text).toBe('site handler: store down');
  });
});
