/**
 * ASVS 5 V7.4.1: a signed-in user can always sign out. The sign-out pages (`GET /session/end`,
 * its confirmation `POST /session/end/confirm`) count against the per-address budget of pages that
 * may write a record (SIGNIN_STARTS_PER_IP), since an anonymous GET stores a session for its form.
 * Anyone else at the same address (a shared NAT, a carrier's CGNAT, a campus, a VPN exit) could
 * spend that budget with anonymous GETs, and every signed-in user behind it got 429 on
 * "Sign out" until the window ended, and stayed signed in (an attacker's review). A browser
 * whose hub session is signed in is let through past the budget on those two pages: its sign-out
 * writes no new record (the question's token goes into its own session, the confirmation ends
 * it), and a session that is not signed in (none, a stale cookie) is refused as before. So is
 * the resume of a sign-in (`/auth/:uid`, the sync page's continue link) by the browser that has
 * just given the password for it (its sign-in binding cookie): before, the user typed the password
 * and got 429 instead of the signed-in page. That interaction was counted when it started.
 */
import { inputValue, TestBrowser } from '../src/testing/browser.js';
import { continueUrlOf, signInAtPortal, signInUpToResume } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const LIMIT = 6;

describe('sign-out past the per-address budget of sign-in and sign-out pages (SIGNIN_STARTS_PER_IP)', () => {
  let hub: RunningHub;
  beforeEach(async () => {
    hub = await startTestHub('memory', { SIGNIN_STARTS_PER_IP: String(LIMIT) });
    await hub.services.users.create({ username: 'nat-user', email: 'nat-user@example.test', password: 'behind-the-nat-1' });
  });
  afterEach(() => hub.close());

  /** Someone else at the same address opens the sign-out page until the budget is spent. */
  async function spendBudget(): Promise<void> {
    for (let i = 0; i <= LIMIT; i += 1) {
      const page = await fetch(`${hub.url}/session/end`);
      await page.arrayBuffer();
      if (page.status === 429) return;
    }
    throw new Error('the budget was never spent');
  }

  test('a signed-in user signs out after someone at the same address spent the budget', async () => {
    const browser = await signInAtPortal(hub, 'nat-user', 'behind-the-nat-1');
    await spendBudget();
    const question = await browser.get(`${hub.url}/session/end`);
    const form = await question.text();
    expect(question.status).toBe(200);
    const done = await browser.post(`${hub.url}/session/end/confirm`, { xsrf: inputValue(form, 'xsrf'), logout: 'yes' });
    expect(done.status).toBeLessThan(400);
    // The sync page goes on to the signed-out page, which writes no record: not a 429 there either
    // (a diff review: the sign-out itself was let through, its last page was not).
    const next = continueUrlOf(await done.text(), hub.url);
    expect(new URL(next).pathname).toBe('/session/end/success');
    const signedOut = await browser.get(next);
    await signedOut.arrayBuffer();
    expect(signedOut.status).toBe(200);
    // Signed out: the account page sends the browser to sign in.
    const account = await browser.get(`${hub.url}/account`);
    expect(account.status).toBe(303);
    expect(account.headers.get('location')).toMatch(/^\/login/);
  });

  test('a browser that is not signed in is still refused past the budget, with or without a session cookie', async () => {
    await spendBudget();
    const anonymous = await fetch(`${hub.url}/session/end`);
    expect(anonymous.status).toBe(429);
    // A browser holding an anonymous hub session (the question page's own) is not signed in either.
    const browser = new TestBrowser();
    await hub.close();
    hub = await startTestHub('memory', { SIGNIN_STARTS_PER_IP: String(LIMIT) });
    const first = await browser.get(`${hub.url}/session/end`);
    await first.arrayBuffer();
    expect(first.status).toBe(200);
    await spendBudget();
    const again = await browser.get(`${hub.url}/session/end`);
    expect(again.status).toBe(429);
  });

  test('a sign-in whose password was checked in this browser finishes (its resume) after someone at the same address spent the budget', async () => {
    const browser = new TestBrowser();
    const resume = await signInUpToResume(browser, hub.url, `${hub.url}/login?next=%2Faccount`, 'nat-user', 'behind-the-nat-1');
    await spendBudget();
    const resumed = await browser.get(resume);
    await resumed.arrayBuffer();
    expect(resumed.status).not.toBe(429);
    const account = await browser.follow(`${hub.url}/account`);
    expect(account.body).toContain('nat-user');
  });

  test('a resume from a browser that did not finish that sign-in is still refused past the budget', async () => {
    const resume = await signInUpToResume(new TestBrowser(), hub.url, `${hub.url}/login?next=%2Faccount`, 'nat-user', 'behind-the-nat-1');
    await spendBudget();
    const elsewhere = await fetch(resume, { redirect: 'manual' });
    expect(elsewhere.status).toBe(429);
  });
});
