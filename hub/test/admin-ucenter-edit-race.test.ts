/**
 * Two admins (or two tabs) edit one UCenter application from pages opened before either save:
 * the second save is refused (409, the form again with what was typed and "changed since this page
 * was opened"), and the first one's change stays. Before, the second save put back silently what
 * the first had changed (an exploratory review: a forum's new address, saved in one tab, was back to
 * the old one after a name change in the other, and its notes went there). Saving the form that
 * answered applies it on purpose; a save asking for the settings there are now is no conflict.
 */
import { hiddenFieldsOf } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { signedInAdmin } from './support.js';

/** The edit form as a browser would send it: its hidden fields and every value it shows. */
function editForm(html: string): Record<string, string> {
  const form = hiddenFieldsOf(html, '/admin/ucenter/5');
  const value = (name: string) => new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(html)?.[1] ?? '';
  const checked = (name: string) => (new RegExp(`name="${name}" value="yes" checked`).test(html) ? { [name]: 'yes' } : {});
  return { ...form, name: value('name'), url: value('url'), type: value('type'), noteFile: value('noteFile'), internalUrl: value('internalUrl'), charset: 'utf-8', ...checked('synlogin'), ...checked('updatepw'), ...checked('allowRegister') };
}

describe('console: editing a UCenter application from a stale page', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.ucenter.apps.register({ appId: 5, name: 'Discuz', url: 'http://127.0.0.1:9/old' });
  }, 60_000);
  afterAll(() => hub.close());

  test('the second save is refused and the first one’s change stays; saving again applies it', async () => {
    const first = await signedInAdmin(hub);
    const second = await signedInAdmin(hub, { login: 'second', password: 'admin-password-2' });
    const page = `${hub.url}/admin/ucenter/5`;
    const formOne = editForm(await (await first.get(page)).text());
    const formTwo = editForm(await (await second.get(page)).text());

    expect((await first.post(page, { ...formOne, url: 'http://127.0.0.1:9/new' })).status).toBe(303);
    const two = await second.post(page, { ...formTwo, name: 'Discuz Renamed' });
    const html = await two.text();
    expect(two.status).toBe(409);
    expect(html).toContain('was changed since this page was opened');
    expect(html).toContain('value="Discuz Renamed"');
    expect(await hub.services.ucenter.apps.find(5)).toMatchObject({ name: 'Discuz', url: 'http://127.0.0.1:9/new' });

    // The answer's form is of the settings as they are now: saved again, it applies what was typed.
    expect((await second.post(page, { ...editForm(html), url: 'http://127.0.0.1:9/new' })).status).toBe(303);
    expect(await hub.services.ucenter.apps.find(5)).toMatchObject({ name: 'Discuz Renamed', url: 'http://127.0.0.1:9/new' });
  });

  test('a stale form that also holds a refused value is told of the change, not only of that value', async () => {
    const admin = await signedInAdmin(hub, { login: 'fourth', password: 'admin-password-4' });
    const page = `${hub.url}/admin/ucenter/5`;
    const stale = editForm(await (await admin.get(page)).text());
    await hub.services.ucenter.apps.update(5, { noteFile: 'uc_client/api/uc.php' });
    const answer = await admin.post(page, { ...stale, name: '' });
    expect(answer.status).toBe(409);
    expect(await answer.text()).toContain('was changed since this page was opened');
  });

  test('a stale save asking for the settings there are now is no conflict', async () => {
    const admin = await signedInAdmin(hub, { login: 'third', password: 'admin-password-3' });
    const page = `${hub.url}/admin/ucenter/5`;
    const stale = editForm(await (await admin.get(page)).text());
    await hub.services.ucenter.apps.update(5, { name: 'Discuz Again' });
    const answer = await admin.post(page, { ...stale, name: 'Discuz Again' });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/admin/ucenter?done=ucenter-unchanged');
  });
});
