/**
 * The verification mail goes to an address nobody has proven yet: whoever typed it may not
 * be its owner, so the mail carries no text they chose (display name, username), only the
 * hub's own words and link. Otherwise a sign-up could make the hub mail any address a
 * message of the signer's ("Hello IT Support: your account is suspended … visit …").
 * Real Redis, real SMTP server in-process.
 */
import { randomUUID } from 'node:crypto';
import { inputValue, TestBrowser } from '../src/testing/browser.js';
import { startSmtpCatcher, type CaughtMail, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const PASSWORD = 'orbit tulip cactus lantern';
const PHRASE = 'your account is suspended';
const URL_IN_NAME = 'https://evil.example/verify';

/** A sign-up whose display name is a message with a link, and whose username reads as a host name (the username rules allow dots). */
function lure() {
  const id = randomUUID().slice(0, 8);
  return { username: `${id}.evil-example.com`, email: `victim-${id}@example.com`, name: `IT Support: ${PHRASE}, visit ${URL_IN_NAME} now` };
}

function expectNoSignerText(mail: CaughtMail, person: ReturnType<typeof lure>, link = '/signup/verify?token='): void {
  for (const part of [mail.subject, mail.text, mail.html]) {
    expect(part).not.toContain(PHRASE);
    expect(part).not.toContain('IT Support');
    expect(part).not.toContain('evil.example');
    expect(part).not.toContain(person.username);
    expect(part).not.toContain('evil-example');
  }
  // The mail is still a working mail of its kind (a verification link, a reset link).
  expect(mail.links.some((found) => found.includes(link))).toBe(true);
}

describe('the verification mail carries nothing the signer typed (HUB_SIGNUP=open, redis, real SMTP)', () => {
  let catcher: SmtpCatcher;
  let hub: RunningHub;

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    hub = await startTestHub('redis', { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', SIGNUP_MAX_PER_IP: '1000' });
  });
  afterAll(async () => {
    await hub.close();
    await catcher.close();
  });

  test.each([
    ['en', 'Hello,'],
    ['zh-CN', '您好：'],
  ])('in %s: a neutral greeting, no display name and no username, neither in the text nor in the HTML', async (lang, greeting) => {
    const person = lure();
    const browser = new TestBrowser();
    browser.cookies(hub.url).set('lang', lang);
    const form = await browser.get(`${hub.url}/signup`);
    const html = await form.text();
    const answer = await browser.post(`${hub.url}/signup`, { _csrf: inputValue(html, '_csrf'), password: PASSWORD, confirm: PASSWORD, ...person });
    expect(answer.status).toBe(303);
    // The account keeps the name it was given: only the mail leaves it out.
    expect(await hub.services.users.findByLogin(person.username)).toMatchObject({ name: person.name });

    const mail = await catcher.waitFor(person.email);
    expect(mail.lang).toBe(lang);
    expect(mail.text.startsWith(greeting)).toBe(true);
    expectNoSignerText(mail, person);
  });

  test('the mail sent again (resend) carries none of it either', async () => {
    const person = lure();
    const browser = new TestBrowser();
    const form = await browser.get(`${hub.url}/signup`);
    const html = await form.text();
    expect((await browser.post(`${hub.url}/signup`, { _csrf: inputValue(html, '_csrf'), password: PASSWORD, confirm: PASSWORD, ...person })).status).toBe(303);
    const first = await catcher.waitFor(person.email);
    await hub.services.signup.resend(person.username, '198.51.100.20');
    const again = await catcher.waitFor(person.email, { filter: (mail) => mail !== first });
    expectNoSignerText(again, person);
  });

  test.each([
    ['en', 'Hello,', 'the account registered with this e-mail address'],
    ['zh-CN', '您好：', '以此电子邮件地址注册的账号'],
  ])('in %s: a password reset asked by its username, and the notice after it, carry none of it while the address is unproven; once verified they greet the owner', async (lang, greeting, plain) => {
    // A review: "forgot password" with the sign-up's username mailed the unproven address
    // "Hello IT Support: your account is suspended … visit …" with a reset link.
    const person = lure();
    const browser = new TestBrowser();
    browser.cookies(hub.url).set('lang', lang);
    const html = await (await browser.get(`${hub.url}/signup`)).text();
    expect((await browser.post(`${hub.url}/signup`, { _csrf: inputValue(html, '_csrf'), password: PASSWORD, confirm: PASSWORD, ...person })).status).toBe(303);
    const verification = await catcher.waitFor(person.email);

    await hub.services.recovery.request(person.username, lang, '198.51.100.21');
    const reset = await catcher.waitFor(person.email, { filter: (mail) => mail.subject !== verification.subject });
    expect(reset.text.startsWith(greeting)).toBe(true);
    expect(reset.text).toContain(plain);
    expectNoSignerText(reset, person, '/password/reset?token=');
    // The notice a reset sends: the same.
    const user = (await hub.services.users.findByLogin(person.username))!;
    hub.services.notices.passwordChanged(user, lang);
    hub.services.notices.twoStepChanged(user, lang, 'enabled');
    const mails = () => catcher.to(person.email);
    await catcher.waitFor(person.email, { filter: () => mails().length >= 4 });
    expect(mails()).toHaveLength(4);
    for (const notice of mails().slice(2)) {
      expect(notice.text).toContain(plain);
      expectNoSignerText(notice, person, '/password/forgot');
    }
    // The e-mail change notice to the old (unproven) address: not the new address either, which the
    // signer typed (a review of this fix: "asked to change its address to account-suspended-…@evil.example").
    await hub.services.emailChange.requestProven(user, `it-support-${person.username}@evil.example`, lang, '198.51.100.21');
    await hub.services.emailChange.settled();
    await catcher.waitFor(person.email, { filter: () => mails().length >= 5 });
    const changeNotice = mails()[4]!;
    expect(changeNotice.text).toContain(plain);
    for (const part of [changeNotice.subject, changeNotice.text, changeNotice.html]) {
      expect(part).not.toContain('evil.example');
      expect(part).not.toContain(PHRASE);
    }

    // Verified: the address is the owner's, and the mail names the account again.
    const verifier = new TestBrowser();
    const page = await (await verifier.get(verification.links.find((link) => link.includes('/signup/verify?token='))!)).text();
    expect((await verifier.post(`${hub.url}/signup/verify`, { _csrf: inputValue(page, '_csrf'), token: inputValue(page, 'token') })).status).toBe(200);
    expect((await hub.services.users.findByLogin(person.username))?.emailVerified).toBe(true);
    await hub.services.recovery.request(person.username, lang, '198.51.100.21');
    const owned = await catcher.waitFor(person.email, { filter: (mail) => mails().indexOf(mail) === 5 });
    expect(owned.text).toContain(person.username);
  });
});
