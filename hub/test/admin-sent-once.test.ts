/**
 * The console's forms that change a secret (rotate the client secret, rotate the sync key,
 * register a subsite) or make a single-use link (an invite) act once per page shown: a reload of
 * the answer page, Back and Forward, or a double click sends the same form again, and the hub
 * answers that it was done already instead of doing it a second time. An exploratory review in
 * Chromium: reloading the "New client secret" page rotated again and showed another secret, and
 * with an overlap the second rotation stopped the secret the subsite still used.
 */
import { secretDigest } from '../src/clients/client-secret.js';
import { TestBrowser, hiddenFieldsOf } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { signedInAdmin } from './support.js';

/** The fields of the form whose action is `action` on the page at `url`, as the browser would send them. */
async function formOn(browser: TestBrowser, url: string, action: string): Promise<Record<string, string>> {
  return hiddenFieldsOf(await (await browser.get(url)).text(), action);
}

describe.each(STORE_KINDS)('console forms sent again on %s', (kind) => {
  let hub: RunningHub;
  let admin: TestBrowser;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    admin = await signedInAdmin(hub);
  });
  afterAll(() => hub.close());

  test('rotate the client secret with an overlap, then reload the answer: rotated once, the old secret still in its overlap, no second secret shown', async () => {
    const original = (await hub.services.clients.register({ clientId: 'twice', name: 'Twice', redirectUris: ['http://127.0.0.1:9/cb'] })).clientSecret!;
    const form = { ...(await formOn(admin, `${hub.url}/admin/clients/twice`, '/admin/clients/twice/rotate-secret')), overlap: '3600' };
    const first = await admin.post(`${hub.url}/admin/clients/twice/rotate-secret`, form);
    const newSecret = /data-testid="client-secret">([^<]+)</.exec(await first.text())![1]!;
    // The reload: the browser sends the same form again.
    const again = await admin.post(`${hub.url}/admin/clients/twice/rotate-secret`, form);
    const html = await again.text();
    expect(again.status).toBe(409);
    expect(html).toContain('data-testid="sent-once"');
    expect(html).toContain('class="admin-nav"');
    expect(html).not.toContain('data-testid="client-secret"');
    const client = (await hub.services.clients.findUncached('twice'))!;
    expect(client.clientSecretDigest).toBe(secretDigest(newSecret));
    expect(client.previousSecret?.digest).toBe(secretDigest(original));
    expect(await hub.services.audit.search({ event: 'admin.client.rotate-secret', client: 'twice' })).toHaveLength(1);
    // A new view of the page gives a new form: rotating again is still possible on purpose.
    const next = await formOn(admin, `${hub.url}/admin/clients/twice`, '/admin/clients/twice/rotate-secret');
    expect((await admin.post(`${hub.url}/admin/clients/twice/rotate-secret`, next)).status).toBe(200);
    expect(await hub.services.audit.search({ event: 'admin.client.rotate-secret', client: 'twice' })).toHaveLength(2);
  });

  test('a double click on rotate (two sends of one form at once): one rotation', async () => {
    await hub.services.clients.register({ clientId: 'dbl', name: 'Double', redirectUris: ['http://127.0.0.1:9/cb'] });
    const form = await formOn(admin, `${hub.url}/admin/clients/dbl`, '/admin/clients/dbl/rotate-secret');
    const answers = await Promise.all([1, 2].map(() => admin.post(`${hub.url}/admin/clients/dbl/rotate-secret`, form)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(await hub.services.audit.search({ event: 'admin.client.rotate-secret', client: 'dbl' })).toHaveLength(1);
  });

  test('rotate the sync key, then reload: rotated once, the previous key kept', async () => {
    await hub.services.clients.register({ clientId: 'synced', name: 'Synced', redirectUris: ['http://127.0.0.1:9/cb'], syncLoginUrl: 'http://127.0.0.1:9/sso/synclogin', syncLogoutUrl: 'http://127.0.0.1:9/sso/synclogout' });
    const form = await formOn(admin, `${hub.url}/admin/clients/synced`, '/admin/clients/synced/rotate-sync-key');
    const first = await (await admin.post(`${hub.url}/admin/clients/synced/rotate-sync-key`, form)).text();
    const key = /data-testid="sync-key">([^<]+)</.exec(first)![1]!;
    const again = await admin.post(`${hub.url}/admin/clients/synced/rotate-sync-key`, form);
    expect(again.status).toBe(409);
    expect(await again.text()).not.toContain('data-testid="sync-key"');
    expect((await hub.services.clients.findUncached('synced'))!.sync!.key).toBe(key);
  });

  test('sync turned on by an edit, then reload of the page that shows its key: saved once, "nothing was changed", the key shown still the key', async () => {
    // The save answers the key page itself (200), so a reload sends the edit form again. Before, it
    // was refused as "changed since this page was opened", blaming another tab (a console review).
    await hub.services.clients.register({ clientId: 'later-sync', name: 'Later', redirectUris: ['http://127.0.0.1:9/cb'] });
    const form = { ...(await formOn(admin, `${hub.url}/admin/clients/later-sync`, '/admin/clients/later-sync')), name: 'Later', redirectUris: 'http://127.0.0.1:9/cb', grant: 'authorization_code', auth: 'client_secret_basic', syncLoginUrl: 'http://127.0.0.1:9/sso/synclogin', syncLogoutUrl: 'http://127.0.0.1:9/sso/synclogout' };
    const first = await admin.post(`${hub.url}/admin/clients/later-sync`, form);
    expect(first.status).toBe(200);
    const key = /data-testid="sync-key">([^<]+)</.exec(await first.text())![1]!;
    const again = await admin.post(`${hub.url}/admin/clients/later-sync`, form);
    expect([again.status, again.headers.get('location')]).toEqual([303, '/admin/clients/later-sync?done=client-unchanged']);
    const after = await (await admin.get(`${hub.url}/admin/clients/later-sync?done=client-unchanged`)).text();
    expect(after).toContain('the subsite has these settings already');
    expect(after).not.toContain('changed since this page was opened');
    expect((await hub.services.clients.findUncached('later-sync'))!.sync!.key).toBe(key);
    expect(await hub.services.audit.search({ event: 'admin.client.update', client: 'later-sync' })).toHaveLength(1);
    // The same stale form asking for something else is still refused as a conflict, its typing kept.
    const other = await admin.post(`${hub.url}/admin/clients/later-sync`, { ...form, name: 'Other Name' });
    expect(other.status).toBe(409);
    expect(await other.text()).toContain('changed since this page was opened');
  });

  test('one page, two of its forms: rotating the secret does not spend the page\'s sync key form', async () => {
    await hub.services.clients.register({ clientId: 'both', name: 'Both', redirectUris: ['http://127.0.0.1:9/cb'], syncLoginUrl: 'http://127.0.0.1:9/sso/synclogin', syncLogoutUrl: 'http://127.0.0.1:9/sso/synclogout' });
    const secretForm = await formOn(admin, `${hub.url}/admin/clients/both`, '/admin/clients/both/rotate-secret');
    const keyForm = await formOn(admin, `${hub.url}/admin/clients/both`, '/admin/clients/both/rotate-sync-key');
    expect((await admin.post(`${hub.url}/admin/clients/both/rotate-secret`, secretForm)).status).toBe(200);
    expect((await admin.post(`${hub.url}/admin/clients/both/rotate-sync-key`, { ...keyForm, _once: secretForm._once! })).status).toBe(200);
  });

  test('a UCenter application\'s new key, then reload: one new key, the one shown still valid', async () => {
    const app = await hub.services.ucenter.apps.register({ name: 'Forum', url: 'http://forum.test' });
    const form = await formOn(admin, `${hub.url}/admin/ucenter`, `/admin/ucenter/${app.appId}/rotate-key`);
    const first = await (await admin.post(`${hub.url}/admin/ucenter/${app.appId}/rotate-key`, form)).text();
    const key = /data-testid="uc-key">([^<]+)</.exec(first)![1]!;
    const again = await admin.post(`${hub.url}/admin/ucenter/${app.appId}/rotate-key`, form);
    expect(again.status).toBe(409);
    expect(await again.text()).not.toContain('data-testid="uc-key"');
    expect((await hub.services.ucenter.apps.find(app.appId))!.key).toBe(key);
  });

  test('create an invite, then reload: one invite link made', async () => {
    const form = { ...(await formOn(admin, `${hub.url}/admin/users`, '/admin/invites')), email: '', days: '3' };
    expect((await admin.post(`${hub.url}/admin/invites`, form)).status).toBe(200);
    const again = await admin.post(`${hub.url}/admin/invites`, form);
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('data-testid="sent-once"');
    expect(await hub.services.audit.search({ event: 'admin.invite.create' })).toHaveLength(1);
  });
});
