/**
 * ASVS 5 §6.3.7: the owner is told when the account's password or two-step sign-in changes,
 * whoever changed it. The account page and a reset link did tell; an admin's reset in the
 * console and a UCenter application's `user/edit` did not (a review): a password changed at a
 * forum by whoever had phished the old one signed the owner out everywhere without a word.
 * Real Redis, mail through a real SMTP server.
 */
import { randomUUID } from 'node:crypto';
import { inputValue } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { totpCode } from '../src/testing/totp.js';
import { UcClient } from '../src/testing/ucenter-client.js';
import { runCli } from '../src/cli.js';
import { TEST_REDIS_URL } from '../src/testing/test-hub.js';
import { hubWithMailbox } from './support.js';

const PASSWORD = 'looking-glass-42';
const STRONG = 'tulgey-wood-burbled-77';

describe('the owner is told of a new password or two-step reset, whoever made it (redis, real SMTP)', () => {
  const mailbox = hubWithMailbox();

  async function newUser(locale?: string) {
    const username = `n${randomUUID().slice(0, 8)}`;
    const email = `${username}@example.test`;
    const { users, hasher } = mailbox.hub.services;
    // A sign-up keeps the language of its page; an account an admin made has none (English).
    const user = locale
      ? await users.createSignedUp({ username, email, name: 'Owner', passwordHash: await hasher.hash(PASSWORD), locale })
      : await users.create({ username, email, name: 'Owner', password: PASSWORD });
    return { id: user.id, username, email };
  }

  async function adminBrowser() {
    const admin = await newUser();
    await mailbox.hub.services.users.update(admin.id, { roles: ['admin'] });
    return signInAtPortal(mailbox.hub, admin.username, PASSWORD, undefined, '/admin');
  }

  test('an admin\'s password reset in the console mails the owner "your password was changed", in the owner\'s language', async () => {
    const { hub, catcher } = mailbox;
    const owner = await newUser('zh-CN');
    const admin = await adminBrowser();
    const page = await (await admin.get(`${hub.url}/admin/users/${owner.id}`)).text();
    const since = Date.now();
    const answer = await admin.post(`${hub.url}/admin/users/${owner.id}/password`, { _csrf: inputValue(page, '_csrf'), password: 'an-admin-set-pw-1', confirm: 'an-admin-set-pw-1' });
    await answer.arrayBuffer();
    expect(answer.status).toBe(303);
    const mail = await catcher.waitFor(owner.email, { since });
    expect(mail.subject).toBe('您的密码已更改');
    expect(mail.links).toContain(`${hub.url}/password/forgot`);
  });

  test('an admin\'s two-step reset in the console mails the owner "two-step sign-in was turned off"; none when it was off', async () => {
    const { hub, catcher } = mailbox;
    const owner = await newUser();
    const { twoStep } = hub.services;
    const { secret } = await twoStep.beginEnrolment(owner.id, owner.username, 'session-1');
    expect('codes' in (await twoStep.confirmEnrolment(owner.id, 'session-1', totpCode(secret)))).toBe(true);
    const admin = await adminBrowser();
    const page = await (await admin.get(`${hub.url}/admin/users/${owner.id}`)).text();
    const since = Date.now();
    const answer = await admin.post(`${hub.url}/admin/users/${owner.id}/two-step/reset`, { _csrf: inputValue(page, '_csrf') });
    await answer.arrayBuffer();
    expect(answer.status).toBe(303);
    const mail = await catcher.waitFor(owner.email, { since });
    expect(mail.subject).toBe('Two-step sign-in on your account changed');
    expect(mail.text).toContain('turned off');
    // Again, with two-step already off: nothing changed, nothing is sent.
    const again = await admin.post(`${hub.url}/admin/users/${owner.id}/two-step/reset`, { _csrf: inputValue(page, '_csrf') });
    await again.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(catcher.to(owner.email).filter((m) => m.receivedAt >= since)).toHaveLength(1);
  });

  test('the CLI\'s users reset-two-step mails the owner too, and says so; without mail settings it says the owner was not told', async () => {
    // The note of an earlier session: the console's reset mailed the owner, the CLI's mailed nobody.
    const { hub, catcher } = mailbox;
    const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX, LOG_LEVEL: 'silent' };
    const { twoStep } = hub.services;
    for (const [extra, expected] of [[{ SMTP_URL: hub.config.SMTP_URL! }, 'the owner was mailed'], [{}, 'the owner was not mailed: this command has no mail settings']] as const) {
      const owner = await newUser('zh-CN');
      const { secret } = await twoStep.beginEnrolment(owner.id, owner.username, 'session-1');
      expect('codes' in (await twoStep.confirmEnrolment(owner.id, 'session-1', totpCode(secret)))).toBe(true);
      const since = Date.now();
      const lines: string[] = [];
      expect(await runCli(['users', 'reset-two-step', owner.username], { ...env, ...extra }, (line) => lines.push(line))).toBe(0);
      expect(lines.join('\n')).toContain(expected);
      expect(await twoStep.isEnabled(owner.id)).toBe(false);
      if ('SMTP_URL' in extra) {
        const mail = await catcher.waitFor(owner.email, { since, timeoutMs: 5000 });
        expect(mail.subject).toBe('您账号的两步验证已更改');
      } else {
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(catcher.to(owner.email).filter((m) => m.receivedAt >= since)).toHaveLength(0);
      }
    }
  });

  test('a new password through a UCenter application\'s user/edit mails the owner "your password was changed"', async () => {
    const { hub, catcher } = mailbox;
    const forum = await hub.services.ucenter.apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004' });
    const client = new UcClient({ api: `${hub.url}/ucenter`, key: forum.key, appId: forum.appId, timeoutMs: 30_000 }); // a loaded machine: an argon2id hash and the sign-out everywhere
    const owner = await newUser();
    const since = Date.now();
    expect(await client.call('user', 'edit', { username: owner.username, oldpw: PASSWORD, newpw: STRONG, email: '', ignoreoldpw: 0 })).toBe('1');
    const mail = await catcher.waitFor(owner.email, { since });
    expect(mail.subject).toBe('Your password was changed');
    expect(mail.text).toContain('every session was signed out');
    expect(mail.links).toContain(`${hub.url}/password/forgot`);
  });
});
