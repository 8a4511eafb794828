/**
 * Self-service sign-up and e-mail verification (issue 13), against a real Redis and a real
 * SMTP server in this process: the mail is received and its link followed. Tokens: single
 * use, 24 h, only a digest at rest. Answers that could reveal whether an address has an
 * account are the same; limits per address and per account.
 */
import { randomUUID } from 'node:crypto';
import { createFindAccount } from '../src/oidc/account.js';
import { digest } from '../src/store/keys.js';
import { connectRedis, RedisStore } from '../src/store/redis.js';
import { inputValue, TestBrowser } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startSmtpCatcher, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { cliHarness } from '../src/testing/cli-harness.js';
import { startTestHub, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';
import { EMAIL } from '../src/users/user-repository.js';
import { passwordStamp } from '../src/users/password-stamp.js';

const PASSWORD = 'orbit tulip cactus lantern';

function unique(label: string) {
  const id = randomUUID().slice(0, 8);
  return { username: `${label}-${id}`, email: `${label}-${id}@example.com`, name: `${label} ${id}` };
}

async function signUp(hub: RunningHub, browser: TestBrowser, fields: Record<string, string>, path = '/signup') {
  const form = await browser.get(`${hub.url}${path}`);
  const html = await form.text();
  expect(form.status).toBe(200);
  return browser.post(`${hub.url}/signup`, { _csrf: inputValue(html, '_csrf'), password: PASSWORD, confirm: PASSWORD, ...fields });
}

/** Signs in at the portal; returns the answer to the password form (200: the sync page). */
async function signIn(hub: RunningHub, browser: TestBrowser, login: string, password = PASSWORD) {
  const landed = await browser.follow(`${hub.url}/login?next=/account`);
  const action = /action="(\/interaction\/[^"]+\/login)"/.exec(landed.body)![1]!;
  const answer = await browser.post(new URL(action, hub.url).toString(), { _csrf: inputValue(landed.body, '_csrf'), login, password });
  return { status: answer.status, body: await answer.text() };
}

async function verifyLink(hub: RunningHub, browser: TestBrowser, link: string) {
  const page = await browser.get(link);
  const html = await page.text();
  if (page.status !== 200) return { status: page.status, body: html };
  const answer = await browser.post(`${hub.url}/signup/verify`, { _csrf: inputValue(html, '_csrf'), token: inputValue(html, 'token') });
  return { status: answer.status, body: await answer.text() };
}

function verifyLinkOf(mail: { links: string[] }): string {
  const link = mail.links.find((candidate) => candidate.includes('/signup/verify?token='));
  if (!link) throw new Error('no verification link in the mail');
  return link;
}

async function claimsOf(hub: RunningHub, userId: string) {
  const account = await createFindAccount(hub.services.users)(undefined as never, userId);
  return account!.claims('userinfo', 'openid email profile', {}, []);
}

async function allStrings(hub: RunningHub): Promise<string> {
  const client = await connectRedis(TEST_REDIS_URL);
  const parts: string[] = [];
  for await (const keys of client.scanIterator({ MATCH: `${hub.config.KEY_PREFIX}*`, COUNT: 500 })) {
    for (const key of keys) {
      parts.push(key);
      const type = await client.type(key);
      if (type === 'string') parts.push((await client.get(key)) ?? '');
      if (type === 'set') parts.push(...(await client.sMembers(key)));
      if (type === 'zset') parts.push(...(await client.zRange(key, 0, -1)));
      if (type === 'hash') parts.push(JSON.stringify(await client.hGetAll(key)));
    }
  }
  await client.quit();
  return parts.join('\n');
}

describe('sign-up and e-mail verification (HUB_SIGNUP=open, redis, real SMTP)', () => {
  let catcher: SmtpCatcher;
  let hub: RunningHub;

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    hub = await startTestHub('redis', { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', SIGNUP_MAX_PER_IP: '1000' });
    await hub.services.users.create({ username: 'alice', email: 'alice-signup@example.com', name: 'Alice', password: 'alice-password-1' });
  });
  afterAll(async () => {
    await hub.close();
    await catcher.close();
  });

  test('sign up in Chinese, the mail arrives in Chinese, the link verifies once, then sign-in works and email_verified is true', async () => {
    const person = unique('zh');
    const browser = new TestBrowser();
    browser.cookies(hub.url).set('lang', 'zh-CN');
    const answer = await signUp(hub, browser, person);
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/signup/sent');
    const sent = await (await browser.get(`${hub.url}/signup/sent`)).text();
    expect(sent).toContain(person.email);
    expect(sent).toContain('请查收邮件');

    const mail = await catcher.waitFor(person.email);
    expect(mail.subject).toBe('请确认您的电子邮件地址');
    expect(mail.lang).toBe('zh-CN');
    const link = verifyLinkOf(mail);
    expect(link.startsWith(`${hub.url}/signup/verify?token=`)).toBe(true);

    const user = await hub.services.users.findByLogin(person.username);
    expect(user).toMatchObject({ username: person.username, email: person.email, name: person.name, signedUp: true, emailVerified: false, locale: 'zh-CN' });
    // A UCenter uid like any user.
    expect(user!.uid).toEqual(expect.any(Number));
    // Not verified: the right password is told to verify first (HUB_REQUIRE_VERIFIED_EMAIL defaults to true).
    const early = await signIn(hub, new TestBrowser(), person.username);
    expect(early.status).toBe(403);
    expect(early.body).toContain('data-testid="login-resend"');
    // The unverified account holds no claim on the address: no sign-in by it either.
    expect(await hub.services.users.findByEmail(person.email)).toBeUndefined();
    expect((await claimsOf(hub, user!.id)).email_verified).toBe(false);

    // Opening the link (a mail scanner does) uses nothing up: the button does.
    expect((await browser.get(link)).status).toBe(200);
    const verified = await verifyLink(hub, browser, link);
    expect(verified.status).toBe(200);
    expect(verified.body).toContain('data-testid="verified"');
    // Single use (another browser; this one is shown its answer again, see the reload test below).
    const again = await verifyLink(hub, new TestBrowser(), link);
    expect(again.status).toBe(400);
    expect(again.body).toContain('data-testid="verify-error"');

    expect((await hub.services.users.findByEmail(person.email))?.id).toBe(user!.id);
    expect((await claimsOf(hub, user!.id)).email_verified).toBe(true);
    const signedIn = await signIn(hub, new TestBrowser(), person.username);
    expect(signedIn.status).toBe(200);
    expect(continueUrlOf(signedIn.body, hub.url)).toContain('/auth/');
    // And by the address, now that the account holds it.
    expect((await signIn(hub, new TestBrowser(), person.email)).status).toBe(200);
  });

  test('reload and Back after verifying: this browser sees "confirmed" again, not "this link is not valid"; another browser is refused', async () => {
    // An exploratory browser review: reloading the "confirmed" page (the form sent again) or Back
    // to the link told the person who had just verified that the link was not valid.
    const person = unique('reload');
    const browser = new TestBrowser();
    expect((await signUp(hub, browser, person)).status).toBe(303);
    const link = verifyLinkOf(await catcher.waitFor(person.email));
    const html = await (await browser.get(link)).text();
    const form = { _csrf: inputValue(html, '_csrf'), token: inputValue(html, 'token') };
    const first = await browser.post(`${hub.url}/signup/verify`, form);
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('data-testid="verified"');
    const audited = (await hub.services.audit.search({ event: 'email.verified' })).length;

    const reloaded = await browser.post(`${hub.url}/signup/verify`, form);
    expect(reloaded.status).toBe(200);
    const reloadedBody = await reloaded.text();
    expect(reloadedBody).toContain('data-testid="verified"');
    expect(reloadedBody).toContain(person.username);
    const back = await browser.get(link);
    expect(back.status).toBe(200);
    expect(await back.text()).toContain('data-testid="verified"');
    // Nothing was done twice.
    expect((await hub.services.audit.search({ event: 'email.verified' })).length).toBe(audited);

    const elsewhere = await verifyLink(hub, new TestBrowser(), link);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body).toContain('data-testid="verify-error"');
  });

  test('a mistyped address: the same browser signs up again with the same username and the right address, which replaces the first sign-up; nobody else can', async () => {
    // A browser review: "check your inbox" showed the mistyped address, Back, the address
    // corrected, "Create account": "This username is taken", and the name stayed with the wrong
    // address (whose link nobody could open) until HUB_UNVERIFIED_ACCOUNT_DAYS were over.
    const person = unique('typo');
    const wrong = person.email.replace('@example.com', '@exmaple.com');
    const browser = new TestBrowser();
    expect((await signUp(hub, browser, { ...person, email: wrong })).status).toBe(303);
    const sent = await (await browser.get(`${hub.url}/signup/sent`)).text();
    expect(sent).toContain(wrong);
    expect(sent).toContain('data-testid="signup-wrong-address"');
    const wrongLink = verifyLinkOf(await catcher.waitFor(wrong));
    const first = await hub.services.users.findByLogin(person.username);

    // A refused form (the passwords differ) replaces nothing.
    const mismatch = await signUp(hub, browser, { ...person, confirm: 'another tulip orbit cactus' });
    expect(mismatch.status).toBe(400);
    expect((await hub.services.users.findByLogin(person.username))?.id).toBe(first!.id);
    // Another browser gets the username refused, as before.
    expect((await signUp(hub, new TestBrowser(), person)).status).toBe(409);

    const again = await signUp(hub, browser, person);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/signup/sent');
    const replaced = await hub.services.users.findByLogin(person.username);
    expect(replaced).toMatchObject({ username: person.username, email: person.email, emailVerified: false });
    expect(replaced!.id).not.toBe(first!.id);
    expect(await hub.services.users.findById(first!.id)).toBeUndefined();
    expect((await hub.services.audit.search({ event: 'signup.replaced' })).some((entry) => entry.subject === first!.id)).toBe(true);
    // The link sent to the wrong address no longer works; the right one does.
    expect((await verifyLink(hub, new TestBrowser(), wrongLink)).status).toBe(400);
    const rightLink = verifyLinkOf(await catcher.waitFor(person.email));
    expect((await verifyLink(hub, new TestBrowser(), rightLink)).status).toBe(200);
    expect((await signIn(hub, new TestBrowser(), person.username)).status).toBe(200);
    // Verified, it is nobody's to replace, this browser's neither.
    expect((await signUp(hub, browser, { ...person, email: `other-${person.email}` })).status).toBe(409);
    expect((await hub.services.users.findByLogin(person.username))?.id).toBe(replaced!.id);
  });

  test('the token is kept only as a digest, with a 24 h TTL, and an expired one is refused', async () => {
    const person = unique('digest');
    await signUp(hub, new TestBrowser(), person);
    const link = verifyLinkOf(await catcher.waitFor(person.email));
    const token = new URL(link).searchParams.get('token')!;
    expect(token.length).toBeGreaterThanOrEqual(40);
    const everything = await allStrings(hub);
    expect(everything).not.toContain(token);
    const key = hub.services.keys.accountToken('email-verify', digest(token));
    expect(everything).toContain(key);
    const ttl = await hub.store.ttl(key);
    expect(ttl).toBeGreaterThan(24 * 3600 - 120);
    expect(ttl).toBeLessThanOrEqual(24 * 3600);
    // The link at its expiry: Redis drops the key, the link is refused.
    await (hub.store as RedisStore).client.pExpire(key, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const expired = await verifyLink(hub, new TestBrowser(), link);
    expect(expired.status).toBe(400);
    expect((await hub.services.users.findByLogin(person.username))?.emailVerified).toBe(false);
  });

  test('the same answer whether the address is free, already has an account, or is waiting for another sign-up', async () => {
    const fresh = unique('fresh');
    const pending = unique('pending');
    await signUp(hub, new TestBrowser(), pending);
    await catcher.waitFor(pending.email);
    const cases = [
      { label: 'free', fields: fresh },
      { label: 'has an account', fields: { ...unique('taker'), email: 'alice-signup@example.com' } },
      { label: 'waiting', fields: { ...unique('second'), email: pending.email } },
    ];
    const answers = [];
    for (const { fields } of cases) {
      const browser = new TestBrowser();
      const answer = await signUp(hub, browser, fields);
      const page = (await (await browser.get(`${hub.url}/signup/sent`)).text()).replace(fields.email, 'ADDRESS').replace(/name="_csrf" value="[^"]*"/g, '');
      answers.push({ status: answer.status, location: answer.headers.get('location'), page });
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    // The username is taken in every case, so trying it again tells nothing about the address.
    for (const { fields } of cases) {
      const again = await signUp(hub, new TestBrowser(), { ...unique('x'), username: fields.username });
      expect(again.status).toBe(409);
      expect(await again.text()).toContain('data-field="username"');
    }
    // What differs is the mail, and only the address's owner reads it: alice is told, with no link to verify.
    const toAlice = await catcher.waitFor('alice-signup@example.com');
    expect(toAlice.subject).toBe('Someone tried to sign up with your address');
    expect(toAlice.text).toContain('alice');
    expect(toAlice.links.some((link) => link.includes('/signup/verify'))).toBe(false);
    expect((await hub.services.users.findByEmail('alice-signup@example.com'))?.username).toBe('alice');
  });

  test('an address cannot be squatted: the first to verify holds it; the other link is refused', async () => {
    const victim = unique('victim');
    const squatter = { ...unique('squatter'), email: victim.email };
    await signUp(hub, new TestBrowser(), squatter);
    const squatterLink = verifyLinkOf(await catcher.waitFor(victim.email));
    const since = Date.now();
    await signUp(hub, new TestBrowser(), victim);
    const victimLink = verifyLinkOf(await catcher.waitFor(victim.email, { since, filter: (mail) => mail.links.some((link) => link !== squatterLink && link.includes('/signup/verify')) }));
    expect((await verifyLink(hub, new TestBrowser(), victimLink)).status).toBe(200);
    const refused = await verifyLink(hub, new TestBrowser(), squatterLink);
    expect(refused.status).toBe(409);
    expect((await hub.services.users.findByEmail(victim.email))?.username).toBe(victim.username);
    expect((await hub.services.users.findByLogin(squatter.username))?.emailVerified).toBe(false);
  });

  test('bad input gets the form back with a message, never a 500: weak password, format, mismatch, missing CSRF', async () => {
    const browser = new TestBrowser();
    const weak = await signUp(hub, browser, { ...unique('weak'), password: 'password1', confirm: 'password1' });
    expect(weak.status).toBe(400);
    const weakPage = await weak.text();
    expect(weakPage).toContain('data-field="password"');
    expect(weakPage).toContain('too easy to guess');
    const mine = unique('mine');
    expect((await signUp(hub, browser, { ...mine, password: `${mine.username}!`, confirm: `${mine.username}!` })).status).toBe(400);
    expect((await signUp(hub, browser, { ...unique('mismatch'), confirm: 'something else entirely' })).status).toBe(400);
    expect((await signUp(hub, browser, { ...unique('fmt'), email: 'not-an-address' })).status).toBe(400);
    // A mailbox with a display name (a review): the mail library addressed the verification mail to
    // the victim's address with the requester's text before it, and each spelling had budgets of its own.
    const lure = unique('lure');
    for (const email of [`Account-suspended<${lure.email}>`, `"xy"@example.test`, `${lure.email},other@example.test`, `x@[127.0.0.1]`]) {
      expect((await signUp(hub, browser, { ...lure, email })).status).toBe(400);
    }
    expect(await hub.services.users.findByLogin(lure.username)).toBeUndefined();
    // Addresses people really use still pass.
    for (const email of [`o'brien@example.ie`, 'first.last+tag@gmail.com', '用户@例子.中国', 'josé@exemple.fr', 'a&b=c!#$%*/?^`{|}~@x.io', 'x@xn--bcher-kva.example']) {
      expect(EMAIL.test(email)).toBe(true);
    }
    expect((await signUp(hub, browser, { ...unique('fmt'), username: 'has space' })).status).toBe(400);
    // Too long: refused as typed, not cut to a shorter name or address that would pass.
    const long = unique('long');
    const longName = `${long.username.replace(/-/g, '')}${'x'.repeat(64)}`.slice(0, 70);
    expect((await signUp(hub, browser, { ...long, username: longName })).status).toBe(400);
    expect(await hub.services.users.findByLogin(longName.slice(0, 64))).toBeUndefined();
    // 272 characters whose first 254 are an address of their own.
    const longMail = `${long.username.replace(/-/g, '')}@${'b'.repeat(200)}.${'c'.repeat(60)}`;
    expect((await signUp(hub, browser, { ...unique('longmail'), email: longMail })).status).toBe(400);
    const noCsrf = await new TestBrowser().post(`${hub.url}/signup`, { ...unique('csrf'), password: PASSWORD, confirm: PASSWORD });
    expect(noCsrf.status).toBe(403);
    // None of these made an account.
    expect(await hub.services.users.findByLogin(mine.username)).toBeUndefined();
  });

  test('a password reset through the address of an account not yet verified verifies it: the reset link proved the mailbox as the verification link does', async () => {
    // A browser review: someone who signed up, lost the verification mail and reset the password
    // from the sign-in page was told "sign in again with your new password", then at sign-in
    // "confirm your e-mail address first". The reset link went to the address and was used.
    const person = unique('resetverify');
    await signUp(hub, new TestBrowser(), person);
    await catcher.waitFor(person.email);
    const since = Date.now();
    const browser = new TestBrowser();
    const forgot = await (await browser.get(`${hub.url}/password/forgot`)).text();
    expect((await browser.post(`${hub.url}/password/forgot`, { _csrf: inputValue(forgot, '_csrf'), login: person.username })).status).toBe(303);
    const mail = await catcher.waitFor(person.email, { since, filter: (candidate) => candidate.links.some((link) => link.includes('/password/reset?token=')) });
    const link = mail.links.find((candidate) => candidate.includes('/password/reset?token='))!;
    const form = await (await browser.get(link)).text();
    const NEW = 'a new and quite long password 7';
    const done = await browser.post(`${hub.url}/password/reset`, { _csrf: inputValue(form, '_csrf'), token: inputValue(form, 'token'), password: NEW, confirm: NEW });
    expect(done.status).toBe(303);
    await hub.services.recovery.settled();
    const user = (await hub.services.users.findByLogin(person.username))!;
    expect(user.emailVerified).toBe(true);
    expect((await hub.services.users.findByEmail(person.email))?.id).toBe(user.id);
    expect((await signIn(hub, new TestBrowser(), person.username, NEW)).status).toBe(200);
  });

  test('a reset does not verify an address another account has proven meanwhile: that account keeps it', async () => {
    const first = unique('resetfirst');
    const second = { ...unique('resetsecond'), email: first.email };
    await signUp(hub, new TestBrowser(), first);
    const firstLink = verifyLinkOf(await catcher.waitFor(first.email));
    const since = Date.now();
    await signUp(hub, new TestBrowser(), second);
    // The second sign-up's own mail (to the same address) arrives; then the first account verifies.
    await catcher.waitFor(first.email, { since });
    expect((await verifyLink(hub, new TestBrowser(), firstLink)).status).toBe(200);
    const owner = (await hub.services.users.findByLogin(first.username))!;
    const other = (await hub.services.users.findByLogin(second.username))!;
    // A reset link for the second account, made as the reset request makes one.
    const token = await hub.services.accountTokens.issue('password-reset', { userId: other.id, stamp: passwordStamp(other), email: other.email.toLowerCase() }, 600);
    const browser = new TestBrowser();
    const form = await (await browser.get(hub.services.recovery.linkFor(token))).text();
    const NEW = 'another long enough password 8';
    expect((await browser.post(`${hub.url}/password/reset`, { _csrf: inputValue(form, '_csrf'), token: inputValue(form, 'token'), password: NEW, confirm: NEW })).status).toBe(303);
    expect((await hub.services.users.findByLogin(second.username))!.emailVerified).toBe(false);
    expect((await hub.services.users.findByEmail(first.email))?.id).toBe(owner.id);
  });

  test('the resend form puts the focus in its field, as the forgotten-password form does', async () => {
    // A keyboard-only review landed on the page with the focus nowhere (only an error put it in the field).
    const html = await (await new TestBrowser().get(`${hub.url}/signup/resend?login=someone`)).text();
    expect(/<input name="login"[^>]*>/.exec(html)![0]).toMatch(/ autofocus[ >]/);
  });

  test('resend by e-mail address: the form says to type the username (a username has no @), for any address alike, and nothing is sent', async () => {
    // A browser review typed the address into the resend form, was told "if this account is
    // waiting, we sent a new link" and never got one: the resend goes by username, and an
    // unverified account is not found by its address. No username contains "@", so the answer
    // tells nothing about any account.
    const person = unique('resendmail');
    await signUp(hub, new TestBrowser(), person);
    await catcher.waitFor(person.email);
    const resend = async (login: string, lang = 'en') => {
      const browser = new TestBrowser();
      const form = await (await browser.get(`${hub.url}/signup/resend`, { 'accept-language': lang })).text();
      const answer = await browser.post(`${hub.url}/signup/resend`, { _csrf: inputValue(form, '_csrf'), login }, { 'accept-language': lang });
      return { status: answer.status, body: (await answer.text()).replace(/name="_csrf" value="[^"]*"/g, '').replaceAll(login, 'LOGIN') };
    };
    const waiting = await resend(` ${person.email.toUpperCase()} `);
    expect(waiting.status).toBe(400);
    expect(waiting.body).toMatch(/<title>Error: /);
    expect(waiting.body).toMatch(/role="alert" id="resend-error"[^>]*>Type the username you chose when you signed up/);
    const field = /<input name="login"[^>]*>/.exec(waiting.body)![0];
    expect(field).toContain('aria-invalid="true"');
    expect(field).toContain('aria-describedby="resend-error"');
    expect(field).toMatch(/ autofocus[ >]/);
    expect(await resend(`nobody-${randomUUID().slice(0, 8)}@example.test`)).toEqual(await resend('alice@example.test'));
    expect((await resend(`nobody-${randomUUID().slice(0, 8)}@example.test`)).body).toEqual((await resend(` ${person.email.toUpperCase()} `)).body);
    expect((await resend(person.email, 'zh-CN')).body).toContain('请输入注册时选择的用户名');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(catcher.to(person.email)).toHaveLength(1); // the sign-up's own link only
  });

  test('resend: the same answer for any username; a new link for an account waiting; at most 3 sign-up mails an hour to its address from one network', async () => {
    const person = unique('resend');
    await signUp(hub, new TestBrowser(), person);
    await catcher.waitFor(person.email);
    const resend = async (login: string) => {
      const browser = new TestBrowser();
      const form = await (await browser.get(`${hub.url}/signup/resend?login=${encodeURIComponent(login)}`)).text();
      const answer = await browser.post(`${hub.url}/signup/resend`, { _csrf: inputValue(form, '_csrf'), login });
      return { status: answer.status, body: (await answer.text()).replace(/name="_csrf" value="[^"]*"/g, '') };
    };
    const unknown = await resend(`nobody-${randomUUID().slice(0, 8)}`);
    const verifiedUser = await resend('alice');
    const waiting = await resend(person.username);
    expect(unknown.status).toBe(200);
    expect(verifiedUser).toEqual(unknown);
    expect(waiting).toEqual(unknown);
    for (let index = 0; index < 4; index += 1) await resend(person.username);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await hub.services.mailer.close(); // waits for mail still being sent
    // One at sign-up and two resent: one network gets three of an address's sign-up mails an
    // hour, however asked for (the sign-up's mail counts); the three resends over that were not sent.
    expect(catcher.to(person.email)).toHaveLength(3);
  });
});

describe('sign-up limits and modes', () => {
  let catcher: SmtpCatcher;
  beforeAll(async () => {
    catcher = await startSmtpCatcher();
  });
  afterAll(() => catcher.close());

  test('per client address: past SIGNUP_MAX_PER_IP a 429 with Retry-After, and no account', async () => {
    const hub = await startTestHub('redis', { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', SIGNUP_MAX_PER_IP: '2' });
    try {
      expect((await signUp(hub, new TestBrowser(), unique('one'))).status).toBe(303);
      expect((await signUp(hub, new TestBrowser(), unique('two'))).status).toBe(303);
      const third = unique('three');
      const limited = await signUp(hub, new TestBrowser(), third);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await hub.services.users.findByLogin(third.username)).toBeUndefined();
    } finally {
      await hub.close();
    }
  });

  test('an IPv6 client counts as its /64: fresh addresses of one network do not reset the limit (nor the owner\'s "address taken" mails)', async () => {
    const hub = await startTestHub('redis', { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', SIGNUP_MAX_PER_IP: '2', HUB_TRUST_PROXY: 'true' });
    try {
      const from = (address: string) => async (fields: Record<string, string>) => {
        const browser = new TestBrowser();
        const html = await (await browser.get(`${hub.url}/signup`, { 'x-forwarded-for': address })).text();
        return browser.post(`${hub.url}/signup`, { _csrf: inputValue(html, '_csrf'), password: PASSWORD, confirm: PASSWORD, ...fields }, { 'x-forwarded-for': address });
      };
      expect((await from('2001:db8:7:1::a')(unique('v6-one'))).status).toBe(303);
      expect((await from('2001:db8:7:1::b')(unique('v6-two'))).status).toBe(303);
      const third = unique('v6-three');
      expect((await from('2001:db8:7:1:ffff::c')(third)).status).toBe(429);
      expect(await hub.services.users.findByLogin(third.username)).toBeUndefined();
      expect((await from('2001:db8:7:2::a')(unique('v6-other'))).status).toBe(303);
    } finally {
      await hub.close();
    }
  });

  test('one network gets at most three of an address\'s sign-up mails a window, and all networks together SIGNUP_MAILS_PER_ADDRESS: an owner\'s notes and a stranger\'s links alike', async () => {
    const hub = await startTestHub('redis', { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', HUB_TRUST_PROXY: 'true', SIGNUP_MAILS_PER_ADDRESS: '5' });
    try {
      const owner = unique('owner');
      const held = await hub.services.users.create({ ...owner, password: PASSWORD });
      const signUpFrom = async (address: string, email: string) => {
        const browser = new TestBrowser();
        const html = await (await browser.get(`${hub.url}/signup`, { 'x-forwarded-for': address })).text();
        const answer = await browser.post(`${hub.url}/signup`, { _csrf: inputValue(html, '_csrf'), password: PASSWORD, confirm: PASSWORD, ...unique('taker'), email }, { 'x-forwarded-for': address });
        expect(answer.status).toBe(303);
      };
      // One network four times: three notes, then its share is used. Another network three
      // times: two more notes reach the address's cap of five, the third is refused for that.
      for (let index = 0; index < 4; index += 1) await signUpFrom('198.51.100.1', owner.email);
      for (let index = 0; index < 3; index += 1) await signUpFrom('203.0.113.2', owner.email);
      const events = async (event: 'signup.address-taken' | 'signup.mail-limited') => (await hub.services.audit.search({ event })).filter((entry) => entry.event === event && (entry.detail as { holder?: string } | undefined)?.holder === held.id);
      expect(await events('signup.address-taken')).toHaveLength(5);
      expect((await events('signup.mail-limited')).map((entry) => [entry.ip, entry.detail?.limit])).toEqual(expect.arrayContaining([['198.51.100.1', 'network'], ['203.0.113.2', 'address']]));
      expect(await events('signup.mail-limited')).toHaveLength(2);
      // Nobody's address: verification links, three from one network as well.
      const stranger = `stranger-${Date.now()}@example.com`;
      for (let index = 0; index < 4; index += 1) await signUpFrom('198.51.100.5', stranger.toUpperCase());
      await hub.services.mailer.close(); // waits for the mail still being sent
      expect(catcher.to(owner.email)).toHaveLength(5);
      expect(catcher.to(stranger)).toHaveLength(3);
    } finally {
      await hub.close();
    }
  });

  test('closed (the default): no sign-up page, no link on the sign-in page', async () => {
    const hub = await startTestHub('redis', { SMTP_URL: catcher.url });
    try {
      expect((await fetch(`${hub.url}/signup`)).status).toBe(404);
      const login = await new TestBrowser().follow(`${hub.url}/login`);
      expect(login.body).not.toContain('data-testid="login-signup"');
    } finally {
      await hub.close();
    }
  });

  test('open without a way to send mail: the page says so (503), nothing is created', async () => {
    const hub = await startTestHub('redis', { HUB_SIGNUP: 'open' });
    try {
      const page = await fetch(`${hub.url}/signup`);
      expect(page.status).toBe(503);
      expect(await page.text()).toContain('cannot send e-mail');
    } finally {
      await hub.close();
    }
  });

  test('invite: only with a live single-use invite link, bound to its address when it names one', async () => {
    const hub = await startTestHub('redis', { SMTP_URL: catcher.url, HUB_SIGNUP: 'invite' });
    try {
      expect((await fetch(`${hub.url}/signup`)).status).toBe(403);
      expect((await fetch(`${hub.url}/signup?invite=not-a-real-invite-token-at-all`)).status).toBe(400);
      const person = unique('invited');
      const { link } = await hub.services.invites.create({ createdBy: 'cli', email: person.email });
      const path = new URL(link).pathname + new URL(link).search;
      const invite = new URL(link).searchParams.get('invite')!;
      expect((await allStrings(hub))).not.toContain(invite);
      const wrong = await signUp(hub, new TestBrowser(), { ...unique('other'), invite }, path);
      expect(wrong.status).toBe(400);
      expect(await wrong.text()).toContain('data-field="email"');
      expect((await signUp(hub, new TestBrowser(), { ...person, invite }, path)).status).toBe(303);
      expect(verifyLinkOf(await catcher.waitFor(person.email))).toContain('/signup/verify');
      // Used up.
      expect((await fetch(`${hub.url}${path}`)).status).toBe(400);
      // The admin CLI issues one too, shown once; it works for any address.
      const cli = cliHarness({ REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX, HUB_ISSUER: hub.url, HUB_SIGNUP: 'invite' });
      const made = await cli.run('invites', 'create', '--days', '2');
      expect(made.code).toBe(0);
      const cliLink = /^(http:\/\/\S+\/signup\?invite=\S+)$/m.exec(made.out)![1]!;
      const cliPath = new URL(cliLink).pathname + new URL(cliLink).search;
      const other = unique('cli-invited');
      expect((await signUp(hub, new TestBrowser(), { ...other, invite: new URL(cliLink).searchParams.get('invite')! }, cliPath)).status).toBe(303);
      expect((await cli.run('invites', 'create', '--days', '99')).code).toBe(1);
      // Digits only: `0x10` and `1e1` were taken as 16 and 10 days (an attacker's review).
      for (const odd of ['0x10', '1e1']) expect((await cli.run('invites', 'create', '--days', odd)).out).toMatch(/valid for 1 to \d+ days/);
      // And the admin console, on the Users page (CSRF-protected, audited).
      await hub.services.users.create({ username: 'root', email: 'root-invite@example.com', password: 'root-password-1', roles: ['admin'] });
      const admin = new TestBrowser();
      const signedIn = await signIn(hub, admin, 'root', 'root-password-1');
      await admin.follow(continueUrlOf(signedIn.body, hub.url));
      const usersPage = await (await admin.get(`${hub.url}/admin/users`)).text();
      expect(usersPage).toContain('data-testid="invite-form"');
      const created = await admin.post(`${hub.url}/admin/invites`, { _csrf: inputValue(usersPage, '_csrf'), email: '', days: '3' });
      expect(created.status).toBe(200);
      const createdPage = await created.text();
      // Shown once: a note in place of the language switch, which would leave the page and lose it.
      expect(createdPage).toContain('data-testid="lang-held"');
      const consoleLink = /data-testid="invite-link">([^<]+)</.exec(createdPage)![1]!.replace(/&amp;/g, '&');
      expect((await fetch(consoleLink)).status).toBe(200);
      expect((await hub.services.audit.search({ event: 'admin.invite.create' })).map((entry) => entry.actor)).toEqual(expect.arrayContaining(['cli', expect.any(String)]));
      // Nobody signed in: sent to sign in, no link.
      const anonymous = await new TestBrowser().post(`${hub.url}/admin/invites`, { days: '3' });
      expect(anonymous.status).toBe(303);
      expect(await anonymous.text()).not.toContain('invite=');
      // Signed in but without the CSRF token: refused.
      expect((await admin.post(`${hub.url}/admin/invites`, { days: '3' })).status).toBe(403);
      const hex = await admin.post(`${hub.url}/admin/invites`, { _csrf: inputValue(usersPage, '_csrf'), email: '', days: '0x10' });
      expect(hex.status).toBe(400);
      expect(await hex.text()).not.toContain('invite=');
    } finally {
      await hub.close();
    }
  });

  test('HUB_REQUIRE_VERIFIED_EMAIL=false: an unverified account signs in, with email_verified false', async () => {
    const hub = await startTestHub('redis', { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', HUB_REQUIRE_VERIFIED_EMAIL: 'false' });
    try {
      const person = unique('lax');
      await signUp(hub, new TestBrowser(), person);
      expect((await signIn(hub, new TestBrowser(), person.username)).status).toBe(200);
      const user = await hub.services.users.findByLogin(person.username);
      expect((await claimsOf(hub, user!.id)).email_verified).toBe(false);
    } finally {
      await hub.close();
    }
  });
});
