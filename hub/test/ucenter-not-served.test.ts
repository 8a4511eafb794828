/**
 * UCenter actions for what the hub does not keep (credit exchange, another application's credit,
 * the mail queue, feeds): answered 0, UCenter's "not done", never "Action not found!". Discuz!
 * X's credit exchange (`home.php?mod=spacecp&ac=credit&op=exchange`, offered while the forum
 * keeps its old UCenter's credit settings) runs `if(!$ucresult) showmessage('extcredits_dataerror')`
 * and then takes the member's credits: a text is true in PHP, so the member lost the credits,
 * read "transaction succeeded", and nothing reached the other application (a review with X3.5's
 * own uc_client against the hub). UCenter itself answers 0 where no exchange rule is set.
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { UcClient } from '../src/testing/ucenter-client.js';

describe('UCenter actions the hub does not serve: credit/request, user/getcredit, mail/add, feed/add', () => {
  let hub: RunningHub;
  let client: UcClient;
  let older: UcClient;
  let uid: number;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    const { apps } = hub.services.ucenter;
    const forum = await apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004' });
    const old = await apps.register({ name: 'Old forum', type: 'DISCUZX', url: 'http://old.sso.test:5005', insecureOperation: true });
    uid = (await hub.services.users.create({ username: 'alice', email: 'alice@example.com', password: 'wonderland-123' })).uid!;
    client = new UcClient({ api: `${hub.url}/ucenter`, key: forum.key, appId: forum.appId });
    older = new UcClient({ api: `${hub.url}/ucenter`, key: old.key, appId: old.appId });
  });
  afterAll(() => hub.close());

  it("credit/request (uc_credit_exchange_request) is 0, not a text Discuz! takes as an exchange done", async () => {
    expect(await client.call('credit', 'request', { uid, from: 1, to: 2, toappid: 2, amount: 10 })).toBe('0');
  });

  it('an older uc_client (insecureOperation) gets 0 too, not "Access denied…", which is as true', async () => {
    expect(await older.call('credit', 'request', { uid, from: 1, to: 2, toappid: 2, amount: 10 }, { unbound: true })).toBe('0');
  });

  it('user/getcredit, mail/add and feed/add are 0; an unknown action stays "Action not found!"', async () => {
    expect(await client.call('user', 'getcredit', { appid: 2, uid, credit: 1 })).toBe('0');
    expect(await client.call('mail', 'add', { uids: String(uid), emails: '', subject: 's', message: 'm', frommail: '', charset: 'utf-8', htmlon: 0, level: 1 })).toBe('0');
    expect(await client.call('feed', 'add', { icon: 'thread', appid: 1, uid, username: 'alice', title_template: 't' })).toBe('0');
    expect(await client.call('credit', 'nonsense', { uid })).toBe('Action not found!');
  });
});
