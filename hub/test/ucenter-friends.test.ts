/**
 * UCenter's friend module (`uc_friend_*`) and `user/check_secmobile` at a hub that keeps neither
 * friend lists nor mobile numbers: answered as UCenter answers for a member with none, never
 * "Action not found!". Applications do arithmetic on these answers (UCenter Home and Discuz! 6/7
 * page their buddy lists by `uc_friend_totalnum()`, `ceil($num / $perpage)`), and on PHP 8 a text
 * there is a TypeError ("Unsupported operand types: string / int"): the page stopped. A text
 * compared with `> 0` is true on PHP 8, so "Action not found!" read as "this mobile number is
 * taken" to `uc_user_checksecmobile()`'s callers.
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { UcClient, ucUnserialize } from '../src/testing/ucenter-client.js';

describe('UCenter friend/* and user/check_secmobile', () => {
  let hub: RunningHub;
  let client: UcClient;
  let uid: number;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    const forum = await hub.services.ucenter.apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004' });
    uid = (await hub.services.users.create({ username: 'alice', email: 'alice@example.com', password: 'wonderland-123' })).uid!;
    client = new UcClient({ api: `${hub.url}/ucenter`, key: forum.key, appId: forum.appId });
  });
  afterAll(() => hub.close());

  it('friend/totalnum is 0 and friend/ls an empty list, in both directions', async () => {
    for (const direction of [0, 1, 3]) {
      expect(await client.call('friend', 'totalnum', { uid, direction })).toBe('0');
      const raw = await client.call('friend', 'ls', { uid, page: 1, pagesize: 10, totalnum: 0, direction });
      // UCenter's own answer for an empty list, byte for byte; uc_client's parser reads it as ''
      // (its root has no id), which `foreach`, `empty()` and `count()` callers take as none.
      expect(raw).toBe('<?xml version="1.0" encoding="ISO-8859-1"?>\r\n<root>\r\n</root>');
      expect(ucUnserialize(raw)).toBe('');
    }
  });

  it('friend/add and friend/delete change nothing and say so (0)', async () => {
    expect(await client.call('friend', 'add', { uid, friendid: 2, comment: 'hi' })).toBe('0');
    expect(await client.call('friend', 'delete', { uid, 'friendids[0]': 2 })).toBe('0');
    expect(await client.call('friend', 'nonsense', { uid })).toBe('Action not found!');
  });

  it('user/check_secmobile: no number is taken (0)', async () => {
    expect(await client.call('user', 'check_secmobile', { secmobicc: '86', secmobile: '13800000000' })).toBe('0');
  });
});
