/**
 * The two-step settings page (`/account/two-step`) answers a refused form POST-redirect-GET, as
 * the other account forms do (portal/failed-form.ts): the POST answers 303 to the page, the GET
 * shows the error (its status, `Retry-After` when throttled), marks and focuses the field, once.
 * Answered in the POST itself, Back to that page made the browser ask "Confirm Form
 * Resubmission" and a reload sent the password again. Nothing typed (a password, a code) is kept
 * in the portal session that carries the error. Real Redis.
 */
import { attribute, inputValue, type TestBrowser } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { totpCode } from '../src/testing/totp.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import type { RedisStore } from '../src/store/redis.js';
import { scanKeys } from '../src/store/redis-client.js';

const PASSWORD = 'looking-glass-42';
const TYPED = 'typed-wrong-secret';

describe('Two-step settings: a refused form comes back through a redirect (POST-redirect-GET; redis)', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('redis');
  });
  afterAll(() => hub.close());

  async function signedIn(): Promise<{ browser: TestBrowser; id: string }> {
    const username = `prg2-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
    const user = await hub.services.users.create({ username, email: `${username}@example.test`, name: 'Two Step', password: PASSWORD });
    return { browser: await signInAtPortal(hub, username, PASSWORD), id: user.id };
  }

  async function page(browser: TestBrowser): Promise<string> {
    return (await browser.get(`${hub.url}/account/two-step`)).text();
  }

  async function enable(browser: TestBrowser): Promise<void> {
    const html = await page(browser);
    const secret = attribute(html, /data-testid="totp-secret">([A-Z2-7]+)</);
    const answer = await browser.post(`${hub.url}/account/two-step/enable`, { _csrf: inputValue(html, '_csrf'), proof: PASSWORD, code: totpCode(secret, -1) });
    expect(answer.status).toBe(200);
    await answer.arrayBuffer();
  }

  async function expectNothingTypedKept(): Promise<void> {
    const client = (hub.services.store as RedisStore).client;
    for await (const batch of scanKeys(client, `${hub.services.keys.portalSessionPrefix()}*`)) {
      for (const key of batch) expect(String(await client.get(key))).not.toContain(TYPED);
    }
  }

  async function refusedThenShown(browser: TestBrowser, action: string, form: Record<string, string>) {
    const html = await page(browser);
    const posted = await browser.post(`${hub.url}${action}`, { _csrf: inputValue(html, '_csrf'), ...form });
    const body = await posted.text();
    // No page in the POST's answer: nothing for Back to resubmit.
    expect([posted.status, posted.headers.get('location')]).toEqual([303, '/account/two-step']);
    expect(body).not.toContain('two-step-error');
    await expectNothingTypedKept();
    const shown = await browser.get(`${hub.url}/account/two-step`);
    return { status: shown.status, retryAfter: shown.headers.get('retry-after'), cacheControl: shown.headers.get('cache-control'), html: await shown.text() };
  }

  function fieldOf(html: string, testId: string): string {
    return new RegExp(`<input[^>]*data-testid="${testId}"[^>]*>`).exec(html)![0];
  }

  test.each([
    ['turning on, a wrong password', false, '/account/two-step/enable', { proof: TYPED, code: '123456' }, 'enrol-password', 'That password is not right'],
    ['turning on, a wrong first code', false, '/account/two-step/enable', { proof: PASSWORD, code: '000000' }, 'enrol-code', 'That code is not right'],
    ['new recovery codes, a wrong proof', true, '/account/two-step/recovery-codes', { proof: TYPED }, 'regenerate-proof', 'not right'],
    ['turning off, a wrong proof', true, '/account/two-step/disable', { proof: TYPED }, 'disable-proof', 'not right'],
  ] as const)('%s: 303 to the page, then the GET shows the error on its field (401/400), once', async (_name, on, action, form, testId, message) => {
    const { browser } = await signedIn();
    if (on) await enable(browser);
    const before = on ? undefined : attribute(await page(browser), /data-testid="totp-secret">([A-Z2-7]+)</);
    const shown = await refusedThenShown(browser, action, form);
    expect([400, 401]).toContain(shown.status);
    expect(shown.cacheControl).toContain('no-store');
    expect(/data-testid="two-step-error">([^<]*)</.exec(shown.html)?.[1]).toContain(message);
    const field = fieldOf(shown.html, testId);
    expect(field).toContain('aria-invalid="true"');
    expect(field).toContain('autofocus');
    expect(shown.html).not.toContain(TYPED);
    // The set-up being confirmed is the same one: the app the owner scanned still fits.
    if (before) expect(attribute(shown.html, /data-testid="totp-secret">([A-Z2-7]+)</)).toBe(before);
    // Once: a reload shows the page afresh.
    const again = await browser.get(`${hub.url}/account/two-step`);
    expect(again.status).toBe(200);
    expect(await again.text()).not.toContain('data-testid="two-step-error"');
  });

  test('a throttled proof: 303, then the page answers 429 with Retry-After', async () => {
    const { browser } = await signedIn();
    await enable(browser);
    let shown: Awaited<ReturnType<typeof refusedThenShown>> | undefined;
    for (let i = 0; i < hub.config.LOGIN_MAX_FAILURES_PER_ACCOUNT + 2; i += 1) shown = await refusedThenShown(browser, '/account/two-step/disable', { proof: `${TYPED}-${i}` });
    expect(shown!.status).toBe(429);
    expect(Number(shown!.retryAfter)).toBeGreaterThan(0);
    expect(fieldOf(shown!.html, 'disable-proof')).toContain('aria-invalid="true"');
  });

  test('a refused two-step form is shown by its own page only: the account page does not take it', async () => {
    const { browser } = await signedIn();
    await enable(browser);
    const html = await page(browser);
    const posted = await browser.post(`${hub.url}/account/two-step/disable`, { _csrf: inputValue(html, '_csrf'), proof: TYPED });
    await posted.arrayBuffer();
    expect(await (await browser.get(`${hub.url}/account`)).text()).not.toContain('two-step-error');
    expect(await (await browser.get(`${hub.url}/account/two-step`)).text()).toContain('data-testid="two-step-error"');
  });
});
