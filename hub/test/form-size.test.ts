/**
 * Form bodies and their limits. The console's forms may be long (a subsite with 1,000 redirect
 * URIs, one per line, passed the portal's 32 KB and its save answered 413: a console review); the
 * console now reads up to 512 KB, once the request is known to be an admin's. A form past its limit
 * gets a page that says so, in the reader's language, instead of "The request could not be
 * understood".
 */
import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { pageWithCsrf, signedInAdmin } from './support.js';

describe('form sizes', () => {
  let hub: RunningHub;
  let admin: TestBrowser;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    admin = await signedInAdmin(hub);
  });
  afterAll(() => hub.close());

  test('the console registers a subsite with 1,000 redirect URIs (about 45 KB)', async () => {
    const { csrf } = await pageWithCsrf(admin, `${hub.url}/admin/clients`);
    const uris = Array.from({ length: 1000 }, (_, i) => `https://shop-${i}.example.com/sso/callback`);
    const body = new URLSearchParams({ _csrf: csrf, clientId: 'many-uris', name: 'Many', redirectUris: uris.join('\n') }).toString();
    expect(body.length).toBeGreaterThan(40_000);
    const answer = await admin.post(`${hub.url}/admin/clients`, { _csrf: csrf, clientId: 'many-uris', name: 'Many', redirectUris: uris.join('\n') });
    expect(answer.status).toBe(200);
    expect((await hub.services.clients.findUncached('many-uris'))?.redirectUris).toHaveLength(1000);
  });

  test('a console form past 512 KB: 413, said as a form too large', async () => {
    const { csrf } = await pageWithCsrf(admin, `${hub.url}/admin/clients`);
    const answer = await admin.post(`${hub.url}/admin/clients`, { _csrf: csrf, clientId: 'huge', name: 'Huge', redirectUris: 'x'.repeat(600_000) });
    expect(answer.status).toBe(413);
    expect(await answer.text()).toContain('This form is too large');
    expect(await hub.services.clients.findUncached('huge')).toBeUndefined();
  });

  test('nobody but an admin has a console body read: an anonymous 100 KB POST is sent to sign in, not parsed', async () => {
    const answer = await new TestBrowser().post(`${hub.url}/admin/clients`, { name: 'x'.repeat(100_000) });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toMatch(/^\/login\?next=/);
  });

  test('a portal form past 32 KB: 413 with a page that says so, in Chinese for a Chinese reader', async () => {
    const english = await fetch(`${hub.url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `username=${'x'.repeat(40_000)}` });
    expect(english.status).toBe(413);
    expect(await english.text()).toContain('This form is too large');
    const chinese = await fetch(`${hub.url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'zh-CN' }, body: `username=${'x'.repeat(40_000)}` });
    expect(chinese.status).toBe(413);
    expect(await chinese.text()).toContain('表单内容过大');
  });
});
