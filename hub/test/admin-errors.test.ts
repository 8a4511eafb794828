/**
 * A refusal inside the admin console answers inside the console: its navigation, the reason, and a
 * link back to the section's list. Before, the portal's error page answered, whose only link led to
 * the portal's home (an exploratory review: a stale tab's "Disable" after the user was deleted).
 */
import { ClientRegistry } from '../src/clients/client-registry.js';
import { TestBrowser, hiddenFieldsOf } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { pageWithCsrf, signedInAdmin } from './support.js';

describe('refusals inside the admin console', () => {
  let hub: RunningHub;
  let admin: TestBrowser;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    admin = await signedInAdmin(hub);
  });
  afterAll(() => hub.close());

  test('a stale tab acts on a user deleted meanwhile: 404 inside the console, back to the users', async () => {
    const user = await hub.services.users.create({ username: 'gone', email: 'gone@example.test', name: 'Gone', password: 'gone-password-1' });
    const form = hiddenFieldsOf(await (await admin.get(`${hub.url}/admin/users/${user.id}`)).text(), `/admin/users/${user.id}/disable`);
    await hub.services.lifecycle.delete(user.id);
    const answer = await admin.post(`${hub.url}/admin/users/${user.id}/disable`, form);
    const html = await answer.text();
    expect(answer.status).toBe(404);
    expect(html).toContain('class="admin-nav"');
    expect(html).toContain('data-testid="error-description"');
    expect(html).toContain('<a href="/admin/users" data-testid="error-back">Back to Users</a>');
    expect(html).toContain('href="/admin/users" aria-current="page"');
  });

  test('a subsite removed meanwhile: 404 inside the console, back to the subsites, in the reader’s language', async () => {
    await hub.services.clients.register({ clientId: 'stale', name: 'Stale', redirectUris: ['http://127.0.0.1:9/cb'] });
    const form = hiddenFieldsOf(await (await admin.get(`${hub.url}/admin/clients/stale`)).text(), '/admin/clients/stale/rotate-secret');
    await hub.services.clients.remove('stale');
    admin.cookies(hub.url).set('lang', 'zh-CN');
    try {
      const answer = await admin.post(`${hub.url}/admin/clients/stale/rotate-secret`, form);
      expect(answer.status).toBe(404);
      expect(await answer.text()).toContain('<a href="/admin/clients" data-testid="error-back">返回子站点</a>');
    } finally {
      admin.cookies(hub.url).delete('lang');
    }
  });

  test('a subsite the CLI registered a moment ago opens at once (this process\'s cache did not know it for up to a second)', async () => {
    const cli = new ClientRegistry(hub.services.store, hub.services.keys);
    await hub.services.clients.list(); // this process's cache is fresh, without the new subsite
    await cli.register({ clientId: 'from-cli', name: 'From CLI', redirectUris: ['http://127.0.0.1:9/cb'] });
    const answer = await admin.get(`${hub.url}/admin/clients/from-cli`);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('From CLI');
  });

  test('the own-account guard (403) answers inside the console too', async () => {
    const self = await hub.services.users.findByLogin('root');
    const { csrf } = await pageWithCsrf(admin, `${hub.url}/admin/users`);
    const answer = await admin.post(`${hub.url}/admin/users/${self!.id}/disable`, { _csrf: csrf });
    expect(answer.status).toBe(403);
    expect(await answer.text()).toContain('class="admin-nav"');
  });

  test('a user without the admin role still gets the portal’s 403 page, which shows no console', async () => {
    await hub.services.users.create({ username: 'plain', email: 'plain@example.test', name: 'Plain', password: 'plain-password-1' });
    const browser = await signInAtPortal(hub, 'plain', 'plain-password-1');
    const answer = await browser.get(`${hub.url}/admin/users`);
    expect(answer.status).toBe(403);
    expect(await answer.text()).not.toContain('class="admin-nav"');
  });
});
