/**
 * "Delete my account" on the account page (GDPR art. 17 self-service; OWASP ASVS 5 V7.5
 * re-authentication for a sensitive change, V3.5 CSRF): the current password (and the second
 * step where it is on) and a ticked confirmation, then the console's delete path (sessions,
 * grants and tokens end, a signed userdelete for every subsite through the delivery queue, an
 * audit entry), a signed-out page, and a notice to the address. Real Redis, real SMTP.
 */
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, hubWithMailbox, isSignedIn, postAccountForm, postForm, signOut, walk } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const PASSWORD = 'looking-glass-42';

async function deletePage(hub: RunningHub, browser: TestBrowser): Promise<string> {
  const page = await browser.get(`${hub.url}/account/delete`);
  expect(page.status).toBe(200);
  return page.text();
}

describe('Account page: delete my account (redis)', () => {
  let hub: RunningHub;
  let rpAuth: string;

  beforeAll(async () => {
    hub = await startTestHub('redis');
    const rp = await hub.services.clients.register({
      clientId: 'rp',
      name: 'Relying Party',
      trusted: true,
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code', 'refresh_token'],
      userdeleteUrl: 'http://127.0.0.1:9/sso/userdelete',
    });
    rpAuth = basic('rp', rp.clientSecret!);
    await hub.services.clients.register({ clientId: 'wiki', name: 'Wiki', redirectUris: ['http://wiki.test/cb'], backchannelLogoutUri: 'http://127.0.0.1:9/sso/backchannel-logout' });
  });
  afterAll(() => hub.close());

  let counter = 0;
  async function newUser(roles: string[] = []): Promise<{ id: string; username: string }> {
    counter += 1;
    const username = `del${counter}-${Date.now()}`;
    const user = await hub.services.users.create({ username, email: `${username}@example.test`, name: 'Deleted Soon', password: PASSWORD, roles });
    return { id: user.id, username };
  }

  test('the account page links to it; the page says what happens and asks the password and a confirmation', async () => {
    const { username } = await newUser();
    const browser = await signInAtPortal(hub, username, PASSWORD);
    expect(await (await browser.get(`${hub.url}/account`)).text()).toContain('href="/account/delete" data-testid="delete-account-link"');
    const html = await deletePage(hub, browser);
    expect(html).toContain(`data-testid="delete-effect">The account ${username} will be deleted`);
    expect(html).toMatch(/<label>Current password <input name="current" type="password" autocomplete="current-password"/);
    expect(html).toMatch(/<label><input type="checkbox" name="confirm" value="yes" required/);
    expect(html).not.toContain('name="code"'); // no two-step on this account
    const zh = await (await browser.get(`${hub.url}/account/delete`, { 'accept-language': 'zh-CN' })).text();
    expect(zh).toContain('删除您的账号');
    expect(zh).toContain('我明白我的账号将被永久删除');
  });

  test('deletes the account the way the console does: sessions and tokens end, every subsite is told, audited; then a signed-out page', async () => {
    const { id, username } = await newUser();
    const a = await signInAtPortal(hub, username, PASSWORD);
    // Another device, signed in to rp with a refresh token.
    const b = await signInAtPortal(hub, username, PASSWORD);
    const request = codeRequest('rp', REDIRECT, { scope: 'openid profile offline_access', prompt: 'consent' });
    const { callback } = await walk(b, hub.url, authUrl(hub.url, request.params), { login: username, password: PASSWORD });
    const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: rpAuth });
    expect(tokens.status).toBe(200);

    const html = await deletePage(hub, a);
    const answer = await a.post(`${hub.url}/account/delete`, { _csrf: inputValue(html, '_csrf'), current: PASSWORD, confirm: 'yes' });
    await answer.arrayBuffer();
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/account/deleted');

    expect(await hub.services.users.findById(id)).toBeUndefined();
    expect(await isSignedIn(a, hub.url)).toBe(false);
    expect(await isSignedIn(b, hub.url)).toBe(false);
    const refreshed = await postForm(`${hub.url}/token`, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) }, { authorization: rpAuth });
    expect(refreshed.status).toBe(400);
    // A signed userdelete for the subsite with a userdelete URL, a back-channel logout for the other.
    const pending = (await hub.services.deliveries.list('pending')).filter((item) => item.sub === id);
    expect(pending.filter((item) => item.kind === 'userdelete').map((item) => item.clientId)).toEqual(['rp']);
    expect(pending.some((item) => item.kind === 'backchannel-logout' && item.clientId === 'wiki')).toBe(true);
    const audit = await hub.services.audit.search({ event: 'account.deleted', user: id });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: id, subject: id });

    const signedOut = await a.get(`${hub.url}/account/deleted`);
    expect(signedOut.status).toBe(200);
    expect(await signedOut.text()).toContain('data-testid="account-deleted">Your account was deleted<');
    // Once: a reload (or another browser) gets the sign-in page, not the notice.
    const again = await a.get(`${hub.url}/account/deleted`);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/login');
    await expect(signInAtPortal(hub, username, PASSWORD)).rejects.toThrow('sign-in failed (401)');
  });

  test('a wrong password, an unticked box or odd input is refused on the page (never a 500) and deletes nothing', async () => {
    const { id, username } = await newUser();
    const browser = await signInAtPortal(hub, username, PASSWORD);
    const cases: [Record<string, string | string[]>, number, string][] = [
      [{ current: 'not-the-password', confirm: 'yes' }, 400, 'Your current password is not right.'],
      [{ current: PASSWORD }, 400, 'Please tick the box'],
      [{ current: PASSWORD, confirm: 'on' }, 400, 'Please tick the box'],
      [{ current: [PASSWORD, PASSWORD], confirm: 'yes' }, 400, 'Your current password is not right.'],
      [{ current: PASSWORD, confirm: ['yes', 'yes'] }, 400, 'Please tick the box'],
      [{ current: 'x'.repeat(20_000), confirm: 'yes' }, 400, 'Your current password is not right.'],
    ];
    for (const [form, status, message] of cases) {
      const html = await deletePage(hub, browser);
      const body = new URLSearchParams();
      body.set('_csrf', inputValue(html, '_csrf'));
      for (const [name, value] of Object.entries(form)) for (const one of [value].flat()) body.append(name, one);
      const posted = await browser.request(`${hub.url}/account/delete`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body.toString() });
      await posted.arrayBuffer();
      expect([posted.status, posted.headers.get('location')]).toEqual([303, '/account/delete']);
      const answer = await browser.get(`${hub.url}/account/delete`);
      const text = await answer.text();
      expect(answer.status).toBe(status);
      expect(/data-testid="delete-error">([^<]*)</.exec(text)?.[1]).toContain(message);
      expect(text).toMatch(/aria-invalid="true"[^>]*autofocus/);
    }
    expect(await hub.services.users.findById(id)).toBeDefined();
    expect(await isSignedIn(browser, hub.url)).toBe(true);
    // The unticked box spent no password attempt: only the wrong passwords were counted.
    expect(await hub.services.audit.search({ event: 'account.password.wrong', user: id })).toHaveLength(3);
  });

  test('without the page\'s CSRF token nothing is deleted (403)', async () => {
    const { id, username } = await newUser();
    const browser = await signInAtPortal(hub, username, PASSWORD);
    await deletePage(hub, browser);
    for (const token of [undefined, 'not-the-token']) {
      const answer = await browser.post(`${hub.url}/account/delete`, { ...(token ? { _csrf: token } : {}), current: PASSWORD, confirm: 'yes' });
      await answer.arrayBuffer();
      expect(answer.status).toBe(403);
    }
    expect(await hub.services.users.findById(id)).toBeDefined();
  });

  test('guessing the password from a signed-in session is throttled (429, Retry-After), and the owner can still sign in', async () => {
    const { id, username } = await newUser();
    const browser = await signInAtPortal(hub, username, PASSWORD);
    let last: Response | undefined;
    for (let i = 0; i < hub.config.LOGIN_MAX_FAILURES_PER_ACCOUNT + 2; i += 1) {
      const html = await deletePage(hub, browser);
      last = await postAccountForm(browser, `${hub.url}/account/delete`, { _csrf: inputValue(html, '_csrf'), current: `guess-${i}`, confirm: 'yes' });
      await last.arrayBuffer();
    }
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await hub.services.users.findById(id)).toBeDefined();
    // Judged on the session's own pool (account and address): the owner's browser, a known device,
    // still signs in at the sign-in form after signing out. (A browser the account never saw shares
    // the account's pool, which the guesses fed: that is the sign-in throttle's rule, not changed here.)
    await signOut(browser, hub.url);
    expect(await isSignedIn(await signInAtPortal(hub, username, PASSWORD, browser), hub.url)).toBe(true);
  });

  test('with two-step sign-in on, the password alone is not enough: a code is asked too', async () => {
    const { id, username } = await newUser();
    const browser = await signInAtPortal(hub, username, PASSWORD);
    const enrol = await (await browser.get(`${hub.url}/account/two-step`)).text();
    const secret = attribute(enrol, /data-testid="totp-secret">([A-Z2-7]+)</);
    const { totpCode } = await import('../src/testing/totp.js');
    const enabled = await browser.post(`${hub.url}/account/two-step/enable`, { _csrf: inputValue(enrol, '_csrf'), proof: PASSWORD, code: totpCode(secret, -1) });
    const codes = [...(await enabled.text()).matchAll(/<li><code>([0-9a-z]{5}-[0-9a-z]{5})<\/code><\/li>/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(0);

    let html = await deletePage(hub, browser);
    expect(html).toMatch(/<label>Two-step code or recovery code <input name="code" autocomplete="one-time-code"/);
    for (const code of ['', '000000-not-a-code']) {
      const refused = await postAccountForm(browser, `${hub.url}/account/delete`, { _csrf: inputValue(html, '_csrf'), current: PASSWORD, code, confirm: 'yes' });
      const text = await refused.text();
      expect(refused.status).toBe(400);
      expect(/data-testid="delete-error">([^<]*)</.exec(text)?.[1]).toContain('That code is not right');
      expect(text).toMatch(/name="code"[^>]*aria-invalid="true"[^>]*autofocus/);
      html = text;
    }
    // A wrong code is a failed proof like a wrong password (audited as account.password.wrong):
    // a deletion tried from a stolen session with a phished password shows in the log. The empty
    // field was no guess and is not recorded.
    const failures = await hub.services.audit.search({ event: 'login.failure', user: id });
    expect(failures.map((entry) => entry.detail)).toEqual([{ step: 'account-delete' }]);
    expect(await hub.services.users.findById(id)).toBeDefined();
    const answer = await browser.post(`${hub.url}/account/delete`, { _csrf: inputValue(html, '_csrf'), current: PASSWORD, code: codes[0]!, confirm: 'yes' });
    await answer.arrayBuffer();
    expect(answer.status).toBe(303);
    expect(await hub.services.users.findById(id)).toBeUndefined();
    expect(await hub.services.twoStep.isEnabled(id)).toBe(false);
  });

  test('the last enabled admin cannot delete themselves (409, the console\'s last-admin rule); with another admin they can', async () => {
    // Other admins left by other test files on the shared test Redis would hide the rule: only the ones of this run count.
    const admins = (await hub.services.users.list()).filter((user) => user.roles.includes('admin') && !user.disabled);
    for (const other of admins) await hub.services.users.update(other.id, { disabled: true });
    try {
      const admin = await newUser(['admin']);
      const browser = await signInAtPortal(hub, admin.username, PASSWORD);
      const html = await deletePage(hub, browser);
      const refused = await postAccountForm(browser, `${hub.url}/account/delete`, { _csrf: inputValue(html, '_csrf'), current: PASSWORD, confirm: 'yes' });
      const text = await refused.text();
      expect(refused.status).toBe(409);
      expect(/data-testid="delete-error">([^<]*)</.exec(text)?.[1]).toContain('You are the only enabled admin');
      const kept = await hub.services.users.findById(admin.id);
      expect(kept).toMatchObject({ disabled: false });
      expect(await isSignedIn(browser, hub.url)).toBe(true);

      await newUser(['admin']);
      const again = await deletePage(hub, browser);
      const answer = await browser.post(`${hub.url}/account/delete`, { _csrf: inputValue(again, '_csrf'), current: PASSWORD, confirm: 'yes' });
      await answer.arrayBuffer();
      expect(answer.status).toBe(303);
      expect(await hub.services.users.findById(admin.id)).toBeUndefined();
    } finally {
      for (const other of admins) await hub.services.users.update(other.id, { disabled: false });
    }
  });

  test('signed out: the page and the form send to sign-in, nothing is deleted', async () => {
    const browser = new TestBrowser();
    const page = await browser.get(`${hub.url}/account/delete`);
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(`/login?next=${encodeURIComponent('/account/delete')}`);
  });
});

describe('Account page: the address is told of the deletion (redis, real SMTP)', () => {
  const mailbox = hubWithMailbox();

  test('a deletion sends "your account was deleted" to the address, in the page\'s language; the signed-out page says so', async () => {
    const { hub, catcher } = mailbox;
    const username = `delmail-${Date.now()}`;
    const email = `${username}@example.test`;
    await hub.services.users.create({ username, email, name: 'Mail', password: PASSWORD });
    const browser = await signInAtPortal(hub, username, PASSWORD);
    browser.cookies(hub.url).set('lang', 'zh-CN');
    const since = Date.now();
    const html = await deletePage(hub, browser);
    const answer = await browser.post(`${hub.url}/account/delete`, { _csrf: inputValue(html, '_csrf'), current: PASSWORD, confirm: 'yes' });
    await answer.arrayBuffer();
    expect(answer.status).toBe(303);
    const mail = await catcher.waitFor(email, { since });
    expect(mail.subject).toBe('您的账号已删除');
    expect(mail.text).toContain(username);
    const page = await (await browser.get(`${hub.url}/account/deleted`)).text();
    expect(page).toContain('一封通知邮件已发送到该账号的电子邮件地址');
  });
});
