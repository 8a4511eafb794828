/** UCenter applications in the admin console: warning, opt-in, key shown once, legacy hash count. */
import { TestBrowser, hiddenFieldsOf, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { legacyHashFrom } from '../src/users/legacy-hash.js';

const ADMIN = { login: 'root', password: 'admin-password-1' };

describe('admin console: UCenter applications', () => {
  let hub: RunningHub;
  let admin: TestBrowser;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.users.create({ username: 'root', email: 'root@example.com', password: ADMIN.password, roles: ['admin'] });
    await hub.services.users.importUser({ username: 'old', email: 'old@example.com', passwordHash: legacyHashFrom('0'.repeat(32), 's')!, uid: 900 });
    admin = new TestBrowser();
    const login = await admin.follow(`${hub.url}/login?next=${encodeURIComponent('/admin/ucenter')}`);
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(login.body)![1]!;
    const answer = await admin.post(`${hub.url}${action}`, { _csrf: inputValue(login.body, '_csrf'), ...ADMIN });
    await admin.follow(continueUrlOf(await answer.text(), hub.url));
  });
  afterAll(() => hub.close());

  async function page(): Promise<{ html: string; csrf: string }> {
    const response = await admin.get(`${hub.url}/admin/ucenter`);
    expect(response.status).toBe(200);
    const html = await response.text();
    return { html, csrf: inputValue(html, '_csrf') };
  }

  it('shows the RC4 / script-origin warning and the count of legacy hashes', async () => {
    const { html } = await page();
    expect(html).toMatch(/data-testid="ucenter-warning">[\s\S]*RC4 with a 64-bit/);
    expect(html).toMatch(/runs in the hub(&#39;|')s origin/);
    expect(html).toMatch(/data-testid="legacy-hashes">[^<]*<strong>1<\/strong>/);
  });

  it('refuses to register without the acknowledgement; registers with it and shows UC_KEY once', async () => {
    const { csrf } = await page();
    const form = { _csrf: csrf, name: 'Forum', url: 'http://forum.sso.test:5004', appId: '7', type: 'DISCUZX', synlogin: 'yes' };
    const refused = await admin.post(`${hub.url}/admin/ucenter`, form);
    expect(refused.status).toBe(400);
    await refused.text();
    expect(await hub.services.ucenter.apps.list()).toHaveLength(0);
    const registered = await admin.post(`${hub.url}/admin/ucenter`, { ...form, acceptRc4: 'yes' });
    const html = await registered.text();
    expect(registered.status).toBe(200);
    const app = await hub.services.ucenter.apps.require(7);
    expect(html).toContain(`data-testid="uc-key">${app.key}<`);
    const list = (await page()).html;
    expect(list).toMatch(/data-app-id="7"/);
    expect(list).not.toContain(app.key);
    const audit = await hub.services.audit.search({ client: 'ucenter:7' });
    expect(audit.map((entry) => entry.event)).toContain('admin.client.register');
  });

  it("notes an application on another site than the hub's, whose sign-ins and sign-outs the hub cannot reach (a forum helper's review in Chromium)", async () => {
    const far = await admin.post(`${hub.url}/admin/ucenter`, { _csrf: (await page()).csrf, name: 'Far', url: 'http://forum.example.org', appId: '8', type: 'DISCUZX', synlogin: 'yes', acceptRc4: 'yes' });
    expect(far.status).toBe(200);
    expect(await far.text()).toMatch(/data-testid="uc-cross-site">forum\.example\.org is another site than the hub(&#39;|')s 127\.0\.0\.1:\d+: [^<]*signing in or out at the hub does not reach this application/);
    // The hub's own host, another port: the same site (cookies know no ports).
    const near = await admin.post(`${hub.url}/admin/ucenter`, { _csrf: (await page()).csrf, name: 'Near', url: 'http://127.0.0.1:5999', appId: '9', type: 'DISCUZX', synlogin: 'yes', acceptRc4: 'yes' });
    expect(near.status).toBe(200);
    expect(await near.text()).not.toContain('uc-cross-site');
    for (const appId of [8, 9]) await hub.services.ucenter.apps.remove(appId);
  });

  it('says what is wrong with a refused application in the reader\'s language (a review: the console\'s UCenter form answered in English only)', async () => {
    for (const [language, expected] of [['en', 'The application URL is not a URL: not a url'], ['zh-CN', '应用地址不是有效的网址：not a url']] as const) {
      const refused = await admin.post(`${hub.url}/admin/ucenter`, { _csrf: (await page()).csrf, name: 'Bad', url: 'not a url', appId: '11', type: 'DISCUZX', acceptRc4: 'yes' }, { 'accept-language': language });
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain(expected);
    }
    const key = await admin.post(`${hub.url}/admin/ucenter`, { _csrf: (await page()).csrf, name: 'Bad', url: 'http://forum.sso.test', appId: '0', type: 'DISCUZX', acceptRc4: 'yes' }, { 'accept-language': 'zh-CN' });
    expect(await key.text()).toContain('应用 ID 必须是正整数。');
    expect(await hub.services.ucenter.apps.list()).toHaveLength(1);
  });

  it('shows a refused registration beside the form, in the console, with what was typed (an attacker review: a bare error page lost every field)', async () => {
    const typed = { name: 'Second forum', url: 'http://forum2.sso.test:5006/?x=1', appId: '12', type: 'DISCUZX', noteFile: 'api/uc.php', internalUrl: 'http://127.0.0.1:5006', charset: 'gbk', updatepw: 'yes', allowRegister: 'yes', acceptRc4: 'yes' };
    const refused = await admin.post(`${hub.url}/admin/ucenter`, { _csrf: (await page()).csrf, ...typed });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toMatch(/<title>Error: /);
    expect(html).toMatch(/data-testid="form-error">[^<]*query/);
    expect(html).toContain('data-testid="ucenter-apps"'); // the console's page, not the bare error page
    for (const name of ['name', 'url', 'appId', 'type', 'internalUrl'] as const) expect(html).toMatch(new RegExp(`name="${name}"[^>]* value="${typed[name].replace(/[.?]/g, '\\$&')}"`));
    expect(html).toMatch(/<option value="gbk" selected>/);
    expect(html).toMatch(/name="synlogin" value="yes">/); // left unticked
    expect(html).toMatch(/name="allowRegister" value="yes" checked>/);
    // Without the acknowledgement: beside the form too, nothing registered.
    const unacknowledged = await admin.post(`${hub.url}/admin/ucenter`, { _csrf: (await page()).csrf, ...typed, url: 'http://forum2.sso.test:5006', acceptRc4: '' });
    expect(unacknowledged.status).toBe(400);
    const second = await unacknowledged.text();
    expect(second).toMatch(/data-testid="form-error">/);
    expect(second).toContain('name="name" value="Second forum"');
    expect(await hub.services.ucenter.apps.find(12)).toBeUndefined();
  });

  it('rotates the key (shown once) and removes the application', async () => {
    const before = await hub.services.ucenter.apps.require(7);
    const rotated = await admin.post(`${hub.url}/admin/ucenter/7/rotate-key`, { _csrf: (await page()).csrf });
    const after = await hub.services.ucenter.apps.require(7);
    expect(after.key).not.toBe(before.key);
    const rotatedPage = await rotated.text();
    expect(rotatedPage).toContain(after.key);
    // Shown once: a note in place of the language switch, which would leave the page and lose it.
    expect(rotatedPage).toContain('data-testid="lang-held"');
    const removed = await admin.post(`${hub.url}/admin/ucenter/7/remove`, { _csrf: (await page()).csrf, confirmed: 'yes' });
    expect(removed.status).toBe(303);
    expect(await hub.services.ucenter.apps.find(7)).toBeUndefined();
  });
  it('edits an application in place from its page: UC_APPID, UC_KEY and the registration stay; a refused value keeps what was typed; a page of a registration since removed saves nothing (an operator review: only remove-and-register)', async () => {
    const first = await hub.services.ucenter.apps.register({ appId: 31, name: 'Old Forum', url: 'http://bbs.sso.test/old', updatepw: true });
    const list = (await page()).html;
    expect(list).toContain('href="/admin/ucenter/31" data-testid="edit-app"');
    const edit = await admin.get(`${hub.url}/admin/ucenter/31`);
    const html = await edit.text();
    expect(edit.status).toBe(200);
    expect(html).not.toContain(first.key);
    const form = hiddenFieldsOf(html, '/admin/ucenter/31');
    expect(form.generation).toBe(first.generation);

    const saved = await admin.post(`${hub.url}/admin/ucenter/31`, { ...form, name: 'Moved Forum', url: 'https://bbs.sso.test/', type: 'DISCUZX', noteFile: 'api/uc.php', internalUrl: '', charset: 'gbk', synlogin: 'yes', allowRegister: 'yes' });
    expect([saved.status, saved.headers.get('location')]).toEqual([303, '/admin/ucenter?done=ucenter-updated']);
    const after = await hub.services.ucenter.apps.require(31);
    expect(after).toMatchObject({ appId: 31, name: 'Moved Forum', url: 'https://bbs.sso.test', type: 'DISCUZX', charset: 'gbk', synlogin: true, updatepw: false, allowRegister: true, key: first.key, generation: first.generation });
    expect((await hub.services.audit.search({ client: 'ucenter:31' })).map((entry) => entry.event)).toContain('admin.client.update');

    // From the page as it is after the save (a page from before it is refused as stale: admin-ucenter-edit-race.test.ts).
    const saveForm = hiddenFieldsOf(await (await admin.get(`${hub.url}/admin/ucenter/31`)).text(), '/admin/ucenter/31');
    const refused = await admin.post(`${hub.url}/admin/ucenter/31`, { ...saveForm, name: 'Moved Forum', url: 'ftp://bbs.sso.test' });
    const page400 = await refused.text();
    expect(refused.status).toBe(400);
    expect(page400).toContain('data-testid="form-error"');
    expect(page400).toContain('value="ftp://bbs.sso.test"');
    expect((await hub.services.ucenter.apps.require(31)).url).toBe('https://bbs.sso.test');

    await hub.services.ucenter.apps.remove(31);
    await hub.services.ucenter.apps.register({ appId: 31, name: 'Another Forum', url: 'http://bbs.sso.test/another' });
    const stale = await admin.post(`${hub.url}/admin/ucenter/31`, { ...form, name: 'Moved Again', url: 'https://bbs.sso.test/' });
    expect(stale.status).toBe(409);
    expect(await stale.text()).toContain('was removed and registered again since this page was opened');
    expect((await hub.services.ucenter.apps.require(31)).name).toBe('Another Forum');
  });
});
