/**
 * Discuz! X decides from `app/ls` whether it syncs at all: its setting cache
 * (source/function/cache/cache_setting.php) sets `allowsynlogin` only while the list holds another
 * application with `synlogin` on, and its sign-in and sign-out call uc_user_synlogin() and
 * uc_user_synlogout() only under that setting. A forum that was the hub's only UCenter
 * application heard of none (the hub's own entry was in `updateapps` alone), so it never asked
 * for the sign-out scripts that sign the browser out of the hub's subsites. That computation,
 * written from Discuz!'s rule, is checked here against the hub's answer.
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { UcClient, ucUnserialize } from '../src/testing/ucenter-client.js';

/** Discuz! X's rule: its own row's synlogin (1 when absent), and some other row with synlogin. */
function discuzAllowsSynlogin(list: Record<string, Record<string, string>>, appId: number): boolean {
  const own = list[String(appId)]?.synlogin ?? '1';
  const others = Object.values(list).some((row) => row.appid !== String(appId) && row.synlogin && row.synlogin !== '0');
  return own !== '0' && own !== '' && others;
}

describe('app/ls and Discuz!\'s allowsynlogin', () => {
  let hub: RunningHub;
  afterEach(() => hub.close());

  it('a forum that is the only UCenter application still syncs: the hub is in the list (app id 0, synlogin 1), in UCenter\'s columns', async () => {
    hub = await startTestHub('memory');
    const forum = await hub.services.ucenter.apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004' });
    const client = new UcClient({ api: `${hub.url}/ucenter`, key: forum.key, appId: forum.appId });
    const list = ucUnserialize(await client.call('app', 'ls')) as Record<string, Record<string, string>>;
    expect(list['0']).toEqual({ appid: '0', type: 'OTHER', name: 'sso-hub', url: hub.url, tagtemplates: '', viewprourl: '', synlogin: '1' });
    expect(discuzAllowsSynlogin(list, forum.appId)).toBe(true);
  });

  it('a forum registered without synlogin stays off', async () => {
    hub = await startTestHub('memory');
    const forum = await hub.services.ucenter.apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004', synlogin: false });
    const client = new UcClient({ api: `${hub.url}/ucenter`, key: forum.key, appId: forum.appId });
    const list = ucUnserialize(await client.call('app', 'ls')) as Record<string, Record<string, string>>;
    expect(discuzAllowsSynlogin(list, forum.appId)).toBe(false);
  });
});
