/**
 * Giving the old address back after an e-mail change. Whoever holds an account's password
 * could change its address to a mailbox of theirs, confirm it within minutes, and reset the
 * password through it: the notice to the old address ("change your password") came too late
 * and the owner had no way back. Once a change is made, the old address now gets a link that
 * makes it the account's address again and ends every session and token. Real Redis, real
 * SMTP server in-process.
 */
import { randomUUID } from 'node:crypto';
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import type { CaughtMail, SmtpCatcher } from '../src/testing/smtp-catcher.js';
import type { RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, hubWithMailbox, postForm, walk } from './support.js';

const PASSWORD = 'looking-glass-42';
const REDIRECT = 'http://rp.test/cb';

describe('Giving the old e-mail address back (redis, real SMTP)', () => {
  const started = hubWithMailbox({ RECOVERY_MAILS_PER_ACCOUNT: '20' });
  let hub: RunningHub;
  let catcher: SmtpCatcher;
  let rpAuth: string;

  beforeAll(async () => {
    ({ hub, catcher } = started);
    const rp = await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT] });
    rpAuth = basic('rp', rp.clientSecret!);
  });
  // Mail still being sent when the hub closes would outlive the test file.
  afterAll(() => Promise.all([hub.services.recovery.settled(), hub.services.emailChange.settled()]));

  async function newUser() {
    const username = `u${randomUUID().slice(0, 8)}`;
    const email = `${username}@old.example.test`;
    const user = await hub.services.users.create({ username, email, name: 'Alice', password: PASSWORD });
    await hub.services.users.changeEmail(user.id, email, { verified: true });
    return { id: user.id, username, email };
  }

  const linkOf = (mail: CaughtMail, path: string): string => {
    const link = mail.links.find((candidate) => candidate.startsWith(`${hub.url}${path}?token=`));
    if (!link) throw new Error(`no ${path} link in: ${mail.text}`);
    return link;
  };
  const withLink = (path: string) => (mail: CaughtMail) => mail.links.some((link) => link.startsWith(`${hub.url}${path}?token=`));

  /** A change asked for and confirmed from `browser` (signed in as the account). */
  async function changeAddress(browser: TestBrowser, to: string): Promise<void> {
    const since = Date.now();
    const html = await (await browser.get(`${hub.url}/account`)).text();
    const asked = await browser.post(`${hub.url}/account/email`, { _csrf: inputValue(html, '_csrf'), email: to, current: PASSWORD });
    expect(asked.status).toBe(303);
    const link = linkOf(await catcher.waitFor(to, { since, filter: withLink('/account/email/confirm') }), '/account/email/confirm');
    const page = await (await browser.get(link)).text();
    const done = await browser.post(`${hub.url}/account/email/confirm`, { _csrf: inputValue(page, '_csrf'), token: inputValue(page, 'token') });
    expect(done.status).toBe(200);
  }

  async function openAndUndo(link: string, browser = new TestBrowser()) {
    const page = await browser.get(link);
    const html = await page.text();
    if (page.status !== 200) return { status: page.status, body: html };
    const answer = await browser.post(`${hub.url}/account/email/undo`, { _csrf: inputValue(html, '_csrf'), token: inputValue(html, 'token') });
    return { status: answer.status, body: await answer.text() };
  }

  async function askForReset(login: string): Promise<void> {
    const browser = new TestBrowser();
    const html = await (await browser.get(`${hub.url}/password/forgot`)).text();
    expect((await browser.post(`${hub.url}/password/forgot`, { _csrf: inputValue(html, '_csrf'), login })).status).toBe(303);
  }

  async function refreshTokenOf(username: string): Promise<string> {
    const request = codeRequest('rp', REDIRECT, { scope: 'openid offline_access', prompt: 'consent' });
    const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), { login: username, password: PASSWORD });
    const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: rpAuth });
    expect(tokens.status).toBe(200);
    return String(tokens.body.refresh_token);
  }

  test('a taker who changed the address and asked for a reset there: the old address gets it back, every session and token ends, the reset link dies', async () => {
    const alice = await newUser();
    const taker = await signInAtPortal(hub, alice.username, PASSWORD);
    const refreshToken = await refreshTokenOf(alice.username);
    const theirs = `taker-${alice.username}@evil.example.test`;
    const since = Date.now();
    await changeAddress(taker, theirs);
    expect((await hub.services.users.findById(alice.id))!.email).toBe(theirs);
    await askForReset(theirs);
    const resetLink = linkOf(await catcher.waitFor(theirs, { since, filter: withLink('/password/reset') }), '/password/reset');

    const changed = await catcher.waitFor(alice.email, { since, filter: withLink('/account/email/undo') });
    expect(changed.subject).toBe('The e-mail address of your account was changed');
    expect(changed.text).toContain(theirs);
    expect(changed.text).toContain('7 days');
    const undo = linkOf(changed, '/account/email/undo');
    // Opening the link (a mail scanner does) changes nothing; the button does.
    const opened = await new TestBrowser().get(undo);
    expect(await opened.text()).toContain(`data-testid="email-old">${alice.email}<`);
    expect((await hub.services.users.findById(alice.id))!.email).toBe(theirs);

    const done = await openAndUndo(undo);
    expect(done.status).toBe(200);
    expect(done.body).toContain('data-testid="email-restored"');
    expect(done.body).toContain('href="/password/forgot"');
    const user = await hub.services.users.findById(alice.id);
    expect([user!.email, user!.emailVerified]).toEqual([alice.email, true]);
    expect((await hub.services.users.findByLogin(alice.email))?.id).toBe(alice.id);
    expect(await hub.services.users.findByLogin(theirs)).toBeUndefined();
    // The taker's hub session, the subsite's refresh token and the reset link sent to their mailbox are dead.
    const account = await taker.get(`${hub.url}/account`);
    expect(account.status).toBe(303);
    expect(account.headers.get('location')).toMatch(/^\/login/);
    const refreshed = await postForm(`${hub.url}/token`, { grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization: rpAuth });
    expect([refreshed.status, refreshed.body.error]).toEqual([400, 'invalid_grant']);
    const resetPage = await new TestBrowser().get(resetLink);
    expect(resetPage.status).toBe(400);
    const audited = await hub.services.audit.search({ event: 'account.email.restored', user: alice.id });
    expect(audited).toHaveLength(1);
    expect(audited[0]!.detail).toMatchObject({ sessions: expect.any(Number), grants: expect.any(Number) });
    expect(Number(audited[0]!.detail!.sessions)).toBeGreaterThanOrEqual(1);

    const again = await openAndUndo(undo);
    expect(again.status).toBe(400);
    expect(again.body).toContain('data-testid="email-undo-invalid"');
  });

  test('a second change does not make the first link stale, and the address it replaces, set a moment ago, gets no link of its own', async () => {
    // A review: A → B → C sent B (the taker's) an undo link too; after the owner gave A back, the
    // taker used B's link, took the address back and reset the password there.
    const alice = await newUser();
    const taker = await signInAtPortal(hub, alice.username, PASSWORD);
    const since = Date.now();
    const first = `one-${alice.username}@evil.example.test`;
    await changeAddress(taker, first);
    await changeAddress(taker, `two-${alice.username}@evil.example.test`);
    const toFirst = await catcher.waitFor(first, { since, filter: (mail) => mail.subject === 'The e-mail address of your account was changed' });
    expect(toFirst.links.some((link) => link.includes('/account/email/undo'))).toBe(false);
    expect(toFirst.text).toContain('write to the administrator');
    const undo = linkOf(await catcher.waitFor(alice.email, { since, filter: withLink('/account/email/undo') }), '/account/email/undo');
    expect((await openAndUndo(undo)).status).toBe(200);
    expect((await hub.services.users.findById(alice.id))!.email).toBe(alice.email);
    // A given back keeps its age: a taker who changes it again at once (the password not reset
    // yet) sends the owner a new link, as the first time.
    const again = Date.now();
    await changeAddress(await signInAtPortal(hub, alice.username, PASSWORD), `three-${alice.username}@evil.example.test`);
    expect(linkOf(await catcher.waitFor(alice.email, { since: again, filter: withLink('/account/email/undo') }), '/account/email/undo')).toBeTruthy();
  });

  test('an address never verified gets the notice, not the link: it would take the account from the owner who moved on', async () => {
    // A review: an address mistyped at sign-up and never proven got the undo link, restored
    // itself and reset the password through it.
    const username = `u${randomUUID().slice(0, 8)}`;
    const mistyped = `${username}@mistyped.example.test`;
    const user = await hub.services.users.create({ username, email: mistyped, password: PASSWORD });
    expect((await hub.services.users.findById(user.id))!.emailVerified).not.toBe(true);
    const since = Date.now();
    await changeAddress(await signInAtPortal(hub, username, PASSWORD), `${username}@real.example.test`);
    const notice = await catcher.waitFor(mistyped, { since, filter: (mail) => mail.subject === 'The e-mail address of your account was changed' });
    expect(notice.links.some((link) => link.includes('/account/email/undo'))).toBe(false);
  });

  test('an old address another account has proven since: refused on the page (409), nothing changed', async () => {
    const alice = await newUser();
    const since = Date.now();
    const to = `new-${alice.username}@new.example.test`;
    await changeAddress(await signInAtPortal(hub, alice.username, PASSWORD), to);
    const undo = linkOf(await catcher.waitFor(alice.email, { since, filter: withLink('/account/email/undo') }), '/account/email/undo');
    const bob = await newUser();
    await hub.services.users.changeEmail(bob.id, alice.email, { verified: true });
    const answer = await openAndUndo(undo);
    expect(answer.status).toBe(409);
    expect(answer.body).toContain('data-testid="email-undo-taken"');
    expect((await hub.services.users.findById(alice.id))!.email).toBe(to);
  });

  test('the notice to the old address is in the language the change was asked in, not that of whoever opens the confirmation link', async () => {
    // A browser review: an English owner's "your address was changed" mail, the one with the
    // link back, came in Chinese because the link to the new mailbox was opened in a zh-CN browser
    // (another device, or the taker's). It follows the account page's language at the request.
    const user = await newUser();
    const owner = await signInAtPortal(hub, user.username, PASSWORD);
    const to = `${user.username}@new.example.test`;
    const since = Date.now();
    const html = await (await owner.get(`${hub.url}/account`, { 'accept-language': 'en' })).text();
    expect((await owner.post(`${hub.url}/account/email`, { _csrf: inputValue(html, '_csrf'), email: to, current: PASSWORD }, { 'accept-language': 'en' })).status).toBe(303);
    const link = linkOf(await catcher.waitFor(to, { since, filter: withLink('/account/email/confirm') }), '/account/email/confirm');
    const elsewhere = new TestBrowser();
    const page = await (await elsewhere.get(link, { 'accept-language': 'zh-CN' })).text();
    expect((await elsewhere.post(`${hub.url}/account/email/confirm`, { _csrf: inputValue(page, '_csrf'), token: inputValue(page, 'token') }, { 'accept-language': 'zh-CN' })).status).toBe(200);
    const notice = await catcher.waitFor(user.email, { since, filter: withLink('/account/email/undo') });
    expect(notice.lang).toBe('en');
    expect(notice.subject).toMatch(/e-mail address/);
  });

  test('reload and Back after giving the address back: this browser sees "restored" again, not "not valid"; another browser is refused', async () => {
    // As for the confirmation and sign-up links (an exploratory browser review): reloading the
    // answer sends the form again, and Back opens the spent link again. The owner's browser here
    // is signed in to the account: the undo still signs it out (what it remembers of the link is
    // not the session coming back).
    const alice = await newUser();
    const taker = await signInAtPortal(hub, alice.username, PASSWORD);
    const since = Date.now();
    await changeAddress(taker, `taker-${alice.username}@evil.example.test`);
    const undo = linkOf(await catcher.waitFor(alice.email, { since, filter: withLink('/account/email/undo') }), '/account/email/undo');
    const owner = await signInAtPortal(hub, alice.username, PASSWORD);
    const html = await (await owner.get(undo)).text();
    const form = { _csrf: inputValue(html, '_csrf'), token: inputValue(html, 'token') };
    const first = await owner.post(`${hub.url}/account/email/undo`, form);
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('data-testid="email-restored"');

    const reloaded = await owner.post(`${hub.url}/account/email/undo`, form);
    expect(reloaded.status).toBe(200);
    const reloadedBody = await reloaded.text();
    expect(reloadedBody).toContain('data-testid="email-restored"');
    expect(reloadedBody).toContain(alice.email);
    const back = await owner.get(undo);
    expect(back.status).toBe(200);
    expect(await back.text()).toContain('data-testid="email-restored"');
    expect(await hub.services.audit.search({ event: 'account.email.restored', user: alice.id })).toHaveLength(1);

    const elsewhere = await openAndUndo(undo);
    expect(elsewhere.status).toBe(400);
    const account = await owner.get(`${hub.url}/account`);
    expect(account.status).toBe(303);
  });

  test('an unknown link, and a POST without the CSRF token, change nothing', async () => {
    const unknown = await new TestBrowser().get(`${hub.url}/account/email/undo?token=${'A'.repeat(43)}`);
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('data-testid="email-undo-invalid"');
    const browser = new TestBrowser();
    await (await browser.get(`${hub.url}/account/email/undo?token=x`)).arrayBuffer();
    expect((await browser.post(`${hub.url}/account/email/undo`, { token: 'A'.repeat(43) })).status).toBe(403);
  });
});
