/**
 * UCenter `user/edit` with a new e-mail address that another account holds: an application
 * that may not create users (no `--allow-register`) gets the answer a free address gets, as
 * `user/check_email` and the account page answer. Before, it answered `-6` ("address taken"),
 * which Discuz!'s profile page shows to the member ("this e-mail address is already
 * registered"): any member of any forum could ask, with their own password, which addresses
 * have a hub account, one call each and without limit (the taken answer sent no mail and so
 * never met the mail limit), what `check_email` had been closed for (an attacker's review).
 */
import { randomUUID } from 'node:crypto';
import { startSmtpCatcher, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { UcClient } from '../src/testing/ucenter-client.js';

const PASSWORD = 'looking-glass-42';

describe('UCenter user/edit with an address another account holds (embedded store, real SMTP)', () => {
  let hub: RunningHub;
  let catcher: SmtpCatcher;
  let forum: UcClient;
  let registering: UcClient;

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    hub = await startTestHub('memory', { SMTP_URL: catcher.url, RECOVERY_MAILS_PER_ACCOUNT: '2' });
    const apps = hub.services.ucenter.apps;
    const plain = await apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004' });
    forum = new UcClient({ api: `${hub.url}/ucenter`, key: plain.key, appId: plain.appId });
    const open = await apps.register({ name: 'Registering forum', type: 'DISCUZX', url: 'http://open.sso.test:5005', allowRegister: true });
    registering = new UcClient({ api: `${hub.url}/ucenter`, key: open.key, appId: open.appId });
  });
  afterAll(async () => {
    await hub.close();
    await catcher.close();
  });

  async function newUser() {
    const username = `m${randomUUID().slice(0, 8)}`;
    const email = `${username}@example.test`;
    const user = await hub.services.users.create({ username, email, name: 'Member', password: PASSWORD });
    return { id: user.id, username, email };
  }

  const edit = (client: UcClient, username: string, email: string) =>
    client.call('user', 'edit', { username, oldpw: PASSWORD, newpw: '', email, ignoreoldpw: 0 });

  it('answers a taken address as a free one (1, then -5 past the mail limit for both), sends it nothing and changes nothing', async () => {
    const holder = await newUser();
    const member = await newUser();
    const free = `${member.username}-new@example.test`;
    expect(await forum.call('user', 'check_email', { email: holder.email })).toBe('1');

    const since = Date.now();
    expect(await edit(forum, member.username, holder.email)).toBe('1');
    expect(await edit(forum, member.username, free)).toBe('1');
    // The account's mail limit (2 here) is met by both alike: one answer for either address.
    expect(await edit(forum, member.username, holder.email)).toBe('-5');
    expect(await edit(forum, member.username, free)).toBe('-5');

    await catcher.waitFor(free, { since }); // the free address got its link
    await hub.services.emailChange.settled();
    expect(catcher.to(holder.email).filter((mail) => mail.receivedAt >= since)).toHaveLength(0);
    expect((await hub.services.users.findById(member.id))!.email).toBe(member.email);
    expect((await hub.services.users.findById(holder.id))!.email).toBe(holder.email);
  });

  it('an application that may create users still hears -6, as its check_email tells it', async () => {
    const holder = await newUser();
    const member = await newUser();
    expect(await registering.call('user', 'check_email', { email: holder.email })).toBe('-6');
    expect(await edit(registering, member.username, holder.email)).toBe('-6');
    expect((await hub.services.users.findById(member.id))!.email).toBe(member.email);
  });
});
