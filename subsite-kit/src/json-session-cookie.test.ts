import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import cookieParser from 'cookie-parser';
import express from 'express';
import request from 'supertest';
import { createSubsiteKit } from './kit.js';
import { HTML, kitOptions, makeSite } from './test-support/site.js';
import { startStubHub, type StubHub } from './test-support/stub-hub.js';

let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

/**
 * A session cookie sent as a `j:` JSON cookie (`sso.sid=j:1`): the kit's cookie parser (as
 * cookie-parser does) made it a number or an object in `req.cookies`, and express-session, which
 * looks there when the Cookie header has no `s:` value, threw "raw.substr is not a function": a
 * 500 (with express's stack page outside production) on every page of the site for that browser
 * until the cookie went; a sibling subdomain can set such a cookie (a bad-input sweep found it).
 * It is no session: the visitor is anonymous, as without it.
 */
describe('a j: JSON cookie under the session cookie name', () => {
  const values = ['j%3A1', 'j%3A%7B%22a%22%3A1%7D', 'j%3A%5B1%5D', 'j%3Atrue'];

  it.each(values)('sso.sid=%s: pages answer as for an anonymous visitor', async (value) => {
    const { app } = await makeSite(hub);
    const page = await request(app).get('/').set(HTML).set('Cookie', `sso.sid=${value}`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ user: null });
    const kitRoute = await request(app).get('/sso/synclogin?time=1&code=x').set('Cookie', `sso.sid=${value}`);
    expect(kitRoute.status).toBe(400);
    const protectedPage = await request(app).get('/private').set('Cookie', `sso.sid=${value}; sso.request-login=1`);
    expect(protectedPage.status).toBeLessThan(500);
  });

  it("the same with the site's own cookie-parser mounted before the kit", async () => {
    const sso = await createSubsiteKit(kitOptions(hub));
    const app = express();
    app.use(cookieParser());
    app.use(sso.router);
    app.get('/', (req, res) => { res.json({ user: req.user ?? null, other: (req.cookies as Record<string, unknown>).other }); });
    const page = await request(app).get('/').set(HTML).set('Cookie', 'sso.sid=j%3A1; other=j%3A%7B%22b%22%3A2%7D');
    expect(page.status).toBe(200);
    // The site's own JSON cookies are left as cookie-parser made them.
    expect(page.body).toEqual({ user: null, other: { b: 2 } });
  });
});
