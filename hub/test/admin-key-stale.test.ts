/**
 * Two admins (or two tabs) press "Rotate sync key" on a subsite's page, or "New key" on the
 * UCenter page, both opened before either press: the second press is refused (409, inside the
 * console) and the key the first one showed stays the one in use. Before, each page's own `_once`
 * let both through: the sync key rotated twice, and the key the first admin was putting into the
 * subsite was replaced by one shown only in the other tab, so once the overlap ended (a day later,
 * with no warning) the hub signed every sync code with a key that subsite did not have; the UCenter
 * key the first admin was putting into the forum's UC_KEY had already stopped. A page
 * opened after the rotation rotates as before (as a client secret's, admin-rotate-stale.test.ts).
 */
import { hiddenFieldsOf } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { signedInAdmin } from './support.js';

describe('console: rotating a key from a stale page', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.clients.register({
      clientId: 'bbs', name: 'Forum', redirectUris: ['http://127.0.0.1:9/cb'],
      syncLoginUrl: 'http://127.0.0.1:9/sso/synclogin', syncLogoutUrl: 'http://127.0.0.1:9/sso/synclogout',
    });
    await hub.services.ucenter.apps.register({ appId: 7, name: 'Discuz', url: 'http://127.0.0.1:9/dz' });
  }, 60_000);
  afterAll(() => hub.close());

  test('a subsite’s sync key: the second rotation is refused and the first one’s key stays', async () => {
    const first = await signedInAdmin(hub);
    const second = await signedInAdmin(hub, { login: 'second', password: 'admin-password-2' });
    const page = `${hub.url}/admin/clients/bbs`;
    const action = '/admin/clients/bbs/rotate-sync-key';
    const before = (await hub.services.clients.findUncached('bbs'))!.sync!.key;
    const formOne = hiddenFieldsOf(await (await first.get(page)).text(), action);
    const formTwo = hiddenFieldsOf(await (await second.get(page)).text(), action);

    const one = await first.post(`${hub.url}${action}`, formOne);
    expect(one.status).toBe(200);
    const shownKey = /data-testid="sync-key">([^<]+)</.exec(await one.text())![1]!;

    const two = await second.post(`${hub.url}${action}`, formTwo);
    expect(two.status).toBe(409);
    const text = await two.text();
    expect(text).toContain('was rotated since this page was opened');
    expect(text).not.toContain('data-testid="sync-key"');
    const sync = (await hub.services.clients.findUncached('bbs'))!.sync!;
    expect(sync.key).toBe(shownKey);
    expect(sync.previousKey).toBe(before);

    // Opened again, the page rotates.
    const again = hiddenFieldsOf(await (await second.get(page)).text(), action);
    expect((await second.post(`${hub.url}${action}`, again)).status).toBe(200);
  });

  test('a UCenter application’s key: the second “New key” is refused and the first one’s key stays', async () => {
    const first = await signedInAdmin(hub, { login: 'third', password: 'admin-password-3' });
    const second = await signedInAdmin(hub, { login: 'fourth', password: 'admin-password-4' });
    const page = `${hub.url}/admin/ucenter`;
    const action = '/admin/ucenter/7/rotate-key';
    const formOne = hiddenFieldsOf(await (await first.get(page)).text(), action);
    const formTwo = hiddenFieldsOf(await (await second.get(page)).text(), action);

    const one = await first.post(`${hub.url}${action}`, formOne);
    expect(one.status).toBe(200);
    const shownKey = /data-testid="uc-key">([^<]+)</.exec(await one.text())![1]!;

    const two = await second.post(`${hub.url}${action}`, formTwo);
    expect(two.status).toBe(409);
    const text = await two.text();
    expect(text).toContain('was given a new key since this page was opened');
    expect(text).not.toContain('data-testid="uc-key"');
    expect((await hub.services.ucenter.apps.find(7))!.key).toBe(shownKey);

    const again = hiddenFieldsOf(await (await second.get(page)).text(), action);
    expect((await second.post(`${hub.url}${action}`, again)).status).toBe(200);
  });

  // An upgrade review: a page opened on a hub of the version before these fields (a rolling update,
  // a tab left open over it) has `_once` but no `_syncKeySeen`/`_keySeen`. Pressed after a rotation
  // made since (the CLI), it rotated again without a word: the key that rotation showed was replaced.
  test('a page from before the update (no _syncKeySeen / _keySeen) is refused, and the key stays', async () => {
    const admin = await signedInAdmin(hub, { login: 'fifth', password: 'admin-password-5' });
    const syncAction = '/admin/clients/bbs/rotate-sync-key';
    const { _syncKeySeen: _dropped, ...olderSync } = hiddenFieldsOf(await (await admin.get(`${hub.url}/admin/clients/bbs`)).text(), syncAction);
    expect(olderSync._once).toBeTruthy();
    const rotatedMeanwhile = await hub.services.clients.rotateSyncKey('bbs', 3600);
    const sync = await admin.post(`${hub.url}${syncAction}`, olderSync);
    expect(sync.status).toBe(409);
    expect(await sync.text()).toContain('was opened before the hub was updated');
    expect((await hub.services.clients.findUncached('bbs'))!.sync!.key).toBe(rotatedMeanwhile.sync!.key);

    const ucAction = '/admin/ucenter/7/rotate-key';
    const { _keySeen: _droppedToo, ...olderUc } = hiddenFieldsOf(await (await admin.get(`${hub.url}/admin/ucenter`)).text(), ucAction);
    expect(olderUc._once).toBeTruthy();
    const newKeyMeanwhile = (await hub.services.ucenter.apps.rotateKey(7)).key;
    const uc = await admin.post(`${hub.url}${ucAction}`, olderUc);
    expect(uc.status).toBe(409);
    expect(await uc.text()).toContain('was opened before the hub was updated');
    expect((await hub.services.ucenter.apps.find(7))!.key).toBe(newKeyMeanwhile);

    // Opened again, the pages rotate.
    expect((await admin.post(`${hub.url}${syncAction}`, hiddenFieldsOf(await (await admin.get(`${hub.url}/admin/clients/bbs`)).text(), syncAction))).status).toBe(200);
    expect((await admin.post(`${hub.url}${ucAction}`, hiddenFieldsOf(await (await admin.get(`${hub.url}/admin/ucenter`)).text(), ucAction))).status).toBe(200);
  });
});
