/**
 * Changing the e-mail address on the account page (issue 13): the current password is
 * required, a single-use link (digest at rest) goes to the NEW address, a notice to the OLD
 * one, the address changes only when the link is used and is then verified
 * (`email_verified`). Real Redis, real SMTP server in-process.
 */
import { createHash, randomUUID } from 'node:crypto';
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startSmtpCatcher, type CaughtMail, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { UcClient } from '../src/testing/ucenter-client.js';
import type { RedisStore } from '../src/store/redis.js';
import { authUrl, basic, codeRequest, postForm, walk, postAccountForm } from './support.js';
import { scanKeys } from '../src/store/redis-client.js';

const PASSWORD = 'looking-glass-42';
const REDIRECT = 'http://rp.test/cb';

describe('Change e-mail (redis, real SMTP)', () => {
  let hub: RunningHub;
  let catcher: SmtpCatcher;
  let rpAuth: string;

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    hub = await startTestHub('redis', { SMTP_URL: catcher.url });
    const rp = await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT] });
    rpAuth = basic('rp', rp.clientSecret!);
  });
  afterAll(async () => {
    await hub.close();
    await catcher.close();
  });

  async function newUser() {
    const username = `u${randomUUID().slice(0, 8)}`;
    const email = `${username}@old.example.test`;
    const user = await hub.services.users.create({ username, email, name: 'Alice', password: PASSWORD });
    return { id: user.id, username, email, browser: await signInAtPortal(hub, username, PASSWORD) };
  }

  async function requestChange(browser: TestBrowser, email: string, current = PASSWORD) {
    const page = await browser.get(`${hub.url}/account`);
    const html = await page.text();
    const answer = await postAccountForm(browser, `${hub.url}/account/email`, { _csrf: inputValue(html, '_csrf'), email, current });
    return { status: answer.status, location: answer.headers.get('location'), body: await answer.text() };
  }

  function confirmLinkOf(mail: CaughtMail): string {
    const link = mail.links.find((candidate) => candidate.startsWith(`${hub.url}/account/email/confirm?token=`));
    if (!link) throw new Error(`no confirmation link in: ${mail.text}`);
    return link;
  }

  async function openAndConfirm(link: string, browser = new TestBrowser()) {
    const page = await browser.get(link);
    const html = await page.text();
    if (page.status !== 200) return { status: page.status, body: html };
    const answer = await browser.post(`${hub.url}/account/email/confirm`, { _csrf: inputValue(html, '_csrf'), token: inputValue(html, 'token') });
    return { status: answer.status, body: await answer.text() };
  }

  async function emailClaims(username: string): Promise<{ email: string; email_verified: boolean }> {
    const request = codeRequest('rp', REDIRECT, { scope: 'openid email' });
    const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), { login: username, password: PASSWORD });
    const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: rpAuth });
    return JSON.parse(Buffer.from(String(tokens.body.id_token).split('.')[1]!, 'base64url').toString()) as { email: string; email_verified: boolean };
  }

  test('a link to the new address, a notice to the old; the address changes (verified) only when the link is used, once', async () => {
    const alice = await newUser();
    const to = `${alice.username}@new.example.test`;
    const since = Date.now();
    const asked = await requestChange(alice.browser, to);
    expect([asked.status, asked.location]).toEqual([303, '/account?done=email-sent']);
    const confirm = await catcher.waitFor(to, { since });
    expect(confirm.subject).toBe('Confirm your new e-mail address');
    const notice = await catcher.waitFor(alice.email, { since });
    expect(notice.subject).toBe('A change of your e-mail address was requested');
    expect(notice.text).toContain(to);
    expect(notice.links.some((link) => link.includes('/account/email/confirm'))).toBe(false);
    // Not changed yet.
    expect((await hub.services.users.findById(alice.id))!.email).toBe(alice.email);
    expect((await emailClaims(alice.username)).email).toBe(alice.email);

    const link = confirmLinkOf(confirm);
    // Opening the link (a mail scanner does) changes nothing; the button does.
    const opened = await new TestBrowser().get(link);
    expect(await opened.text()).toContain(`data-testid="email-new">${to}<`);
    expect((await hub.services.users.findById(alice.id))!.email).toBe(alice.email);
    const done = await openAndConfirm(link);
    expect(done.status).toBe(200);
    expect(done.body).toContain('data-testid="email-confirmed"');
    const user = await hub.services.users.findById(alice.id);
    expect(user!.email).toBe(to);
    expect(user!.emailVerified).toBe(true);
    expect(await hub.services.users.findByLogin(alice.email)).toBeUndefined();
    expect(await emailClaims(alice.username)).toMatchObject({ email: to, email_verified: true });
    expect(await hub.services.audit.search({ event: 'account.email.changed', user: alice.id })).toHaveLength(1);

    const again = await openAndConfirm(link);
    expect(again.status).toBe(400);
    expect(again.body).toContain('data-testid="email-invalid"');
  });

  test('reload and Back after confirming: this browser sees "your address is now …" again, not "expired or already used"; another browser is refused', async () => {
    // An exploratory browser review: reloading the answer (the form sent again) or Back to the
    // link told the person who had just confirmed that the link had expired or was used.
    const alice = await newUser();
    const to = `${alice.username}@reload.example.test`;
    const since = Date.now();
    await requestChange(alice.browser, to);
    const link = confirmLinkOf(await catcher.waitFor(to, { since }));
    const browser = new TestBrowser();
    const html = await (await browser.get(link)).text();
    const form = { _csrf: inputValue(html, '_csrf'), token: inputValue(html, 'token') };
    const first = await browser.post(`${hub.url}/account/email/confirm`, form);
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('data-testid="email-confirmed"');

    const reloaded = await browser.post(`${hub.url}/account/email/confirm`, form);
    expect(reloaded.status).toBe(200);
    const reloadedBody = await reloaded.text();
    expect(reloadedBody).toContain('data-testid="email-confirmed"');
    expect(reloadedBody).toContain(to);
    const back = await browser.get(link);
    expect(back.status).toBe(200);
    expect(await back.text()).toContain('data-testid="email-confirmed"');
    expect(await hub.services.audit.search({ event: 'account.email.changed', user: alice.id })).toHaveLength(1);

    const elsewhere = await openAndConfirm(link);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body).toContain('data-testid="email-invalid"');
  });

  test('the token is kept as its digest only, with a TTL of EMAIL_CHANGE_TTL', async () => {
    const alice = await newUser();
    const to = `${alice.username}@new.example.test`;
    const since = Date.now();
    await requestChange(alice.browser, to);
    const token = new URL(confirmLinkOf(await catcher.waitFor(to, { since }))).searchParams.get('token')!;
    const client = (hub.store as RedisStore).client;
    const key = `${hub.config.KEY_PREFIX}account-token:email-change:${createHash('sha256').update(token).digest('base64url')}`;
    expect(await client.get(key)).toContain(to);
    const ttl = await client.ttl(key);
    expect(ttl).toBeGreaterThan(hub.config.EMAIL_CHANGE_TTL - 120);
    expect(ttl).toBeLessThanOrEqual(hub.config.EMAIL_CHANGE_TTL);
    for await (const keys of scanKeys(client, `${hub.config.KEY_PREFIX}*`)) {
      for (const found of keys) expect(found).not.toContain(token);
    }
  });

  test('the current password is required; a bad address or the same one is refused on the page', async () => {
    const alice = await newUser();
    const wrong = await requestChange(alice.browser, `${alice.username}@new.example.test`, 'not-my-password');
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain('data-testid="email-error">Your current password is not right.<');
    const bad = await requestChange(alice.browser, 'not an address');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('data-testid="email-error">That e-mail address does not look right.<');
    // A display name before the address would be the requester's text in the mail to an unproven address.
    const lure = await requestChange(alice.browser, `Account-suspended<${alice.username}@new.example.test>`);
    expect(lure.status).toBe(400);
    expect(lure.body).toContain('data-testid="email-error">That e-mail address does not look right.<');
    const same = await requestChange(alice.browser, alice.email.toUpperCase());
    expect(same.status).toBe(400);
    expect(same.body).toContain('data-testid="email-error">That is already your e-mail address.<');
    await hub.services.emailChange.settled();
    expect(catcher.to(`${alice.username}@new.example.test`)).toHaveLength(0);
  });

  test('the link to the new (unproven) address carries nothing the account holder chose: no display name, no username', async () => {
    const alice = await newUser();
    await hub.services.users.update(alice.id, { name: 'IT Support: your account is suspended, visit https://evil.example/verify' });
    const to = `victim-${alice.username}@new.example.test`;
    const since = Date.now();
    expect((await requestChange(alice.browser, to)).status).toBe(303);
    const confirm = await catcher.waitFor(to, { since });
    for (const part of [confirm.subject, confirm.text, confirm.html]) {
      expect(part).not.toContain('IT Support');
      expect(part).not.toContain('evil.example');
      expect(part).not.toContain(alice.username + ' ');
      expect(part).not.toMatch(new RegExp(`account ${alice.username}`));
    }
    expect(confirm.text.startsWith('Hello,')).toBe(true);
    expect(confirmLinkOf(confirm)).toBeTruthy();
  });

  test('UCenter user/edit with a new address goes the same way: a link to it, a notice to the old one, the address changed only by the link', async () => {
    // A security review: user/edit changed the address at once, so a member of any UCenter
    // application could take an address they cannot read (an unverified sign-up's) and sign in with it.
    const app = await hub.services.ucenter.apps.register({ name: 'Forum', url: 'http://forum.test' });
    const client = new UcClient({ api: `${hub.url}/ucenter`, key: app.key, appId: app.appId });
    const alice = await newUser();
    const to = `${alice.username}@new.example.test`;
    const since = Date.now();
    expect(await client.call('user', 'edit', { username: alice.username, oldpw: PASSWORD, newpw: '', email: to, ignoreoldpw: 0 })).toBe('1');
    expect((await hub.services.users.findById(alice.id))!.email).toBe(alice.email);
    const link = confirmLinkOf(await catcher.waitFor(to, { since }));
    await catcher.waitFor(alice.email, { since }); // the notice to the old address
    expect((await openAndConfirm(link, alice.browser)).status).toBeLessThan(400);
    expect((await hub.services.users.findById(alice.id))!.email).toBe(to);
    // A new password and a new address in one call (a Discuz! profile form): both, the link still good.
    const carol = await newUser();
    const carolTo = `${carol.username}@new.example.test`;
    const carolSince = Date.now();
    // The old password is proven once, by user/edit itself (with the sign-in throttle): the
    // e-mail change does not check it again (a second argon2 and throttle round, a review found).
    const { settings } = hub.services;
    const verify = settings.verifyCurrentPassword;
    let verified = 0;
    settings.verifyCurrentPassword = (...args) => {
      verified += 1;
      return verify.apply(settings, args);
    };
    try {
      expect(await client.call('user', 'edit', { username: carol.username, oldpw: PASSWORD, newpw: 'a-brand-new-secret-77', email: carolTo, ignoreoldpw: 0 })).toBe('1');
    } finally {
      settings.verifyCurrentPassword = verify;
    }
    expect(verified).toBe(0);
    const carolLink = confirmLinkOf(await catcher.waitFor(carolTo, { since: carolSince }));
    expect((await openAndConfirm(carolLink, await signInAtPortal(hub, carol.username, 'a-brand-new-secret-77'))).status).toBeLessThan(400);
    expect((await hub.services.users.findById(carol.id))!.email).toBe(carolTo);
    // Someone else's address: the same answer as a free one (this application may not create
    // users, so its check_email does not tell either), no link, nothing changed.
    const bob = await newUser();
    const bobSince = Date.now();
    expect(await client.call('user', 'edit', { username: bob.username, oldpw: PASSWORD, newpw: '', email: to, ignoreoldpw: 0 })).toBe('1');
    await catcher.waitFor(bob.email, { since: bobSince }); // the notice to bob's own address
    await hub.services.emailChange.settled();
    expect(catcher.to(to).filter((mail) => mail.receivedAt >= bobSince)).toHaveLength(0);
    expect((await hub.services.users.findById(bob.id))!.email).toBe(bob.email);
  });

  test('requests whose mail the SMTP server did not take do not end in "wait an hour" once it is back (a mail-fault review)', async () => {
    const alice = await newUser();
    catcher.refuseRecipient = (address) => ({ code: 421, text: `4.3.0 <${address}>: Service not available, try again later` });
    try {
      for (let i = 0; i < 3; i += 1) {
        const asked = await requestChange(alice.browser, `new-${i}-${alice.username}@new.example.test`);
        expect([asked.status, asked.location]).toEqual([303, '/account?done=email-sent']);
        await hub.services.emailChange.settled();
      }
    } finally {
      catcher.refuseRecipient = undefined;
    }
    const since = Date.now();
    const asked = await requestChange(alice.browser, `new-${alice.username}@new.example.test`);
    expect([asked.status, asked.location]).toEqual([303, '/account?done=email-sent']);
    await catcher.waitFor(`new-${alice.username}@new.example.test`, { since });
  });

  test("another account's address: the same answer, but no link is sent", async () => {
    const alice = await newUser();
    const bob = await newUser();
    const since = Date.now();
    const asked = await requestChange(alice.browser, bob.email);
    expect([asked.status, asked.location]).toEqual([303, '/account?done=email-sent']);
    await catcher.waitFor(alice.email, { since });
    await hub.services.emailChange.settled();
    expect(catcher.to(bob.email).filter((mail) => mail.receivedAt >= since)).toHaveLength(0);
  });

  test('a pending change dies when the password changes (the owner reacting to the notice)', async () => {
    const alice = await newUser();
    const to = `${alice.username}@new.example.test`;
    const since = Date.now();
    await requestChange(alice.browser, to);
    const link = confirmLinkOf(await catcher.waitFor(to, { since }));
    await hub.services.users.setPassword(alice.id, 'a-brand-new-secret-66');
    const late = await openAndConfirm(link);
    expect(late.status).toBe(400);
    expect((await hub.services.users.findById(alice.id))!.email).toBe(alice.email);
  });

  test('two confirmation links used at once: one address wins, the other changes nothing and is not left naming the account', async () => {
    // A review: both answered "confirmed", the account ended with one address, and the other's
    // index entry still named it (signing in by that address worked; nobody else could take it).
    for (let round = 0; round < 3; round += 1) {
      const alice = await newUser();
      const [first, second] = [`${alice.username}@one.example.test`, `${alice.username}@two.example.test`];
      const since = Date.now();
      await requestChange(alice.browser, first);
      await requestChange(alice.browser, second);
      const links = [confirmLinkOf(await catcher.waitFor(first, { since })), confirmLinkOf(await catcher.waitFor(second, { since }))];
      const pages = await Promise.all(links.map(async (link) => {
        const browser = new TestBrowser();
        const html = await (await browser.get(link)).text();
        return { browser, csrf: inputValue(html, '_csrf'), token: inputValue(html, 'token') };
      }));
      const answers = await Promise.all(pages.map(({ browser, csrf, token }) => browser.post(`${hub.url}/account/email/confirm`, { _csrf: csrf, token })));
      const statuses = answers.map((answer) => answer.status);
      await Promise.all(answers.map((answer) => answer.arrayBuffer()));
      expect([...statuses].sort()).toEqual([200, 400]);
      const winner = statuses[0] === 200 ? first : second;
      const loser = winner === first ? second : first;
      expect((await hub.services.users.findById(alice.id))!.email).toBe(winner);
      expect((await hub.services.users.findByLogin(winner))?.id).toBe(alice.id);
      expect(await hub.services.users.findByLogin(loser)).toBeUndefined();
      expect(await hub.services.users.findByLogin(alice.email)).toBeUndefined();
    }
  });

  test('without the CSRF token nothing is sent (403)', async () => {
    const alice = await newUser();
    await (await alice.browser.get(`${hub.url}/account`)).arrayBuffer();
    const answer = await alice.browser.post(`${hub.url}/account/email`, { email: `${alice.username}@new.example.test`, current: PASSWORD });
    expect(answer.status).toBe(403);
  });
});
