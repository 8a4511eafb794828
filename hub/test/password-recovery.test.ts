/**
 * Forgotten password (issue 13): a request by username or e-mail, the same answer for
 * unknown accounts, a single-use link valid PASSWORD_RESET_TTL whose token is kept only as a
 * digest, limits per address and per account (mails, never a lock), and a reset that ends
 * every session and token of the user at the hub and at subsites, clears the sign-in
 * throttle and tells the user. Real Redis, real SMTP server in-process (smtp-server).
 */
import { createHash, randomUUID } from 'node:crypto';
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startSmtpCatcher, type CaughtMail, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { RedisStore } from '../src/store/redis.js';
import { legacyHashFrom } from '../src/users/legacy-hash.js';
import { authUrl, basic, codeRequest, isSignedIn, pageWithCsrf, postForm, walk } from './support.js';
import { scanKeys } from '../src/store/redis-client.js';

const REDIRECT = 'http://rp.test/cb';
const PASSWORD = 'looking-glass-42';
const NEW_PASSWORD = 'tulgey-wood-burbled-77';

/** Asks for a reset link the way a browser does; returns the answer's status, where it redirected, and the page it led to. */
async function askForReset(hub: RunningHub, login: string, browser = new TestBrowser(), headers: Record<string, string> = {}) {
  const form = await browser.get(`${hub.url}/password/forgot`, headers);
  const html = await form.text();
  const answer = await browser.post(`${hub.url}/password/forgot`, { _csrf: inputValue(html, '_csrf'), login }, headers);
  const body = await answer.text();
  return { status: answer.status, location: answer.headers.get('location'), body, browser };
}

function resetLinkOf(mail: CaughtMail, hub: RunningHub): string {
  const link = mail.links.find((candidate) => candidate.startsWith(`${hub.url}/password/reset?token=`));
  if (!link) throw new Error(`no reset link in: ${mail.text}`);
  return link;
}

/** Opens a reset link and submits the new password; returns the final answer. */
async function useResetLink(link: string, password: string, confirm = password, browser = new TestBrowser()) {
  const page = await browser.get(link);
  const html = await page.text();
  if (page.status !== 200) return { status: page.status, body: html };
  const answer = await browser.post(new URL('/password/reset', link).toString(), { _csrf: inputValue(html, '_csrf'), token: inputValue(html, 'token'), password, confirm });
  // A reset that went through redirects (post/redirect/get), so a reload does not send it again.
  const location = answer.headers.get('location');
  if (answer.status === 303 && location) {
    const landed = await browser.get(new URL(location, link).toString());
    return { status: landed.status, body: await landed.text(), redirected: true };
  }
  return { status: answer.status, body: await answer.text(), redirected: false };
}

describe('Forgotten password (redis, real SMTP)', () => {
  let hub: RunningHub;
  let catcher: SmtpCatcher;
  let rpAuth: string;

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    hub = await startTestHub('redis', { SMTP_URL: catcher.url, RECOVERY_REQUESTS_PER_IP: '1000', RECOVERY_MAILS_PER_ACCOUNT: '3' });
    const rp = await hub.services.clients.register({
      clientId: 'rp',
      trusted: true,
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code', 'refresh_token'],
      backchannelLogoutUri: 'http://rp.test/sso/backchannel-logout',
      userdeleteUrl: 'http://rp.test/sso/userdelete',
    });
    rpAuth = basic('rp', rp.clientSecret!);
  });
  afterAll(async () => {
    await hub.close();
    await catcher.close();
  });

  async function newUser(options: { passwordHash?: string } = {}) {
    const username = `u${randomUUID().slice(0, 8)}`;
    const email = `${username}@example.test`;
    const user = options.passwordHash
      ? await hub.services.users.importUser({ username, email, name: 'Alice', passwordHash: options.passwordHash })
      : await hub.services.users.create({ username, email, name: 'Alice', password: PASSWORD });
    return { id: user.id, username, email };
  }

  async function resetMailFor(email: string, since: number): Promise<CaughtMail> {
    return catcher.waitFor(email, { since, filter: (mail) => mail.links.some((link) => link.includes('/password/reset?token=')) });
  }

  test('by username or e-mail: a link arrives by e-mail, in the language of the request', async () => {
    const alice = await newUser();
    const since = Date.now();
    const asked = await askForReset(hub, alice.username);
    expect(asked.status).toBe(303);
    expect(asked.location).toBe('/password/forgot?sent=1');
    const mail = await resetMailFor(alice.email, since);
    expect(mail.subject).toBe('Reset your password');
    expect(mail.text).toContain(`${hub.url}/password/reset?token=`);
    expect(mail.text).toContain('30 minutes');

    const zhSince = Date.now();
    await askForReset(hub, alice.email.toUpperCase(), new TestBrowser(), { 'accept-language': 'zh-CN,zh;q=0.9' });
    const zh = await catcher.waitFor(alice.email, { since: zhSince, filter: (mail) => mail.lang === 'zh-CN' });
    expect(zh.subject).toBe('重置您的密码');
    expect(zh.lang).toBe('zh-CN');
  });

  const adminBrowser = new TestBrowser();
  test("an admin's password reset tells the owner in the language they last signed in in (an accounts review: accounts an admin made got English)", async () => {
    const owner = await newUser(); // made by an admin: no language recorded
    expect((await hub.services.users.findById(owner.id))!.locale).toBeUndefined();
    const browser = new TestBrowser();
    await browser.get(`${hub.url}/lang?to=zh-CN&next=/`);
    await signInAtPortal(hub, owner.username, PASSWORD, browser);
    expect((await hub.services.users.findById(owner.id))!.locale).toBe('zh-CN');
    await hub.services.users.create({ username: `adm${randomUUID().slice(0, 8)}`, email: `adm-${randomUUID().slice(0, 8)}@example.test`, password: PASSWORD, roles: ['admin'] }).then((admin) =>
      signInAtPortal(hub, admin.username, PASSWORD, adminBrowser),
    );
    const detail = await pageWithCsrf(adminBrowser, `${hub.url}/admin/users/${owner.id}`);
    const since = Date.now();
    expect((await adminBrowser.post(`${hub.url}/admin/users/${owner.id}/password`, { _csrf: detail.csrf, password: NEW_PASSWORD, confirm: NEW_PASSWORD })).status).toBe(303);
    const notice = await catcher.waitFor(owner.email, { since });
    expect([notice.lang, notice.subject]).toEqual(['zh-CN', '您的密码已更改']);
    // Signed in again in English: from then on English.
    await signInAtPortal(hub, owner.username, NEW_PASSWORD, new TestBrowser());
    expect((await hub.services.users.findById(owner.id))!.locale).toBe('en');
  });

  test('an unknown account gets the same answer and no mail is sent', async () => {
    const known = await newUser();
    const knownAnswer = await askForReset(hub, known.username);
    await hub.services.recovery.settled();
    const tokensBefore = await scanCount(hub, `${hub.config.KEY_PREFIX}account-token:*`);
    const unknownLogin = `nobody-${randomUUID()}@example.test`;
    const unknownAnswer = await askForReset(hub, unknownLogin);
    expect(unknownAnswer.status).toBe(knownAnswer.status);
    expect(unknownAnswer.location).toBe(knownAnswer.location);
    // The page the browser lands on is the same too.
    const knownPage = await knownAnswer.browser.follow(`${hub.url}${knownAnswer.location}`);
    const unknownPage = await unknownAnswer.browser.follow(`${hub.url}${unknownAnswer.location}`);
    const strip = (html: string) => html.replace(/name="_csrf" value="[^"]*"/g, '');
    expect(strip(unknownPage.body)).toBe(strip(knownPage.body));
    await hub.services.recovery.settled();
    await resetMailFor(known.email, 0);
    expect(catcher.to(unknownLogin)).toHaveLength(0);
    // No link was made for the unknown login.
    expect(await scanCount(hub, `${hub.config.KEY_PREFIX}account-token:*`)).toBe(tokensBefore);
  });

  test('the token is kept only as its SHA-256 digest, with a TTL of PASSWORD_RESET_TTL', async () => {
    const alice = await newUser();
    const since = Date.now();
    await askForReset(hub, alice.username);
    const link = resetLinkOf(await resetMailFor(alice.email, since), hub);
    const token = new URL(link).searchParams.get('token')!;
    const client = (hub.store as RedisStore).client;
    const digestKey = `${hub.config.KEY_PREFIX}account-token:password-reset:${createHash('sha256').update(token).digest('base64url')}`;
    const stored = await client.get(digestKey);
    expect(stored).toContain(alice.id);
    const ttl = await client.ttl(digestKey);
    expect(ttl).toBeGreaterThan(hub.config.PASSWORD_RESET_TTL - 120);
    expect(ttl).toBeLessThanOrEqual(hub.config.PASSWORD_RESET_TTL);
    // The token itself appears in no key and no value under the hub's prefix.
    for await (const keys of scanKeys(client, `${hub.config.KEY_PREFIX}*`)) {
      for (const key of keys) {
        expect(key).not.toContain(token);
        if ((await client.type(key)) === 'string') expect(await client.get(key)).not.toContain(token);
      }
    }
  });

  test('a link works once; a second use, a made-up token and an expired link get a friendly page', async () => {
    const alice = await newUser();
    const since = Date.now();
    await askForReset(hub, alice.username);
    const link = resetLinkOf(await resetMailFor(alice.email, since), hub);
    const first = await useResetLink(link, NEW_PASSWORD);
    expect(first.status).toBe(200);
    expect(first.body).toContain('data-testid="reset-done"');
    expect(first.redirected).toBe(true); // a reload of the page it lands on shows it done again, not "link expired"
    const reloaded = await fetch(`${hub.url}/password/reset?done=1`);
    expect(reloaded.status).toBe(200);
    expect(await reloaded.text()).toContain('data-testid="reset-done"');
    const again = await useResetLink(link, 'another-new-secret-55');
    expect(again.status).toBe(400);
    expect(again.body).toContain('data-testid="reset-invalid"');
    const madeUp = await useResetLink(`${hub.url}/password/reset?token=${'A'.repeat(43)}`, NEW_PASSWORD);
    expect(madeUp.status).toBe(400);
    expect(madeUp.body).toContain('data-testid="reset-invalid"');
    // The password is the first one set.
    expect(await isSignedIn(await signInAtPortal(hub, alice.username, NEW_PASSWORD), hub.url)).toBe(true);
  });

  test('Back to the link in the browser that has just used it shows the reset done, not "expired, ask for a new one"', async () => {
    const alice = await newUser();
    const since = Date.now();
    await askForReset(hub, alice.username);
    const link = resetLinkOf(await resetMailFor(alice.email, since), hub);
    const browser = new TestBrowser();
    expect((await useResetLink(link, NEW_PASSWORD, NEW_PASSWORD, browser)).body).toContain('data-testid="reset-done"');
    // Back from the page it landed on opens the link again: the person who has just set the
    // password is not told the link expired (and asked to get a new one).
    const opened = await browser.get(link);
    const back = opened.status === 303 ? await browser.get(new URL(opened.headers.get('location')!, link).toString()) : opened;
    const html = await back.text();
    expect(back.status).toBe(200);
    expect(html).toContain('data-testid="reset-done"');
    expect(html).not.toContain('data-testid="reset-invalid"');
    expect(html).not.toContain('name="password"');
    // Any other browser still gets the spent link's page, and the password stays the one set.
    const elsewhere = await new TestBrowser().get(link);
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.text()).toContain('data-testid="reset-invalid"');
    expect(await isSignedIn(await signInAtPortal(hub, alice.username, NEW_PASSWORD), hub.url)).toBe(true);
  });

  test('a link no longer works once it expired', async () => {
    const shortHub = await startTestHub('redis', { SMTP_URL: catcher.url, PASSWORD_RESET_TTL: '1' });
    try {
      const username = `u${randomUUID().slice(0, 8)}`;
      await shortHub.services.users.create({ username, email: `${username}@example.test`, password: PASSWORD });
      const since = Date.now();
      await askForReset(shortHub, username);
      const mail = await catcher.waitFor(`${username}@example.test`, { since });
      const link = mail.links.find((candidate) => candidate.includes('/password/reset?token='))!;
      // The record's TTL is 1 s: wait until Redis has dropped it.
      const token = new URL(link).searchParams.get('token')!;
      const key = `${shortHub.config.KEY_PREFIX}account-token:password-reset:${createHash('sha256').update(token).digest('base64url')}`;
      for (let i = 0; i < 100 && (await (shortHub.store as RedisStore).client.exists(key)); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
      const late = await useResetLink(link, NEW_PASSWORD);
      expect(late.status).toBe(400);
      expect(late.body).toContain('data-testid="reset-invalid"');
    } finally {
      await shortHub.close();
    }
  });

  test('an older link dies when the password changes by another link', async () => {
    const alice = await newUser();
    const since = Date.now();
    await askForReset(hub, alice.username);
    const first = resetLinkOf(await resetMailFor(alice.email, since), hub);
    const secondSince = Date.now();
    await askForReset(hub, alice.username);
    const second = resetLinkOf(await catcher.waitFor(alice.email, { since: secondSince, filter: (mail) => mail.links.some((l) => l.includes('/password/reset?token=') && l !== first) }), hub);
    expect(second).not.toBe(first);
    expect((await useResetLink(second, NEW_PASSWORD)).status).toBe(200);
    const stale = await useResetLink(first, 'yet-another-secret-31');
    expect(stale.status).toBe(400);
    expect(stale.body).toContain('data-testid="reset-invalid"');
  });

  test('a link dies when the account moves to another address (the old mailbox may no longer be the owner\'s)', async () => {
    // A security review: a link sent to the old address still set a new password after the change.
    const alice = await newUser();
    const since = Date.now();
    await askForReset(hub, alice.username);
    const link = resetLinkOf(await resetMailFor(alice.email, since), hub);
    await hub.services.users.changeEmail(alice.id, `${alice.username}@moved.example.test`, { verified: true });
    const stale = await useResetLink(link, NEW_PASSWORD);
    expect(stale.status).toBe(400);
    expect(stale.body).toContain('data-testid="reset-invalid"');
  });

  test('anonymous reset requests do not use up the owner\'s e-mail change (a review: three of them blocked it for an hour)', async () => {
    const alice = await newUser();
    for (let i = 0; i < 4; i += 1) await askForReset(hub, alice.username);
    await hub.services.recovery.settled();
    const user = (await hub.services.users.findById(alice.id))!;
    await expect(hub.services.emailChange.request(user, PASSWORD, `${alice.username}@new.example.test`, 'en', '198.51.100.3')).resolves.toBeUndefined();
    await hub.services.emailChange.settled();
  });

  test('a weak or mismatched new password is refused on the page and leaves the link usable', async () => {
    const alice = await newUser();
    const since = Date.now();
    await askForReset(hub, alice.username);
    const link = resetLinkOf(await resetMailFor(alice.email, since), hub);
    const weak = await useResetLink(link, 'password1234');
    expect(weak.status).toBe(400);
    expect(weak.body).toMatch(/data-testid="reset-error">[^<]*too easy to guess/);
    const mismatch = await useResetLink(link, NEW_PASSWORD, `${NEW_PASSWORD}x`);
    expect(mismatch.status).toBe(400);
    expect(mismatch.body).toContain('data-testid="reset-error">The two passwords differ.<');
    // The language switch on that answer goes back to the link, not to the start page (a review: it lost the link).
    const switchTo = /href="\/lang\?to=zh-CN&amp;next=([^"]+)"/.exec(mismatch.body)?.[1];
    expect(decodeURIComponent(switchTo ?? '')).toBe(new URL(link).pathname + new URL(link).search);
    expect((await useResetLink(link, NEW_PASSWORD)).status).toBe(200);
  });

  test('the reset ends every session and token at the hub, tells subsites by back-channel logout, and mails the user', async () => {
    const alice = await newUser();
    const browsers = [await signInAtPortal(hub, alice.username, PASSWORD), await signInAtPortal(hub, alice.username, PASSWORD)];
    const request = codeRequest('rp', REDIRECT, { scope: 'openid offline_access', prompt: 'consent' });
    const { callback } = await walk(browsers[0]!, hub.url, authUrl(hub.url, request.params), { login: alice.username, password: PASSWORD });
    const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: rpAuth });
    expect(tokens.status).toBe(200);
    for (const browser of browsers) expect(await isSignedIn(browser, hub.url)).toBe(true);

    const since = Date.now();
    await askForReset(hub, alice.email);
    const link = resetLinkOf(await resetMailFor(alice.email, since), hub);
    expect((await useResetLink(link, NEW_PASSWORD)).status).toBe(200);

    for (const browser of browsers) expect(await isSignedIn(browser, hub.url)).toBe(false);
    const refresh = await postForm(`${hub.url}/token`, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) }, { authorization: rpAuth });
    expect(refresh.body.error).toBe('invalid_grant');
    const userinfo = await fetch(`${hub.url}/me`, { headers: { authorization: `Bearer ${String(tokens.body.access_token)}` } });
    expect(userinfo.status).toBe(401);
    // "Sign out everywhere", not a deletion: a back-channel logout for the user (no sid), and one for
    // the sid the ended session gave rp (an RP that requires sid ignores the first); no userdelete.
    const sid = JSON.parse(Buffer.from(String(tokens.body.id_token).split('.')[1]!, 'base64url').toString()).sid as string;
    expect(sid).toBeTruthy();
    const pending = (await hub.services.deliveries.list('pending')).filter((item) => item.sub === alice.id);
    expect(pending.map((item) => ({ kind: item.kind, clientId: item.clientId, sid: item.sid })).sort((a, b) => (a.sid ?? '').localeCompare(b.sid ?? ''))).toEqual([
      { kind: 'backchannel-logout', clientId: 'rp', sid: undefined },
      { kind: 'backchannel-logout', clientId: 'rp', sid },
    ]);
    const notice = await catcher.waitFor(alice.email, { since, filter: (mail) => mail.subject === 'Your password was changed' });
    expect(notice.text).toContain(alice.username);
    expect(await hub.services.audit.search({ event: 'password.reset.done', user: alice.id })).toHaveLength(1);
  });

  /** Wrong passwords from another browser until the account is throttled (429); whether it was. */
  async function guessUntilThrottled(username: string): Promise<boolean> {
    const attacker = new TestBrowser();
    for (let i = 0; i < hub.config.LOGIN_MAX_FAILURES_PER_ACCOUNT + 2; i += 1) {
      const throttled = await signInAtPortal(hub, username, `wrong-${i}-guess`, attacker).then(() => false, (error: Error) => error.message.includes('429'));
      if (throttled) return true;
    }
    return false;
  }

  test('the reset clears the sign-in throttle: the owner signs in at once with the new password', async () => {
    const alice = await newUser();
    expect(await guessUntilThrottled(alice.username)).toBe(true);
    await expect(signInAtPortal(hub, alice.username, PASSWORD)).rejects.toThrow('429');
    const since = Date.now();
    await askForReset(hub, alice.username);
    const link = resetLinkOf(await resetMailFor(alice.email, since), hub);
    expect((await useResetLink(link, NEW_PASSWORD)).status).toBe(200);
    expect(await isSignedIn(await signInAtPortal(hub, alice.username, NEW_PASSWORD), hub.url)).toBe(true);
  });

  test('the browser that reset the password stays a known device: a guesser who keeps at it does not hold the owner out', async () => {
    // A review: the reset renewed the sign-in generation (every device cookie from before proves
    // nothing) but gave the browser that set the new password none, so five more wrong guesses
    // from elsewhere right after the reset made the owner wait there too (429).
    const alice = await newUser();
    const owner = new TestBrowser();
    const since = Date.now();
    await askForReset(hub, alice.username, owner);
    const link = resetLinkOf(await resetMailFor(alice.email, since), hub);
    expect((await useResetLink(link, NEW_PASSWORD, NEW_PASSWORD, owner)).status).toBe(200);
    expect(await guessUntilThrottled(alice.username)).toBe(true);
    await expect(signInAtPortal(hub, alice.username, NEW_PASSWORD)).rejects.toThrow('429');
    expect(await isSignedIn(await signInAtPortal(hub, alice.username, NEW_PASSWORD, owner), hub.url)).toBe(true);
  });

  test('works for a user imported with a legacy UCenter hash, which becomes argon2id', async () => {
    const salt = 'abc123';
    const md5 = (value: string) => createHash('md5').update(value).digest('hex');
    const alice = await newUser({ passwordHash: legacyHashFrom(md5(md5('old-ucenter-pw') + salt), salt)! });
    expect(await hub.services.users.legacyHashCount()).toBeGreaterThan(0);
    const since = Date.now();
    await askForReset(hub, alice.username);
    const link = resetLinkOf(await resetMailFor(alice.email, since), hub);
    expect((await useResetLink(link, NEW_PASSWORD)).status).toBe(200);
    const user = await hub.services.users.findById(alice.id);
    expect(user!.passwordHash.startsWith('$argon2id$')).toBe(true);
    expect(await isSignedIn(await signInAtPortal(hub, alice.username, NEW_PASSWORD), hub.url)).toBe(true);
  });

  test('per account: at most RECOVERY_MAILS_PER_ACCOUNT mails per window, the same answer after, and the owner is never locked', async () => {
    const alice = await newUser();
    const since = Date.now();
    const answers = [];
    for (let i = 0; i < 5; i += 1) answers.push(await askForReset(hub, alice.username));
    await hub.services.recovery.settled();
    for (const answer of answers) expect([answer.status, answer.location]).toEqual([303, '/password/forgot?sent=1']);
    const received = () => catcher.to(alice.email).filter((mail) => mail.receivedAt >= since).length;
    for (let i = 0; i < 200 && received() < 3; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(catcher.to(alice.email).filter((mail) => mail.receivedAt >= since)).toHaveLength(3);
    expect(await hub.services.audit.search({ event: 'password.reset.limited', user: alice.id })).toHaveLength(2);
    // The owner still signs in with the current password.
    expect(await isSignedIn(await signInAtPortal(hub, alice.username, PASSWORD), hub.url)).toBe(true);
  });

  test('mails the SMTP server did not take do not use up the account\'s share: once it is back, the owner\'s request brings a working link (a mail-fault review)', async () => {
    const alice = await newUser();
    // The mail server fails (a 451 to RCPT TO: greylisting, a full queue) for three requests, a whole share.
    catcher.refuseRecipient = (address) => (address === alice.email ? { code: 451, text: `4.7.1 <${address}>: Recipient address rejected: try again later` } : undefined);
    try {
      for (let i = 0; i < 3; i += 1) expect((await askForReset(hub, alice.username)).location).toBe('/password/forgot?sent=1');
      await hub.services.recovery.settled();
    } finally {
      catcher.refuseRecipient = undefined;
    }
    expect(catcher.to(alice.email)).toHaveLength(0);
    // The mail server is back: the owner asks, and a link arrives that works.
    const since = Date.now();
    await askForReset(hub, alice.username);
    await hub.services.recovery.settled();
    expect(await hub.services.audit.search({ event: 'password.reset.limited', user: alice.id })).toHaveLength(0);
    const mail = await resetMailFor(alice.email, since);
    const done = await useResetLink(resetLinkOf(mail, hub), NEW_PASSWORD);
    expect(done.status).toBe(200);
    // The operator sees the failures on a graph too (sso_mails_total), not only in the log.
    const failed = (await hub.services.metrics.registry.getSingleMetric('sso_mails_total')!.get()).values.find((value) => value.labels.template === 'password-reset' && value.labels.outcome === 'failed');
    expect(failed?.value).toBeGreaterThanOrEqual(3);
    // No live reset link was left behind by the mails that never went: nobody holds them (the one used is gone too).
    const client = (hub.store as RedisStore).client;
    const live = [];
    for await (const keys of scanKeys(client, `${hub.config.KEY_PREFIX}account-token:password-reset:*`)) {
      for (const key of keys) if ((await client.get(key))?.includes(alice.id)) live.push(key);
    }
    expect(live).toEqual([]);
  });

  test('per address: past RECOVERY_REQUESTS_PER_IP a 429 page with Retry-After, whatever the login', async () => {
    const limited = await startTestHub('redis', { SMTP_URL: catcher.url, RECOVERY_REQUESTS_PER_IP: '2' });
    try {
      const statuses = [];
      for (const login of ['a', 'b', 'c']) {
        const browser = new TestBrowser();
        const page = await browser.get(`${limited.url}/password/forgot`);
        const html = await page.text();
        const answer = await browser.post(`${limited.url}/password/forgot`, { _csrf: inputValue(html, '_csrf'), login });
        const body = await answer.text();
        statuses.push(answer.status);
        if (answer.status === 429) {
          expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
          expect(body).toContain('data-testid="forgot-error"');
        }
      }
      expect(statuses).toEqual([303, 303, 429]);
    } finally {
      await limited.close();
    }
  });

  test('without the CSRF token nothing is sent (403)', async () => {
    const alice = await newUser();
    const browser = new TestBrowser();
    await (await browser.get(`${hub.url}/password/forgot`)).arrayBuffer();
    const answer = await browser.post(`${hub.url}/password/forgot`, { login: alice.username });
    expect(answer.status).toBe(403);
    await hub.services.recovery.settled();
    expect(catcher.to(alice.email)).toHaveLength(0);
  });
});

describe('Forgotten password with no way to send mail', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('redis');
  });
  afterAll(() => hub.close());

  test('the page says so (503) instead of pretending a link was sent', async () => {
    const page = await new TestBrowser().get(`${hub.url}/password/forgot`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('data-testid="forgot-unavailable"');
  });
});

async function scanCount(hub: RunningHub, pattern: string): Promise<number> {
  let count = 0;
  for await (const keys of scanKeys((hub.store as RedisStore).client, pattern)) count += keys.length;
  return count;
}
