import { decodeJwt } from 'jose';
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { continueUrlOf, signInAt, signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';
import { awayFromStepEdge, totpCode } from '../src/testing/totp.js';
import { UcClient } from '../src/testing/ucenter-client.js';
import { RedisStore } from '../src/store/redis.js';
import { OTP_REQUIRED } from '../src/oidc/password-grant.js';
import { runCli } from '../src/cli.js';
import { authUrl, basic, codeRequest, hubWithMailbox, isSignedIn, postAccountForm, postForm, signOut } from './support.js';
import { scanKeys } from '../src/store/redis-client.js';
import { SecretBox } from '../src/two-step/secret-box.js';

const REDIRECT = 'http://rp.test/cb';
let counter = 0;

/** Two-step sign-in (issue 13) against a real Redis: enrolment, the second step, replay, recovery codes, throttle, legacy APIs. */
describe('two-step sign-in (TOTP, RFC 6238) on Redis', () => {
  let hub: RunningHub;
  let rpAuth: string;

  beforeAll(async () => {
    // Every sign-in and password proof of the file comes from 127.0.0.1: the per-address limit is not what is tested here.
    hub = await startTestHub('redis', { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_BACKOFF_BASE_SECONDS: '60', HUB_ENABLE_PASSWORD_GRANT: 'true', LOGIN_MAX_ATTEMPTS_PER_IP: '500' });
    const client = await hub.services.clients.register({
      clientId: 'rp', trusted: true, redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token', 'password'],
    });
    rpAuth = basic('rp', client.clientSecret!);
  });
  afterAll(() => hub.close());

  async function newUser(roles: string[] = []) {
    counter += 1;
    const username = `user${counter}`;
    const password = `${username}-password-1`;
    const user = await hub.services.users.create({ username, email: `${username}@example.test`, password, roles });
    return { ...user, password };
  }

  /** The password each signed-in browser's user signed in with (enrolment asks for it again). */
  const passwords = new WeakMap<TestBrowser, string>();

  async function signedInBrowser(login: string, password: string): Promise<TestBrowser> {
    const browser = new TestBrowser();
    passwords.set(browser, password);
    const start = await browser.follow(`${hub.url}/login`);
    const { body } = await signInAt(browser, hub.url, start.url, login, password);
    await browser.follow(continueUrlOf(body, hub.url));
    expect(await isSignedIn(browser, hub.url)).toBe(true);
    return browser;
  }

  /** Enrols through the account page like a person: reads the secret off the page, types a code. */
  async function enrolThroughPage(browser: TestBrowser) {
    await awayFromStepEdge();
    const page = await (await browser.get(`${hub.url}/account/two-step`)).text();
    const secret = attribute(page, /data-testid="totp-secret">([A-Z2-7]+)</);
    const confirmed = await browser.post(`${hub.url}/account/two-step/enable`, { _csrf: inputValue(page, '_csrf'), proof: passwords.get(browser)!, code: totpCode(secret, -1) });
    const html = await confirmed.text();
    expect(confirmed.status).toBe(200);
    const codes = [...html.matchAll(/<li><code>([0-9a-z]{5}-[0-9a-z]{5})<\/code><\/li>/g)].map((m) => m[1]!);
    // Shown once: no language switch that would leave the page and lose them (a review), a note instead.
    expect(html).toContain('data-testid="lang-held"');
    expect(html).not.toMatch(/href="\/lang\?/);
    return { secret, codes, page };
  }

  /** The password step from a start URL; returns the interaction page URL and the answer. */
  async function passwordStep(browser: TestBrowser, start: string, login: string, password: string) {
    const first = await browser.follow(start);
    const { response } = await signInAt(browser, hub.url, first.url, login, password);
    return { interactionUrl: first.url, response };
  }

  async function secondStep(browser: TestBrowser, interactionUrl: string, code: string) {
    const page = await (await browser.get(interactionUrl)).text();
    const action = attribute(page, /action="(\/interaction\/[^"]+\/two-step)"/);
    const answer = await browser.post(new URL(action, hub.url).toString(), { _csrf: inputValue(page, '_csrf'), code });
    return { status: answer.status, body: await answer.text(), headers: answer.headers };
  }

  test('two tabs: a code sent after another account signed in in this browser says who is signed in, never goes on as them', async () => {
    const owner = await newUser();
    const other = await newUser();
    const { secret } = await enrolThroughPage(await signedInBrowser(owner.username, owner.password));
    const browser = new TestBrowser();
    // Tab 1: the owner's password is right, the code page waits.
    const { interactionUrl } = await passwordStep(browser, authUrl(hub.url, codeRequest('rp', REDIRECT).params), owner.username, owner.password);
    const page = await (await browser.get(interactionUrl)).text();
    expect(page).toContain('data-testid="two-step-code"');
    // Tab 2: someone else signs in at the portal in the same browser.
    const start = await browser.follow(`${hub.url}/login`);
    const { body } = await signInAt(browser, hub.url, start.url, other.username, other.password);
    await browser.follow(continueUrlOf(body, hub.url));
    // Tab 1's code: not a silent sign-in to the site as the other account.
    const action = attribute(page, /action="(\/interaction\/[^"]+\/two-step)"/);
    const account = /name="account" value="([^"]*)"/.exec(page)?.[1] ?? '';
    const answer = await browser.post(new URL(action, hub.url).toString(), { _csrf: inputValue(page, '_csrf'), account, code: totpCode(secret) });
    const html = await answer.text();
    expect(answer.status).toBe(200);
    expect(html).toContain('data-testid="signed-in-as"');
    expect(html).toContain(other.name || other.username);
  });

  test('turning two-step on needs the password: a session alone (borrowed or stolen) cannot lock the owner out', async () => {
    const user = await newUser();
    const browser = await signedInBrowser(user.username, user.password);
    await awayFromStepEdge();
    const page = await (await browser.get(`${hub.url}/account/two-step`)).text();
    const secret = attribute(page, /data-testid="totp-secret">([A-Z2-7]+)</);
    expect(page).toContain('data-testid="enrol-password"');
    for (const proof of ['not-the-password', totpCode(secret)]) {
      // Refused through a redirect to the page (POST-redirect-GET), which shows the error.
      const refused = await postAccountForm(browser, `${hub.url}/account/two-step/enable`, { _csrf: inputValue(page, '_csrf'), proof, code: totpCode(secret) });
      expect(refused.status).toBe(401);
      expect(await refused.text()).toContain('data-testid="two-step-error"');
      expect(await hub.services.twoStep.isEnabled(user.id)).toBe(false);
    }
    const ok = await browser.post(`${hub.url}/account/two-step/enable`, { _csrf: inputValue(page, '_csrf'), proof: user.password, code: totpCode(secret) });
    expect(ok.status).toBe(200);
    expect(await hub.services.twoStep.isEnabled(user.id)).toBe(true);
  });

  test('enrolment: a QR code (data: image under the CSP) and the secret in text; a wrong first code is refused, a right one turns it on with ten recovery codes', async () => {
    const user = await newUser();
    const browser = await signedInBrowser(user.username, user.password);
    const account = await (await browser.get(`${hub.url}/account`)).text();
    expect(account).toContain('href="/account/two-step"');
    const first = await browser.get(`${hub.url}/account/two-step`);
    const page = await first.text();
    expect(page).toMatch(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+"/);
    expect(first.headers.get('content-security-policy')).toMatch(/img-src 'self' data:/);
    const secret = attribute(page, /data-testid="totp-secret">([A-Z2-7]+)</);
    expect(secret).toHaveLength(32); // 160 bits in base32

    const wrong = await postAccountForm(browser, `${hub.url}/account/two-step/enable`, { _csrf: inputValue(page, '_csrf'), proof: user.password, code: '000000' === totpCode(secret) ? '111111' : '000000' });
    expect(wrong.status).toBe(400);
    expect(await hub.services.twoStep.isEnabled(user.id)).toBe(false);
    // The same secret is shown again until it is confirmed.
    expect(await wrong.text()).toContain(secret);

    await awayFromStepEdge();
    const wrongPage = await (await browser.get(`${hub.url}/account/two-step`)).text();
    const ok = await browser.post(`${hub.url}/account/two-step/enable`, { _csrf: inputValue(wrongPage, '_csrf'), proof: user.password, code: totpCode(secret) });
    const html = await ok.text();
    expect(ok.status).toBe(200);
    const codes = [...html.matchAll(/<li><code>([0-9a-z]{5}-[0-9a-z]{5})<\/code><\/li>/g)].map((m) => m[1]!);
    expect(new Set(codes).size).toBe(10);
    expect(await hub.services.twoStep.status(user.id)).toMatchObject({ enabled: true, recoveryCodesLeft: 10 });
    await hub.services.audit.flush();
    expect((await hub.services.audit.search({ event: 'two-step.enabled', user: user.id })).length).toBe(1);
  });

  test('at rest: the secret is sealed (not in any key), recovery codes only as digests', async () => {
    const user = await newUser();
    const browser = await signedInBrowser(user.username, user.password);
    const { secret, codes } = await enrolThroughPage(browser);
    const redis = (hub.store as RedisStore).client;
    let everything = '';
    for await (const keys of scanKeys(redis, `${hub.config.KEY_PREFIX}*`)) {
      for (const key of keys) {
        everything += `${key}\n`;
        if ((await redis.type(key)) === 'string') everything += `${await redis.get(key)}\n`;
      }
    }
    expect(everything).toContain(`two-step:{${user.id}}`);
    expect(everything).not.toContain(secret);
    for (const code of codes) {
      expect(everything).not.toContain(code);
      expect(everything).not.toContain(code.replace('-', ''));
    }
    const record = JSON.parse((await redis.get(hub.services.keys.twoStep(user.id)))!);
    expect(record.secret).toMatchObject({ v: 1, kid: expect.any(String), dek: expect.any(String), data: expect.any(String) });
    expect(record.recovery).toHaveLength(10);
  });

  test('sign-in: the password alone establishes no session; the code does, with amr pwd+otp in the ID token; the same code again is refused (replay)', async () => {
    const user = await newUser();
    const enrolled = await enrolThroughPage(await signedInBrowser(user.username, user.password));
    const now = totpCode(enrolled.secret, 0);
    const next = totpCode(enrolled.secret, 1);

    const browser = new TestBrowser();
    const request = codeRequest('rp', REDIRECT);
    const { interactionUrl, response } = await passwordStep(browser, authUrl(hub.url, request.params), user.username, user.password);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(new URL(interactionUrl).pathname);
    expect(await isSignedIn(browser, hub.url)).toBe(false);
    const challenge = await (await browser.get(interactionUrl)).text();
    expect(challenge).toContain('name="code"');
    expect(challenge).not.toContain('name="password"');

    const wrong = await secondStep(browser, interactionUrl, now === '123456' ? '654321' : '123456');
    expect(wrong.status).toBe(401);
    expect(await isSignedIn(browser, hub.url)).toBe(false);

    const ok = await secondStep(browser, interactionUrl, now);
    expect(ok.status).toBe(200);
    const callback = await browser.follow(continueUrlOf(ok.body, hub.url));
    const code = new URL(callback.url).searchParams.get('code')!;
    const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: rpAuth });
    expect(decodeJwt(String(tokens.body.id_token)).amr).toEqual(['pwd', 'otp', 'mfa']);

    // The same code in another browser, within its window: refused.
    const other = new TestBrowser();
    const again = await passwordStep(other, `${hub.url}/login`, user.username, user.password);
    expect((await secondStep(other, again.interactionUrl, now)).status).toBe(401);
    expect(await isSignedIn(other, hub.url)).toBe(false);
    expect((await secondStep(other, again.interactionUrl, next)).status).toBe(200);
  });

  test('a password step taken before an admin ended the user\'s sign-ins gives no session, even with a right code', async () => {
    const user = await newUser();
    const enrolled = await enrolThroughPage(await signedInBrowser(user.username, user.password));
    const browser = new TestBrowser();
    const request = codeRequest('rp', REDIRECT);
    const { interactionUrl } = await passwordStep(browser, authUrl(hub.url, request.params), user.username, user.password);
    // The password was right; then the admin resets it and ends every session.
    await hub.services.users.update(user.id, { passwordHash: await hub.services.hasher.hash('a-new-password-789') });
    await hub.services.lifecycle.forceLogout(user.id, 'password-reset');
    const ok = await secondStep(browser, interactionUrl, totpCode(enrolled.secret, 0));
    expect(ok.status).toBe(200);
    const landed = await browser.follow(continueUrlOf(ok.body, hub.url));
    expect(new URL(landed.url).origin).not.toBe(new URL(REDIRECT).origin);
    expect(landed.body).toMatch(/action="\/interaction\/[^"]+\/login"/);
    expect(await isSignedIn(browser, hub.url)).toBe(false);
  });

  test('the password step gives the browser a new portal session id (no fixation), and its pending step is bound to that one sign-in', async () => {
    const user = await newUser();
    const { secret } = await enrolThroughPage(await signedInBrowser(user.username, user.password));
    const browser = new TestBrowser();
    const first = await browser.follow(`${hub.url}/login`);
    const other = await browser.follow(`${hub.url}/login`); // a second sign-in tab: another interaction
    const before = browser.cookies(hub.url).get('hub_portal');
    expect(before).toBeTruthy();
    await signInAt(browser, hub.url, first.url, user.username, user.password);
    expect(browser.cookies(hub.url).get('hub_portal')).not.toBe(before);
    // The other tab's interaction has no password step done: a code there signs nobody in.
    const page = await (await browser.get(other.url)).text();
    expect(page).toContain('name="password"');
    const uid = new URL(other.url).pathname.split('/')[2]!;
    const answer = await browser.post(`${hub.url}/interaction/${uid}/two-step`, { _csrf: inputValue(page, '_csrf'), code: totpCode(secret) });
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('data-testid="two-step-restart"');
    expect(await isSignedIn(browser, hub.url)).toBe(false);
  });

  test('a user without two-step gets amr ["pwd"]', async () => {
    const user = await newUser();
    const browser = new TestBrowser();
    const request = codeRequest('rp', REDIRECT);
    const first = await browser.follow(authUrl(hub.url, request.params));
    const { body } = await signInAt(browser, hub.url, first.url, user.username, user.password);
    const callback = await browser.follow(continueUrlOf(body, hub.url));
    const code = new URL(callback.url).searchParams.get('code')!;
    const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: rpAuth });
    expect(decodeJwt(String(tokens.body.id_token)).amr).toEqual(['pwd']);
  });

  test('a recovery code works once, not twice', async () => {
    const user = await newUser();
    const { codes } = await enrolThroughPage(await signedInBrowser(user.username, user.password));
    const first = new TestBrowser();
    const a = await passwordStep(first, `${hub.url}/login`, user.username, user.password);
    // Typed loosely: upper case, no dash.
    expect((await secondStep(first, a.interactionUrl, codes[3]!.toUpperCase().replace('-', ''))).status).toBe(200);
    expect(await hub.services.twoStep.status(user.id)).toMatchObject({ recoveryCodesLeft: 9 });
    await signOut(first, hub.url);

    const second = new TestBrowser();
    const b = await passwordStep(second, `${hub.url}/login`, user.username, user.password);
    expect((await secondStep(second, b.interactionUrl, codes[3]!)).status).toBe(401);
    expect(await isSignedIn(second, hub.url)).toBe(false);
  });

  test('a secret sealed with a key this hub does not have: a page that says so (not a bare 500), and a recovery code still signs in', async () => {
    const user = await newUser();
    const { secret, codes } = await enrolThroughPage(await signedInBrowser(user.username, user.password));
    // As after a store loss that gave the hub a new two-step key: the record was sealed with another.
    const stored = (await hub.services.twoStepRecords.read(user.id))!;
    expect(await hub.services.twoStepRecords.replace(user.id, stored, { ...stored.record, secret: new SecretBox(['a-key-this-hub-does-not-have-0123456789abcdef']).seal(secret, user.id) })).toBe(true);
    const browser = new TestBrowser();
    const { interactionUrl } = await passwordStep(browser, `${hub.url}/login`, user.username, user.password);
    const answer = await secondStep(browser, interactionUrl, totpCode(secret));
    expect(answer.status).toBe(500);
    expect(answer.body).toContain('no longer has the key that protects your two-step secret');
    expect(answer.body).toContain('recovery codes');
    expect(answer.body).not.toContain('SealError');
    expect(await isSignedIn(browser, hub.url)).toBe(false);
    // Back on the same step, a recovery code works (they are kept as digests, not sealed).
    expect((await secondStep(browser, interactionUrl, codes[0]!)).status).toBe(200);
  });

  test('wrong codes are throttled like passwords (429 + Retry-After), and not in the owner\'s known browser', async () => {
    const user = await newUser();
    const owner = await signedInBrowser(user.username, user.password); // has the device cookie
    const { secret } = await enrolThroughPage(owner);
    await signOut(owner, hub.url);

    const attacker = new TestBrowser();
    const { interactionUrl } = await passwordStep(attacker, `${hub.url}/login`, user.username, user.password);
    const bad = totpCode(secret) === '000001' ? '000002' : '000001';
    for (let i = 0; i < 3; i += 1) expect((await secondStep(attacker, interactionUrl, bad)).status).toBe(401);
    const blocked = await secondStep(attacker, interactionUrl, totpCode(secret, 1));
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);

    // The owner's browser (device cookie) is judged by its own failures only.
    await awayFromStepEdge();
    const mine = await passwordStep(owner, `${hub.url}/login`, user.username, user.password);
    expect((await secondStep(owner, mine.interactionUrl, totpCode(secret, 1))).status).toBe(200);
  });

  test('device cookies from before enrolment prove nothing: wrong codes sent with them share the account\'s count', async () => {
    // An outside review: cookies kept from sign-ins with a stolen password each had their own
    // allowance of codes after the owner enrolled (60 wrong codes, none refused).
    const user = await newUser();
    const hoarded: TestBrowser[] = [];
    for (let i = 0; i < 4; i += 1) {
      const browser = await signedInBrowser(user.username, user.password);
      await signOut(browser, hub.url);
      hoarded.push(browser);
    }
    const { secret } = await enrolThroughPage(await signedInBrowser(user.username, user.password));
    const bad = totpCode(secret) === '000001' ? '000002' : '000001';
    const statuses: number[] = [];
    for (const browser of hoarded) {
      const { interactionUrl } = await passwordStep(browser, `${hub.url}/login`, user.username, user.password);
      statuses.push((await secondStep(browser, interactionUrl, bad)).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  test('remove and regenerate need the password or a current code', async () => {
    const user = await newUser();
    const browser = await signedInBrowser(user.username, user.password);
    const { codes } = await enrolThroughPage(browser);
    const page = await (await browser.get(`${hub.url}/account/two-step`)).text();
    const refused = await postAccountForm(browser, `${hub.url}/account/two-step/disable`, { _csrf: inputValue(page, '_csrf'), proof: 'not-my-password' });
    expect(refused.status).toBe(401);
    expect(await hub.services.twoStep.isEnabled(user.id)).toBe(true);

    const regenerated = await browser.post(`${hub.url}/account/two-step/recovery-codes`, { _csrf: inputValue(page, '_csrf'), proof: user.password });
    const fresh = [...(await regenerated.text()).matchAll(/<li><code>([0-9a-z]{5}-[0-9a-z]{5})<\/code><\/li>/g)].map((m) => m[1]!);
    expect(fresh).toHaveLength(10);
    // The old codes stopped working.
    expect(await hub.services.twoStep.verify(user.id, codes[0]!)).toBeUndefined();

    const page2 = await (await browser.get(`${hub.url}/account/two-step`)).text();
    const off = await browser.post(`${hub.url}/account/two-step/disable`, { _csrf: inputValue(page2, '_csrf'), proof: fresh[0]! });
    expect(off.status).toBe(303);
    expect(await hub.services.twoStep.isEnabled(user.id)).toBe(false);
    expect(await hub.services.twoStep.verify(user.id, fresh[1]!)).toBeUndefined();
  });

  test('a password shaped like a recovery code (ten letters and digits) is still taken as the password', async () => {
    // Ten letters and digits without a u read as a recovery code (case ignored, i/l/o mapped):
    // such a password, which the policy takes, was judged as a code only, so its owner could
    // never make new codes or turn two-step off with it (a browser review).
    counter += 1;
    const password = 'Qx7kM2vbT9';
    const created = await hub.services.users.create({ username: `user${counter}`, email: `user${counter}@example.test`, password });
    const browser = await signedInBrowser(created.username, password);
    const { codes } = await enrolThroughPage(browser);
    const page = await (await browser.get(`${hub.url}/account/two-step`)).text();
    const regenerated = await browser.post(`${hub.url}/account/two-step/recovery-codes`, { _csrf: inputValue(page, '_csrf'), proof: password });
    expect(regenerated.status).toBe(200);
    expect([...(await regenerated.text()).matchAll(/<li><code>([0-9a-z]{5}-[0-9a-z]{5})<\/code><\/li>/g)]).toHaveLength(10);
    expect(await hub.services.twoStep.verify(created.id, codes[0]!)).toBeUndefined();
    // A wrong proof of that shape is still refused, and a recovery code still works.
    const page2 = await (await browser.get(`${hub.url}/account/two-step`)).text();
    const refused = await postAccountForm(browser, `${hub.url}/account/two-step/disable`, { _csrf: inputValue(page2, '_csrf'), proof: 'Qx7kM2vbT8' });
    expect(refused.status).toBe(401);
    const page3 = await (await browser.get(`${hub.url}/account/two-step`)).text();
    const off = await browser.post(`${hub.url}/account/two-step/disable`, { _csrf: inputValue(page3, '_csrf'), proof: password });
    expect(off.status).toBe(303);
    expect(await hub.services.twoStep.isEnabled(created.id)).toBe(false);
  });

  test("someone else's failed sign-ins for the account do not block the owner's two-step settings", async () => {
    const user = await newUser();
    const browser = await signedInBrowser(user.username, user.password);
    await enrolThroughPage(browser);
    // A guesser elsewhere puts the account's untrusted pool into its delays.
    for (let i = 0; i < 6; i += 1) {
      const guess = { ip: `203.0.113.${i}`, account: user.id, via: 'portal' as const };
      const admitted = await hub.services.throttle.attempt(guess).catch(() => undefined);
      if (admitted) await hub.services.throttle.failed(admitted);
    }
    // (The sign-in form from a browser without a device cookie would wait now.)
    await expect(hub.services.throttle.attempt({ ip: '198.51.100.7', account: user.id, via: 'portal' })).rejects.toThrow();
    // A real browser sends the device cookie only under /interaction (its Path): not here.
    const jar = browser.cookies(hub.url);
    for (const name of [...jar.keys()]) if (name.startsWith('hub_device_')) jar.delete(name);
    const page = await (await browser.get(`${hub.url}/account/two-step`)).text();
    const regenerated = await browser.post(`${hub.url}/account/two-step/recovery-codes`, { _csrf: inputValue(page, '_csrf'), proof: user.password });
    expect(regenerated.status).toBe(200);
  });

  describe('the password grant (legacy first-party apps)', () => {
    const grant = (username: string, password: string, otp?: string) =>
      postForm(`${hub.url}/token`, { grant_type: 'password', username, password, scope: 'openid', ...(otp ? { otp } : {}) }, { authorization: rpAuth });

    test('without otp: invalid_grant saying to send it; wrong otp refused; the right one gives tokens with amr pwd+otp', async () => {
      const user = await newUser();
      const { secret, codes } = await enrolThroughPage(await signedInBrowser(user.username, user.password));
      const missing = await grant(user.username, user.password);
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual({ error: 'invalid_grant', error_description: OTP_REQUIRED });
      const wrong = await grant(user.username, user.password, totpCode(secret) === '999999' ? '999998' : '999999');
      expect(wrong.body.error).toBe('invalid_grant');
      expect(wrong.body.error_description).toMatch(/otp/);
      const ok = await grant(user.username, user.password, totpCode(secret));
      expect(ok.status).toBe(200);
      expect(decodeJwt(String(ok.body.id_token)).amr).toEqual(['pwd', 'otp', 'mfa']);
      // Replay of the same code: refused.
      expect((await grant(user.username, user.password, totpCode(secret))).body.error).toBe('invalid_grant');
      // A recovery code works once.
      expect((await grant(user.username, user.password, codes[0]!)).status).toBe(200);
      expect((await grant(user.username, user.password, codes[0]!)).body.error).toBe('invalid_grant');
      // A wrong password with a right code is the plain bad-credentials answer.
      expect((await grant(user.username, 'wrong-password-1', codes[1]!)).body.error_description).toBe('invalid username or password');
    });
  });

  describe('UCenter user/login', () => {
    test('-3 (security question) without a code; the code as the answer to any question signs in; a wrong one is -3', async () => {
      const user = await newUser();
      const { secret } = await enrolThroughPage(await signedInBrowser(user.username, user.password));
      const app = await hub.services.ucenter.apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004' });
      const uc = new UcClient({ api: `${hub.url}/ucenter`, key: app.key, appId: app.appId });
      const plain = await uc.userLogin(user.username, user.password);
      expect(plain[0]).toBe('-3');
      expect(plain[1]).toBe(user.username);
      const bad = totpCode(secret) === '424242' ? '242424' : '424242';
      expect((await uc.userLogin(user.username, user.password, 0, { checkques: 1, questionid: 1, answer: bad }))[0]).toBe('-3');
      const ok = await uc.userLogin(user.username, user.password, 0, { checkques: 1, questionid: 3, answer: totpCode(secret) });
      expect(ok.slice(0, 2)).toEqual([String(user.uid), user.username]);
      // A wrong password stays -2 whatever the answer.
      expect((await uc.userLogin(user.username, 'wrong-password-1', 0, { checkques: 1, questionid: 3, answer: totpCode(secret, 1) }))[0]).toBe('-2');
    });
  });

  describe('admin', () => {
    test('reset from the console (audited): the next sign-in asks the password only', async () => {
      const admin = await newUser(['admin']);
      const user = await newUser();
      await enrolThroughPage(await signedInBrowser(user.username, user.password));
      const console = await signedInBrowser(admin.username, admin.password);
      const page = await (await console.get(`${hub.url}/admin/users/${user.id}`)).text();
      expect(page).toContain('data-testid="reset-two-step"');
      const action = `/admin/users/${user.id}/two-step/reset`;
      const reset = await console.post(`${hub.url}${action}`, { _csrf: inputValue(page, '_csrf') });
      expect(reset.status).toBe(303);
      expect(await hub.services.twoStep.isEnabled(user.id)).toBe(false);
      await hub.services.audit.flush();
      const entries = await hub.services.audit.search({ event: 'admin.user.two-step-reset', user: user.id });
      expect(entries[0]).toMatchObject({ actor: admin.id, subject: user.id });
      const { response } = await passwordStep(new TestBrowser(), `${hub.url}/login`, user.username, user.password);
      expect(response.status).toBe(200); // the sync page: signed in with the password
    });

    test('reset from the CLI (audited)', async () => {
      const user = await newUser();
      await enrolThroughPage(await signedInBrowser(user.username, user.password));
      const lines: string[] = [];
      const code = await runCli(['users', 'reset-two-step', user.username], { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX, LOG_LEVEL: 'silent' }, (line) => lines.push(line));
      expect(code).toBe(0);
      expect(lines.join('\n')).toContain('reset');
      expect(await hub.services.twoStep.isEnabled(user.id)).toBe(false);
      await hub.services.audit.flush();
      expect((await hub.services.audit.search({ event: 'admin.user.two-step-reset', user: user.id }))[0]).toMatchObject({ actor: 'cli' });
    });
  });
});

describe('HUB_ADMIN_REQUIRE_TOTP', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('redis', { HUB_ADMIN_REQUIRE_TOTP: 'true' });
    await hub.services.users.create({ username: 'root', email: 'root@example.test', password: 'root-password-1', roles: ['admin'] });
  });
  afterAll(() => hub.close());

  test('an admin without two-step is sent to enrol before reaching /admin; after enrolling, /admin opens', async () => {
    const browser = new TestBrowser();
    const start = await browser.follow(`${hub.url}/login`);
    const { body } = await signInAt(browser, hub.url, start.url, 'root', 'root-password-1');
    await browser.follow(continueUrlOf(body, hub.url));
    const gate = await browser.get(`${hub.url}/admin`);
    expect(gate.status).toBe(303);
    expect(gate.headers.get('location')).toBe('/account/two-step?required=admin');
    await awayFromStepEdge();
    const page = await (await browser.get(`${hub.url}/account/two-step?required=admin`)).text();
    expect(page).toContain('data-testid="two-step-required"');
    const secret = attribute(page, /data-testid="totp-secret">([A-Z2-7]+)</);
    await browser.post(`${hub.url}/account/two-step/enable`, { _csrf: inputValue(page, '_csrf'), proof: 'root-password-1', code: totpCode(secret) });
    expect((await browser.get(`${hub.url}/admin`)).status).toBe(200);
  });

  test("turning two-step on ends the user's other sessions: one signed in with the password alone does not reach /admin once the owner enrols (a review)", async () => {
    await hub.services.users.create({ username: 'root2', email: 'root2@example.test', password: 'root2-password-1', roles: ['admin'] });
    const signIn = async () => {
      const browser = new TestBrowser();
      const start = await browser.follow(`${hub.url}/login`);
      const { body } = await signInAt(browser, hub.url, start.url, 'root2', 'root2-password-1');
      await browser.follow(continueUrlOf(body, hub.url));
      return browser;
    };
    const thief = await signIn();
    const owner = await signIn();
    await awayFromStepEdge();
    const page = await (await owner.get(`${hub.url}/account/two-step?required=admin`)).text();
    const secret = attribute(page, /data-testid="totp-secret">([A-Z2-7]+)</);
    expect((await owner.post(`${hub.url}/account/two-step/enable`, { _csrf: inputValue(page, '_csrf'), proof: 'root2-password-1', code: totpCode(secret) })).status).toBe(200);
    expect((await owner.get(`${hub.url}/admin`)).status).toBe(200);
    const gate = await thief.get(`${hub.url}/admin`);
    expect(gate.status).toBe(303);
    expect(gate.headers.get('location')).toMatch(/^\/login\?next=/);
    expect(await isSignedIn(thief, hub.url)).toBe(false);
  });
});

describe('two-step changes are mailed to the owner (ASVS 5 §6.3.7; redis, real SMTP)', () => {
  const mailbox = hubWithMailbox();

  test('turning it on, making new recovery codes and turning it off each send a notice to the address', async () => {
    const { hub, catcher } = mailbox;
    const username = `mailed-${Date.now()}`;
    const email = `${username}@example.test`;
    const password = `${username}-password-1`;
    await hub.services.users.create({ username, email, password });
    const browser = await signInAtPortal(hub, username, password);
    const notice = (since: number, text: string) => catcher.waitFor(email, { since, filter: (mail) => mail.text.includes(text) });

    await awayFromStepEdge();
    let since = Date.now();
    const page = await (await browser.get(`${hub.url}/account/two-step`)).text();
    const secret = attribute(page, /data-testid="totp-secret">([A-Z2-7]+)</);
    expect((await browser.post(`${hub.url}/account/two-step/enable`, { _csrf: inputValue(page, '_csrf'), proof: password, code: totpCode(secret, -1) })).status).toBe(200);
    expect((await notice(since, 'turned on')).subject).toBe('Two-step sign-in on your account changed');

    since = Date.now();
    const page2 = await (await browser.get(`${hub.url}/account/two-step`)).text();
    expect((await browser.post(`${hub.url}/account/two-step/recovery-codes`, { _csrf: inputValue(page2, '_csrf'), proof: password })).status).toBe(200);
    await notice(since, 'New recovery codes');

    since = Date.now();
    browser.cookies(hub.url).set('lang', 'zh-CN');
    const page3 = await (await browser.get(`${hub.url}/account/two-step`)).text();
    expect((await browser.post(`${hub.url}/account/two-step/disable`, { _csrf: inputValue(page3, '_csrf'), proof: password })).status).toBe(303);
    const off = await notice(since, '关闭了两步验证');
    expect(off.subject).toBe('您账号的两步验证已更改');
    expect(off.links).toContain(`${hub.url}/password/forgot`);
  });
});
