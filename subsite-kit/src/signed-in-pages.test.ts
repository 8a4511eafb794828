import { describe, expect, it } from '@jest/globals';
import express from 'express';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { makeSite, HTML } from './test-support/site.js';
import { makeSyncCode, syncPath } from './test-support/sync-codes.js';
import { useStubHub, browserAtHub, type StubHub } from './test-support/stub-hub.js';

// A review in Chromium with the README's site: after a sign-out at the hub, Back showed the
// signed-in page again from the browser's cache (the site sets no Cache-Control), and its form,
// posted to a requireLogin route, answered the JSON {"error":"login_required"} as the page.

let hub: StubHub;
useStubHub((started) => { hub = started; });

async function signedIn() {
  const { app, sso } = await makeSite(hub);
  // Files served after sso.router, as a site that mounts the router first does: send only sets its
  // own Cache-Control where none is set yet.
  const files = mkdtempSync(join(tmpdir(), 'kit-static-'));
  writeFileSync(join(files, 'site.css'), 'body { color: black }');
  app.use('/static', express.static(files, { maxAge: '1d' }));
  app.get('/favicon.ico', (_req, res) => { res.sendFile(join(files, 'site.css'), { maxAge: '1d' }); });
  app.get('/cached', (_req, res) => { res.set('Cache-Control', 'private, max-age=60'); res.json({ ok: true }); });
  app.post('/note', sso.requireLogin, (_req, res) => { res.json({ saved: true }); });
  const agent = request.agent(app);
  await agent.get(syncPath('synclogin', await makeSyncCode()));
  await agent.get(await browserAtHub(hub, (await agent.get('/').set(HTML)).headers.location!));
  expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  return { app, agent };
}

describe('pages of a signed-in user', () => {
  it('are not kept by the browser\'s cache unless the site says otherwise', async () => {
    const { app, agent } = await signedIn();
    expect((await agent.get('/forum').set(HTML)).headers['cache-control']).toBe('private, no-store');
    expect((await agent.get('/cached').set(HTML)).headers['cache-control']).toBe('private, max-age=60');
    expect((await request(app).get('/forum').set(HTML)).headers['cache-control']).toBeUndefined(); // anonymous: the site's call
  });

  it('leave the caching of what express.static and res.sendFile serve to them (a signed-in user\'s styles, scripts and images stay cached)', async () => {
    const { agent } = await signedIn();
    const css = await agent.get('/static/site.css').set('Accept', 'text/css,*/*;q=0.1').set('Sec-Fetch-Dest', 'style');
    expect([css.status, css.headers['cache-control']]).toEqual([200, 'public, max-age=86400']);
    expect((await agent.get('/favicon.ico')).headers['cache-control']).toBe('public, max-age=86400');
    // The site's pages still get the kit's default, and one the handler sets after it wins.
    expect((await agent.get('/forum').set(HTML)).headers['cache-control']).toBe('private, no-store');
  });
});

describe('a form posted to a requireLogin route after the session is gone', () => {
  const FORM_POST = { ...HTML, 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document', 'Content-Type': 'application/x-www-form-urlencoded' };

  it('gets a 401 page saying it was not saved, with a sign-in link back to the form\'s page (no redirect, no loop)', async () => {
    const { app } = await signedIn();
    const res = await request(app).post('/note').set(FORM_POST).set('Host', 'bbs.test').set('Referer', 'http://bbs.test/edit?id=7').send('text=typed');
    expect(res.status).toBe(401);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('was not saved');
    expect(res.text).toContain(`href="/sso/login?next=${encodeURIComponent('/edit?id=7')}"`);
  });

  it('a Referer of another origin, or none, signs in back to the root; fetch() and API posts keep the JSON 401', async () => {
    const { app } = await signedIn();
    const other = await request(app).post('/note').set(FORM_POST).set('Host', 'bbs.test').set('Referer', 'http://evil.test/x').send('text=typed');
    expect(other.text).toContain(`href="/sso/login?next=${encodeURIComponent('/')}"`);
    const api = await request(app).post('/note').set('Accept', 'application/json').send({ text: 'x' });
    expect([api.status, api.body]).toEqual([401, { error: 'login_required', error_description: 'sign in to use this resource' }]);
    const fetched = await request(app).post('/note').set(HTML).set('Sec-Fetch-Mode', 'cors').set('Sec-Fetch-Dest', 'empty').send('text=x');
    expect(fetched.body).toEqual({ error: 'login_required', error_description: 'sign in to use this resource' });
  });
});
