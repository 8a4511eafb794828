/**
 * Issue 9 item 9, OWASP "Blocking Brute Force Attacks" / device cookies: five wrong passwords
 * from each of 11 addresses locked the real owner out for 15 minutes from anywhere. Now a
 * browser that signed in to the account before (it has the account's device cookie) is judged
 * by its own failures only, and the account's untrusted clients get growing delays, not a
 * fixed lock.
 */
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { signOut } from './support.js';

/** A browser at one client address (the hub trusts X-Forwarded-For from its proxy). */
class BrowserAt extends TestBrowser {
  constructor(readonly ip: string) {
    super();
  }

  override request(url: string, init: Parameters<TestBrowser['request']>[1] = {}): Promise<Response> {
    return super.request(url, { ...init, headers: { 'x-forwarded-for': this.ip, ...init.headers } });
  }
}

interface Answer {
  status: number;
  retryAfter: number | undefined;
  html: string;
  /** The device cookie the answer set (name and value), if any. */
  deviceCookie: { name: string; value: string } | undefined;
}

/** Opens the portal's sign-in form and submits it `times` times with a password. */
async function signIn(hub: RunningHub, browser: TestBrowser, login: string, password: string, times = 1): Promise<Answer[]> {
  const start = await browser.follow(`${hub.url}/login`);
  let html = start.body;
  const action = new URL(attribute(html, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
  const answers: Answer[] = [];
  for (let i = 0; i < times; i += 1) {
    const response = await browser.post(action, { _csrf: inputValue(html, '_csrf'), login, password });
    html = await response.text();
    const retryAfter = response.headers.get('retry-after');
    const device = response.headers.getSetCookie().map((header) => /^(hub_device_[^=]+)=([^;]+)/.exec(header)).find(Boolean);
    answers.push({ status: response.status, retryAfter: retryAfter ? Number(retryAfter) : undefined, html, deviceCookie: device ? { name: device[1]!, value: device[2]! } : undefined });
  }
  return answers;
}

const OWNER = { login: 'olivia', password: 'olivia-password-1' };
const ATTACKER_IPS = Array.from({ length: 11 }, (_, i) => `203.0.113.${i + 1}`);

describe.each(STORE_KINDS)('OWASP device cookies: a distributed guesser cannot lock the owner out (%s)', (kind) => {
  let hub: RunningHub;
  let ownerId: string;

  beforeAll(async () => {
    // The default limits (5 failures per pool, 50 attempts per IP), with a first delay long
    // enough that the attack's pool is still waiting when the test looks, on a loaded machine.
    hub = await startTestHub(kind, { HUB_TRUST_PROXY: 'true', LOGIN_BACKOFF_BASE_SECONDS: '30', LOGIN_BACKOFF_MAX_SECONDS: '120' });
    ownerId = (await hub.services.users.create({ username: OWNER.login, email: 'olivia@example.test', password: OWNER.password })).id;
    await hub.services.users.create({ username: 'mallory', email: 'mallory@example.test', password: 'mallory-password-1' });
  });
  afterAll(() => hub.close());

  test('5 wrong passwords from each of 11 addresses: the owner\'s known browser still signs in; an unknown one waits minutes, not a 15-minute lock', async () => {
    const known = new BrowserAt('198.51.100.7');
    const [first] = await signIn(hub, known, OWNER.login, OWNER.password);
    expect(first!.status).toBe(200);
    await signOut(known, hub.url);

    for (const ip of ATTACKER_IPS) {
      for (const answer of await signIn(hub, new BrowserAt(ip), OWNER.login, 'wrong-password', 5)) {
        expect([401, 429]).toContain(answer.status);
      }
    }

    // The owner's browser, which signed in before: straight in.
    const [again] = await signIn(hub, known, OWNER.login, OWNER.password);
    expect(again!.status).toBe(200);
    expect(again!.html).toContain('data-continue');

    // A browser the account never signed in from shares the untrusted pool: a delay with
    // Retry-After, bounded by LOGIN_BACKOFF_MAX_SECONDS, never the old 15-minute lock.
    const [unknown] = await signIn(hub, new BrowserAt('198.51.100.7'), OWNER.login, OWNER.password);
    expect(unknown!.status).toBe(429);
    expect(unknown!.retryAfter).toBeGreaterThan(0);
    expect(unknown!.retryAfter).toBeLessThanOrEqual(hub.config.LOGIN_BACKOFF_MAX_SECONDS);
  });

  test('a device cookie cannot be forged, nor moved from another account', async () => {
    // The owner's untrusted pool is waiting (the attack above, and one now to be sure).
    for (const ip of ATTACKER_IPS.slice(0, 2)) await signIn(hub, new BrowserAt(ip), OWNER.login, 'wrong-password', 5);
    const untrusted = await signIn(hub, new BrowserAt('192.0.2.65'), OWNER.login, OWNER.password);
    expect(untrusted[0]!.status).toBe(429);
    const ownerCookieName = hub.services.devices.issue(ownerId, '').name;

    // Mallory signs in to her own account and gets her own device cookie ...
    const mallory = new BrowserAt('192.0.2.66');
    const [signedIn] = await signIn(hub, mallory, 'mallory', 'mallory-password-1');
    expect(signedIn!.status).toBe(200);
    expect(signedIn!.deviceCookie).toBeDefined();
    expect(signedIn!.deviceCookie!.name).not.toBe(ownerCookieName);
    await signOut(mallory, hub.url);

    // ... and presents its value as the owner's: still an untrusted client.
    mallory.cookies(hub.url).set(ownerCookieName, signedIn!.deviceCookie!.value);
    expect((await signIn(hub, mallory, OWNER.login, OWNER.password))[0]!.status).toBe(429);

    // A made-up cookie: untrusted too.
    const forger = new BrowserAt('192.0.2.67');
    forger.cookies(hub.url).set(ownerCookieName, `${'A'.repeat(22)}.${'B'.repeat(43)}`);
    expect((await signIn(hub, forger, OWNER.login, OWNER.password))[0]!.status).toBe(429);
  });
});

describe.each(STORE_KINDS)('a burst of concurrent guesses gets no more than the threshold (%s)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(kind, { HUB_TRUST_PROXY: 'true', LOGIN_BACKOFF_BASE_SECONDS: '30', LOGIN_BACKOFF_MAX_SECONDS: '120' });
    await hub.services.users.create({ username: 'quinn', email: 'quinn@example.test', password: 'quinn-password-1' });
  });
  afterAll(() => hub.close());

  test('30 wrong passwords sent at once from 30 addresses: at most the threshold and one more are checked, the rest wait', async () => {
    // Before, the count only grew after each argon2 check, so every request of a burst passed
    // the throttle before the first one failed: all 30 were checked (and a right password among
    // them would have been accepted).
    const burst = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const browser = new BrowserAt(`198.18.0.${i + 1}`);
        const start = await browser.follow(`${hub.url}/login`);
        const action = new URL(attribute(start.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
        return { browser, action, csrf: inputValue(start.body, '_csrf') };
      }),
    );
    const statuses = await Promise.all(burst.map(async ({ browser, action, csrf }) => (await browser.post(action, { _csrf: csrf, login: 'quinn', password: 'wrong-password' })).status));
    const checked = statuses.filter((status) => status === 401).length;
    expect(statuses.filter((status) => status !== 401 && status !== 429)).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(1);
    expect(checked).toBeLessThanOrEqual(hub.config.LOGIN_MAX_FAILURES_PER_ACCOUNT + 1);
    // And the pool now waits: the right password from a new browser is refused for now.
    expect((await signIn(hub, new BrowserAt('198.18.1.1'), 'quinn', 'quinn-password-1'))[0]!.status).toBe(429);
  });
});

describe.each(STORE_KINDS)('untrusted clients get growing delays, not a fixed lockout (%s)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(kind, { HUB_TRUST_PROXY: 'true', LOGIN_MAX_FAILURES_PER_ACCOUNT: '2', LOGIN_BACKOFF_BASE_SECONDS: '1', LOGIN_BACKOFF_MAX_SECONDS: '60' });
    await hub.services.users.create({ username: 'uma', email: 'uma@example.test', password: 'uma-password-1' });
  });
  afterAll(() => hub.close());

  test('each failure past the limit doubles the wait (1 s, 2 s, 4 s), answered with Retry-After', async () => {
    const browser = new BrowserAt('198.51.100.20');
    const failed = await signIn(hub, browser, 'uma', 'wrong-password', 3);
    expect(failed.map((answer) => answer.status)).toEqual([401, 401, 429]);
    expect(failed[2]!.retryAfter).toBe(1);
    for (const expected of [2, 4]) {
      await new Promise((resolve) => setTimeout(resolve, (expected / 2) * 1000 + 150)); // the previous wait, over
      const [wrong, blocked] = await signIn(hub, browser, 'uma', 'wrong-password', 2);
      expect(wrong!.status).toBe(401);
      expect(blocked!.status).toBe(429);
      expect(blocked!.retryAfter).toBe(expected);
    }
    // And once the wait is over, the right password goes through.
    await new Promise((resolve) => setTimeout(resolve, 4_150));
    expect((await signIn(hub, browser, 'uma', 'uma-password-1'))[0]!.status).toBe(200);
  });
});

describe.each(STORE_KINDS)('device cookies from before a password change prove nothing (%s)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    // The default limits (5 failures per pool, 50 attempts per IP); a first delay long enough to look at.
    hub = await startTestHub(kind, { HUB_TRUST_PROXY: 'true', LOGIN_BACKOFF_BASE_SECONDS: '30', LOGIN_BACKOFF_MAX_SECONDS: '120' });
    await hub.services.users.create({ username: 'vera', email: 'vera@example.test', password: 'vera-password-1' });
    await hub.services.users.create({ username: 'wendy', email: 'wendy@example.test', password: 'wendy-password-1' });
  });
  afterAll(() => hub.close());

  test('a cookie kept from each sign-in while the password was known: after the change, its guesses share the account\'s count; the browser that changed it stays known', async () => {
    // An outside review: someone who once knew the password signed in 15 times, kept each
    // device cookie, and after the owner's reset had 5 guesses per cookie (75, none refused).
    const hoarded: BrowserAt[] = [];
    for (let i = 0; i < 6; i += 1) {
      const browser = new BrowserAt(`203.0.113.${100 + i}`);
      const [signedIn] = await signIn(hub, browser, 'vera', 'vera-password-1');
      expect(signedIn!.deviceCookie).toBeDefined();
      await signOut(browser, hub.url);
      hoarded.push(browser);
    }
    // The owner changes the password on the account page.
    const owner = new BrowserAt('198.51.100.30');
    const [ownerIn] = await signIn(hub, owner, 'vera', 'vera-password-1');
    await owner.follow(continueUrlOf(ownerIn!.html, hub.url));
    const account = await (await owner.get(`${hub.url}/account`)).text();
    const changed = await owner.post(`${hub.url}/account/password`, { _csrf: inputValue(account, '_csrf'), current: 'vera-password-1', password: 'vera-new-password-2', confirm: 'vera-new-password-2' });
    expect([changed.status, changed.headers.get('location')]).toEqual([303, '/account?done=password']);
    const renewed = changed.headers.getSetCookie().some((header) => header.startsWith('hub_device_'));

    const statuses: number[] = [];
    for (const browser of hoarded) statuses.push((await signIn(hub, browser, 'vera', 'wrong-password'))[0]!.status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // An unknown browser waits too; the owner's, given a new cookie with the change, does not.
    expect((await signIn(hub, new BrowserAt('192.0.2.80'), 'vera', 'vera-new-password-2'))[0]!.status).toBe(429);
    await signOut(owner, hub.url);
    expect((await signIn(hub, owner, 'vera', 'vera-new-password-2'))[0]!.status).toBe(200);
    expect(renewed).toBe(true);
  });

  test('"Sign out everywhere else" renews the generation, and the browser that asked stays known: guessers elsewhere do not slow its owner', async () => {
    // A review: after the owner used it (a session they did not recognise), the owner's own browser
    // had lost its device cookie's worth, and 5 wrong passwords from elsewhere made it wait (429).
    const owner = new BrowserAt('198.51.100.40');
    const [ownerIn] = await signIn(hub, owner, 'wendy', 'wendy-password-1');
    await owner.follow(continueUrlOf(ownerIn!.html, hub.url));
    const other = new BrowserAt('203.0.113.140');
    const [otherIn] = await signIn(hub, other, 'wendy', 'wendy-password-1');
    await other.follow(continueUrlOf(otherIn!.html, hub.url));
    const account = await (await owner.get(`${hub.url}/account`)).text();
    const ended = await owner.post(`${hub.url}/account/sessions/end-others`, { _csrf: inputValue(account, '_csrf') });
    expect([ended.status, ended.headers.get('location')]).toEqual([303, '/account?done=others']);
    // The other browser's cookie, from before, proves nothing now: its guesses share the account's count.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await signIn(hub, i === 0 ? other : new BrowserAt(`203.0.113.${150 + i}`), 'wendy', 'wrong-password'))[0]!.status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    await signOut(owner, hub.url);
    expect((await signIn(hub, owner, 'wendy', 'wendy-password-1'))[0]!.status).toBe(200);
  });
});
