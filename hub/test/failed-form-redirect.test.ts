/**
 * A refused account-page form is answered POST-redirect-GET (a browser review: answered in the
 * POST itself, the page with the error was a POST result in the history, and Back to it after the
 * next change made Chrome ask "Confirm Form Resubmission"; a reload sent the form again). The
 * POST answers 303 to the page; that GET shows the error, marks and focuses the field, keeps
 * what was typed (never a password), with the error's status and `Retry-After`; once. Real Redis.
 */
import { inputValue, TestBrowser } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import type { RunningHub } from '../src/testing/test-hub.js';
import type { RedisStore } from '../src/store/redis.js';
import { scanKeys } from '../src/store/redis-client.js';
import { hubWithMailbox } from './support.js';

const PASSWORD = 'looking-glass-42';

describe('Account page: a refused form comes back through a redirect (POST-redirect-GET; redis)', () => {
  // With mail (the project's SMTP test server): the e-mail form is refused for what was typed, not for a hub without mail.
  const mailbox = hubWithMailbox();
  let hub: RunningHub;
  beforeAll(() => {
    hub = mailbox.hub;
  });

  async function signedIn(): Promise<{ browser: TestBrowser; id: string }> {
    const username = `prg-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
    const user = await hub.services.users.create({ username, email: `${username}@example.test`, name: 'Before', password: PASSWORD });
    return { browser: await signInAtPortal(hub, username, PASSWORD), id: user.id };
  }

  async function refused(browser: TestBrowser, page: string, action: string, form: Record<string, string>) {
    const html = await (await browser.get(`${hub.url}${page}`)).text();
    const answer = await browser.post(`${hub.url}${action}`, { _csrf: inputValue(html, '_csrf'), ...form });
    const body = await answer.text();
    return { status: answer.status, location: answer.headers.get('location'), body };
  }

  test.each([
    ['name', { name: 'x'.repeat(101) }, /data-testid="name-input"/, 'name-error', 'at most 100', 'x'.repeat(101)],
    ['email', { email: 'not-an-address', current: PASSWORD }, /data-testid="email-new-input"/, 'email-error', 'does not look right', 'not-an-address'],
    ['password', { current: 'typed-wrong-secret', password: 'a-new-secret-99', confirm: 'a-new-secret-99' }, /data-testid="password-current"/, 'password-error', 'not right', undefined],
  ] as const)('%s: the POST answers 303 to /account, the GET shows the error and what was typed, once', async (section, form, fieldPattern, errorId, message, kept) => {
    const { browser } = await signedIn();
    const posted = await refused(browser, '/account', `/account/${section}`, form);
    // No page in the POST's answer (express's one-line "See Other"): nothing for Back to resubmit.
    expect([posted.status, posted.location]).toEqual([303, '/account']);
    expect(posted.body).not.toContain(errorId);

    const page = await browser.get(`${hub.url}/account`);
    const html = await page.text();
    expect(page.status).toBe(400);
    expect(page.headers.get('cache-control')).toContain('no-store');
    expect(new RegExp(`data-testid="${errorId}">([^<]*)<`).exec(html)?.[1]).toContain(message);
    const field = new RegExp(`<input[^>]*${fieldPattern.source}[^>]*>`).exec(html)![0];
    expect(field).toContain('aria-invalid="true"');
    expect(field).toContain('autofocus');
    if (kept) expect(field).toContain(`value="${kept}"`);
    // Never a password, in the page or in the portal session that carried the error.
    expect(html).not.toContain('typed-wrong-secret');
    const client = (hub.services.store as RedisStore).client;
    for await (const batch of scanKeys(client, `${hub.services.keys.portalSessionPrefix()}*`)) {
      for (const key of batch) expect(String(await client.get(key))).not.toContain('typed-wrong-secret');
    }

    // Once: a reload (or Back to this GET) shows the page afresh, no error.
    const again = await browser.get(`${hub.url}/account`);
    const fresh = await again.text();
    expect(again.status).toBe(200);
    expect(fresh).not.toContain(`data-testid="${errorId}"`);
  });

  test('a throttled current password: 303, then the page answers 429 with Retry-After', async () => {
    const { browser } = await signedIn();
    let posted: { status: number; location: string | null } | undefined;
    let page: Response | undefined;
    for (let i = 0; i < hub.config.LOGIN_MAX_FAILURES_PER_ACCOUNT + 2; i += 1) {
      posted = await refused(browser, '/account', '/account/password', { current: `guess-${i}`, password: 'a-new-secret-99', confirm: 'a-new-secret-99' });
      page = await browser.get(`${hub.url}/account`);
      await page.arrayBuffer();
    }
    expect([posted!.status, posted!.location]).toEqual([303, '/account']);
    expect(page!.status).toBe(429);
    expect(Number(page!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  test('"Delete my account": a refused form comes back to its own page, not to the account page', async () => {
    const { browser, id } = await signedIn();
    const posted = await refused(browser, '/account/delete', '/account/delete', { current: 'typed-wrong-secret', confirm: 'yes' });
    expect([posted.status, posted.location]).toEqual([303, '/account/delete']);
    expect(posted.body).not.toContain('delete-error');
    // Kept for its page only: the account page does not take it.
    const account = await browser.get(`${hub.url}/account`);
    expect(await account.text()).not.toContain('data-testid="delete-error"');
    const page = await browser.get(`${hub.url}/account/delete`);
    const html = await page.text();
    expect(page.status).toBe(400);
    expect(html).toContain('data-testid="delete-error">Your current password is not right.<');
    expect(html).not.toContain('typed-wrong-secret');
    expect(await hub.services.users.findById(id)).toBeDefined();
  });
});
