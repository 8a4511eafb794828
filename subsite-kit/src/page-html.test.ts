import express from 'express';
import request from 'supertest';
import { KitError } from './errors.js';
import { sendKitPage } from './error-page.js';
import { makeSite } from './test-support/site.js';

/**
 * The kit's own HTML pages on a phone and in a screen reader (an accessibility review): each has
 * a viewport (without one a phone lays the page out 980 px wide and shrinks it, WCAG 1.4.10), a
 * title naming what the page is about (not a bare "503", WCAG 2.4.2), `lang` and a `<main>`.
 */
function expectFramed(html: string, title: string): void {
  expect(html).toContain('<html lang="en">');
  expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  expect(html).toContain(`<title>${title}</title>`);
  expect(html.match(/<main[ >]/g)).toHaveLength(1);
}

describe("the kit's own pages: viewport, title, lang, main", () => {
  test('a sign-in that cannot go on (sendKitPage)', async () => {
    const app = express();
    app.get('/failed', (_req, res) => sendKitPage(res, { status: 502, title: 'Sign-in failed', message: 'The hub did not answer.', continuePath: '/' }));
    const answer = await request(app).get('/failed');
    expect(answer.status).toBe(502);
    expectFramed(answer.text, 'Sign-in failed');
    expect(answer.text).toContain('data-kit-error="502"');
  });

  test('the sign-out page (GET /sso/logout)', async () => {
    const { app } = await makeSite(undefined);
    const answer = await request(app).get('/sso/logout').set('Accept', 'text/html');
    expect(answer.status).toBe(200);
    expectFramed(answer.text, 'Sign out');
    expect(answer.text).toContain('data-kit-page="logout"');
  });

  test("sso.errorHandler's page names the problem in its title", async () => {
    const { app, sso } = await makeSite(undefined, { logger: { warn: () => {} } });
    app.get('/down', (_req, _res, next) => { next(new KitError(503, 'temporarily_unavailable', 'store down')); });
    app.get('/bad', (_req, _res, next) => { next(new KitError(400, 'invalid_request', 'bad')); });
    app.use(sso.errorHandler);
    const down = await request(app).get('/down').set('Accept', 'text/html');
    expect(down.status).toBe(503);
    expectFramed(down.text, 'Temporarily unavailable');
    const bad = await request(app).get('/bad').set('Accept', 'text/html');
    expect(bad.status).toBe(400);
    expectFramed(bad.text, 'Bad request');
  });
});
