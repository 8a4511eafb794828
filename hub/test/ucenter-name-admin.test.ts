/**
 * UCenter's name administration (`uc_user_addprotected`, `uc_user_deleteprotected`,
 * `uc_user_getprotected`, `uc_user_merge`, `uc_user_merge_remove`): the hub keeps no protected
 * names and merges no accounts. It answered "Action not found!", which PHP 8 takes as done:
 * after `$uid = uc_user_merge(…)`, a caller's `if($uid <= 0)` compares that text with 0 as a
 * string ("A" sorts after "0"), so the merge read as done with the text for a uid (Discuz! 6/7's
 * rename at sign-in and other UCenter clients do this), and `uc_user_getprotected()` read no list.
 * Found running Discuz! X3.5's own uc_client with php-cli against the hub. Now UCenter's words
 * for "not done" and "none": -1, 0 and an empty list.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { UcClient } from '../src/testing/ucenter-client.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

let hub: RunningHub;
let forum: UcClient;
let older: UcClient;

beforeAll(async () => {
  hub = await startTestHub('memory');
  const { apps } = hub.services.ucenter;
  const app = await apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test', allowRegister: true });
  const old = await apps.register({ name: 'Old forum', type: 'DISCUZX', url: 'http://old.sso.test', insecureOperation: true });
  forum = new UcClient({ api: `${hub.url}/ucenter`, key: app.key, appId: app.appId });
  older = new UcClient({ api: `${hub.url}/ucenter`, key: old.key, appId: old.appId });
  await hub.services.users.create({ username: 'alice', email: 'alice@example.com', password: 'wonderland-123' });
});
afterAll(() => hub.close());

it('user/merge answers 0 ("not done"), which a caller\'s `$uid <= 0` takes as not done; nothing is created', async () => {
  const before = await hub.services.users.count();
  expect(await forum.call('user', 'merge', { oldusername: 'alice', newusername: 'alice2', uid: 7, password: 'pw-123456', email: 'a2@example.com' })).toBe('0');
  expect(await forum.call('user', 'merge_remove', { username: 'alice' })).toBe('0');
  expect(await hub.services.users.count()).toBe(before);
  expect(await hub.services.users.findByLogin('alice2')).toBeUndefined();
});

it('protected names: adding or removing one answers -1 (UCenter\'s failure), the list is empty', async () => {
  expect(await forum.call('user', 'addprotected', { username: 'admin', admin: '' })).toBe('-1');
  expect(await forum.call('user', 'deleteprotected', { username: 'admin' })).toBe('-1');
  const list = await forum.call('user', 'getprotected', { 1: 1 });
  // UCenter's XML of an empty list (uc_unserialize reads it as '', as it reads UCenter's own).
  expect(list).toMatch(/^<\?xml [^>]*\?>\s*<root>\s*<\/root>$/);
});

it('an older uc_client (insecureOperation) gets the same answers: they change nothing', async () => {
  expect(await older.call('user', 'merge', { oldusername: 'alice', newusername: 'alice3', uid: 7, password: 'pw', email: 'a3@example.com' }, { unbound: true })).toBe('0');
  expect(await older.call('user', 'addprotected', { username: 'admin', admin: '' }, { unbound: true })).toBe('-1');
});
