/**
 * The console's actions that cannot be undone ask first: delete a user, remove a subsite, remove a
 * UCenter application. Their buttons acted at one click (an exploratory review of the console): a
 * slip deleted an account and sent its forced logout to every subsite. The button's POST now
 * answers a page that says what will happen, whose own form (the same POST with `confirmed=yes`)
 * acts; "Cancel" goes back to the record's page.
 */
import { TestBrowser, hiddenFieldsOf } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { signedInAdmin } from './support.js';

/** The button's form on `url` (`action`), sent as the browser sends it: the confirmation page, and the form on it. */
async function pressButton(admin: TestBrowser, url: string, action: string): Promise<{ status: number; html: string; confirm: Record<string, string> }> {
  const form = hiddenFieldsOf(await (await admin.get(url)).text(), action);
  expect(form.confirmed).toBeUndefined();
  const answer = await admin.post(url.replace(/\/admin\/.*/, action), form);
  const html = await answer.text();
  return { status: answer.status, html, confirm: answer.status === 200 ? hiddenFieldsOf(html, action) : {} };
}

describe.each(STORE_KINDS)('irreversible console actions ask first, on %s', (kind) => {
  let hub: RunningHub;
  let admin: TestBrowser;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    admin = await signedInAdmin(hub);
  });
  afterAll(() => hub.close());

  test('delete a user: the button asks, naming the account and what happens; nothing is deleted until the confirmation', async () => {
    const user = await hub.services.users.create({ username: 'carol', email: 'carol@example.test', name: 'Carol Ng', password: 'carol-password-1' });
    const page = `${hub.url}/admin/users/${user.id}`;
    const asked = await pressButton(admin, page, `/admin/users/${user.id}/delete`);
    expect(asked.status).toBe(200);
    expect(asked.html).toContain('Delete Carol Ng (carol)?');
    expect(asked.html).toContain('data-testid="confirm-consequences"');
    expect(asked.html).toContain('userdelete');
    expect(asked.html).toContain(`href="/admin/users/${user.id}" data-testid="confirm-cancel"`);
    expect(asked.html).toContain('class="admin-nav"');
    expect(asked.confirm).toMatchObject({ confirmed: 'yes' });
    expect(await hub.services.users.findById(user.id)).toBeDefined();
    expect(await hub.services.audit.search({ event: 'admin.user.delete', user: user.id })).toHaveLength(0);

    const done = await admin.post(`${hub.url}/admin/users/${user.id}/delete`, asked.confirm);
    expect([done.status, done.headers.get('location')]).toEqual([303, '/admin/users?done=deleted']);
    expect(await hub.services.users.findById(user.id)).toBeUndefined();
    expect(await hub.services.audit.search({ event: 'admin.user.delete', user: user.id })).toHaveLength(1);
  });

  test('a user named by username on the button’s address: the confirmation names the account’s own id', async () => {
    const user = await hub.services.users.create({ username: 'dan', email: 'dan@example.test', name: 'Dan', password: 'dan-password-1' });
    const csrf = hiddenFieldsOf(await (await admin.get(`${hub.url}/admin/users/${user.id}`)).text(), `/admin/users/${user.id}/delete`);
    const asked = await admin.post(`${hub.url}/admin/users/dan/delete`, csrf);
    expect(hiddenFieldsOf(await asked.text(), `/admin/users/${user.id}/delete`)).toMatchObject({ confirmed: 'yes' });
    expect(await hub.services.users.findById(user.id)).toBeDefined();
  });

  test('remove a subsite: asked first, then removed', async () => {
    await hub.services.clients.register({ clientId: 'going', name: 'Going Away', redirectUris: ['http://127.0.0.1:9/cb'] });
    const asked = await pressButton(admin, `${hub.url}/admin/clients/going`, '/admin/clients/going/remove');
    expect(asked.status).toBe(200);
    expect(asked.html).toContain('Remove the subsite Going Away (going)?');
    expect(asked.html).toContain('href="/admin/clients/going" data-testid="confirm-cancel"');
    expect(await hub.services.clients.findUncached('going')).toBeDefined();
    const done = await admin.post(`${hub.url}/admin/clients/going/remove`, asked.confirm);
    expect([done.status, done.headers.get('location')]).toEqual([303, '/admin/clients?done=client-removed']);
    expect(await hub.services.clients.findUncached('going')).toBeUndefined();
  });

  test('a subsite removed and registered again under the same id after the confirmation page was shown: the new registration is not removed (a 409 page saying so); its own confirmation removes it', async () => {
    await hub.services.clients.register({ clientId: 'reborn', name: 'First Life', redirectUris: ['http://127.0.0.1:9/cb'] });
    const asked = await pressButton(admin, `${hub.url}/admin/clients/reborn`, '/admin/clients/reborn/remove');
    expect(asked.confirm.generation).toMatch(/^[\w-]{8,}$/);
    // Another admin removes it and registers a new site under the same id meanwhile.
    await hub.services.clients.remove('reborn');
    await hub.services.clients.register({ clientId: 'reborn', name: 'Second Life', redirectUris: ['http://127.0.0.1:9/cb2'] });
    const refused = await admin.post(`${hub.url}/admin/clients/reborn/remove`, asked.confirm);
    const html = await refused.text();
    expect(refused.status).toBe(409);
    expect(html).toContain('was removed and registered again since this page was opened');
    expect(html).toContain('class="admin-nav"');
    expect((await hub.services.clients.findUncached('reborn'))?.name).toBe('Second Life');
    const again = await pressButton(admin, `${hub.url}/admin/clients/reborn`, '/admin/clients/reborn/remove');
    expect(again.confirm.generation).not.toBe(asked.confirm.generation);
    const done = await admin.post(`${hub.url}/admin/clients/reborn/remove`, again.confirm);
    expect(done.status).toBe(303);
    expect(await hub.services.clients.findUncached('reborn')).toBeUndefined();
  });

  test('a UCenter application removed and registered again under the same app id after the confirmation page: the new one is not removed (409)', async () => {
    await hub.services.ucenter.apps.register({ appId: 43, name: 'First Forum', url: 'http://127.0.0.1:9/forum' });
    const asked = await pressButton(admin, `${hub.url}/admin/ucenter`, '/admin/ucenter/43/remove');
    expect(asked.confirm.generation).toMatch(/^[\w-]{8,}$/);
    await hub.services.ucenter.apps.remove(43);
    await hub.services.ucenter.apps.register({ appId: 43, name: 'Second Forum', url: 'http://127.0.0.1:9/forum2' });
    const refused = await admin.post(`${hub.url}/admin/ucenter/43/remove`, asked.confirm);
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('was removed and registered again since this page was opened');
    expect((await hub.services.ucenter.apps.find(43))?.name).toBe('Second Forum');
  });

  test('remove a UCenter application: asked first, then removed; one that is gone already is a 404 page', async () => {
    await hub.services.ucenter.apps.register({ appId: 41, name: 'Old Forum', url: 'http://127.0.0.1:9/forum' });
    const asked = await pressButton(admin, `${hub.url}/admin/ucenter`, '/admin/ucenter/41/remove');
    expect(asked.status).toBe(200);
    expect(asked.html).toContain('Remove the UCenter application 41 (Old Forum)?');
    expect(await hub.services.ucenter.apps.find(41)).toBeDefined();
    const done = await admin.post(`${hub.url}/admin/ucenter/41/remove`, asked.confirm);
    // Its own notice: before, the UCenter page said "Subsite removed." (an exploratory review).
    expect([done.status, done.headers.get('location')]).toEqual([303, '/admin/ucenter?done=ucenter-removed']);
    expect(await (await admin.get(`${hub.url}/admin/ucenter?done=ucenter-removed`)).text()).toContain('UCenter application removed');
    expect(await hub.services.ucenter.apps.find(41)).toBeUndefined();
    expect((await admin.post(`${hub.url}/admin/ucenter/41/remove`, asked.confirm)).status).toBe(404);
  });

  test('in Chinese, the confirmation is in Chinese', async () => {
    const user = await hub.services.users.create({ username: 'wang', email: 'wang@example.test', name: '王五', password: 'wang-password-1' });
    const form = hiddenFieldsOf(await (await admin.get(`${hub.url}/admin/users/${user.id}`)).text(), `/admin/users/${user.id}/delete`);
    admin.cookies(hub.url).set('lang', 'zh-CN');
    try {
      const asked = await admin.post(`${hub.url}/admin/users/${user.id}/delete`, form);
      expect(await asked.text()).toContain('删除 王五（wang）？');
    } finally {
      admin.cookies(hub.url).delete('lang');
    }
    await hub.services.users.delete(user.id);
  });
});
