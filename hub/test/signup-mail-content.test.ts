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

function expectNoSignerText(mail: CaughtMail, person: ReturnType<typeof lure>): void {
  for (const part of [mail.subject, mail.text, mail.html]) {
    expect(part).not.toContain(PHRASE);
    expect(part).not.toContain('IT Support');
    expect(part).not.toContain('evil.example');
    expect(part).not.toContain(person.username);
    expect(part).not.toContain('evil-example');
  }
  // The mail is still a working verification mail.
  expect(mail.links.some((link) => link.includes('/signup/verify?token='))).toBe(true);
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
});
