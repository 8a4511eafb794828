/**
 * Links to change the address asked for before an undo. Whoever holds the password can ask for
 * several changes while the address is still the owner's (A → B, A → C: each link stands for a
 * change from A), confirm one, and keep the others. Once the owner has given A back with the undo
 * link (every session ends), the address is A again, so the links from A matched again: the taker
 * used one and took the address a second time, with no new request and so no new notice to A.
 * Also "sign out everywhere else" left such links working. Real Redis, real SMTP server in-process.
 */
import { randomUUID } from 'node:crypto';
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import type { CaughtMail, SmtpCatcher } from '../src/testing/smtp-catcher.js';
import type { RunningHub } from '../src/testing/test-hub.js';
import { hubWithMailbox } from './support.js';

const PASSWORD = 'looking-glass-42';

describe('E-mail change links asked for before an undo or a sign-out of the other sessions (redis, real SMTP)', () => {
  const started = hubWithMailbox({ RECOVERY_MAILS_PER_ACCOUNT: '20' });
  let hub: RunningHub;
  let catcher: SmtpCatcher;

  beforeAll(() => {
    ({ hub, catcher } = started);
  });
  afterAll(() => Promise.all([hub.services.recovery.settled(), hub.services.emailChange.settled()]));

  async function newUser() {
    const username = `u${randomUUID().slice(0, 8)}`;
    const email = `${username}@old.example.test`;
    const user = await hub.services.users.create({ username, email, name: 'Alice', password: PASSWORD });
    await hub.services.users.changeEmail(user.id, email, { verified: true });
    return { id: user.id, username, email };
  }

  const withLink = (path: string) => (mail: CaughtMail) => mail.links.some((link) => link.startsWith(`${hub.url}${path}?token=`));
  const linkOf = (mail: CaughtMail, path: string): string => mail.links.find((candidate) => candidate.startsWith(`${hub.url}${path}?token=`))!;

  /** Asks for a change to `to` from `browser` and returns the confirmation link mailed there. */
  async function ask(browser: TestBrowser, to: string): Promise<string> {
    const since = Date.now();
    const html = await (await browser.get(`${hub.url}/account`)).text();
    const asked = await browser.post(`${hub.url}/account/email`, { _csrf: inputValue(html, '_csrf'), email: to, current: PASSWORD });
    expect(asked.status).toBe(303);
    return linkOf(await catcher.waitFor(to, { since, filter: withLink('/account/email/confirm') }), '/account/email/confirm');
  }

  async function use(link: string, path: string, browser = new TestBrowser()): Promise<number> {
    const page = await browser.get(link);
    const html = await page.text();
    if (page.status !== 200) return page.status;
    const answer = await browser.post(`${hub.url}${path}`, { _csrf: inputValue(html, '_csrf'), token: inputValue(html, 'token') });
    await answer.text();
    return answer.status;
  }

  test('after the owner gave the address back, a second link the taker asked for before is refused', async () => {
    const alice = await newUser();
    const taker = await signInAtPortal(hub, alice.username, PASSWORD);
    const first = `b-${alice.username}@evil.example.test`;
    const second = `c-${alice.username}@evil.example.test`;
    const firstLink = await ask(taker, first);
    const secondLink = await ask(taker, second);
    const since = Date.now();
    expect(await use(firstLink, '/account/email/confirm', taker)).toBe(200);
    const undo = linkOf(await catcher.waitFor(alice.email, { since, filter: withLink('/account/email/undo') }), '/account/email/undo');
    expect(await use(undo, '/account/email/undo')).toBe(200);
    expect((await hub.services.users.findById(alice.id))!.email).toBe(alice.email);

    // The link the taker kept: refused, the address stays the owner's.
    expect(await use(secondLink, '/account/email/confirm')).toBe(400);
    expect((await hub.services.users.findById(alice.id))!.email).toBe(alice.email);
  });

  test('after "Sign out everywhere else", a link asked for from an ended session is refused', async () => {
    const alice = await newUser();
    const taker = await signInAtPortal(hub, alice.username, PASSWORD);
    const theirs = `b-${alice.username}@evil.example.test`;
    const link = await ask(taker, theirs);

    const owner = await signInAtPortal(hub, alice.username, PASSWORD);
    const html = await (await owner.get(`${hub.url}/account`)).text();
    const ended = await owner.post(`${hub.url}/account/sessions/end-others`, { _csrf: inputValue(html, '_csrf') });
    expect(ended.status).toBe(303);

    expect(await use(link, '/account/email/confirm')).toBe(400);
    expect((await hub.services.users.findById(alice.id))!.email).toBe(alice.email);
  });

  test("the owner's own link still works when nothing ended meanwhile", async () => {
    const alice = await newUser();
    const owner = await signInAtPortal(hub, alice.username, PASSWORD);
    const mine = `new-${alice.username}@example.test`;
    const link = await ask(owner, mine);
    expect(await use(link, '/account/email/confirm', owner)).toBe(200);
    expect((await hub.services.users.findById(alice.id))!.email).toBe(mine);
  });
});
