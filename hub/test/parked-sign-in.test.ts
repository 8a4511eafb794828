import { TestBrowser } from '../src/testing/browser.js';
import { continueUrlOf, signInAt } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const PASSWORD = 'wonderland-123';

/**
 * An outside review (faults under load): a sign-in whose password was accepted, left on its sync
 * page, survived an admin's password reset and "end all sessions": following the page's continue
 * link an hour later still signed the browser in, with the old password. Whatever ends a user's
 * sign-ins now ends those in progress too: the resume asks for a sign-in again.
 */
describe.each(STORE_KINDS)('a sign-in in progress ends with the user\'s sign-ins (%s)', (kind) => {
  let hub: RunningHub;
  let n = 0;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT] });
  });
  afterAll(() => hub.close());

  /** A new user, signed in up to the sync page: the continue link not followed yet. */
  async function parkedSignIn(): Promise<{ browser: TestBrowser; userId: string; continueUrl: string }> {
    n += 1;
    const user = await hub.services.users.create({ username: `parked${n}`, email: `parked${n}@example.test`, password: PASSWORD });
    const browser = new TestBrowser();
    const start = await browser.follow(authUrl(hub.url, codeRequest('rp', REDIRECT).params));
    const { response, body } = await signInAt(browser, hub.url, start.url, user.username, PASSWORD);
    expect(response.status).toBe(200);
    return { browser, userId: user.id, continueUrl: continueUrlOf(body, hub.url) };
  }

  /** Where the continue link leads: the client's callback with a code, or a sign-in page. */
  async function resume(browser: TestBrowser, continueUrl: string): Promise<'code' | 'sign-in page'> {
    const landed = await browser.follow(continueUrl);
    if (new URL(landed.url).origin === new URL(REDIRECT).origin) {
      expect(new URL(landed.url).searchParams.get('code')).toBeTruthy();
      return 'code';
    }
    expect(landed.body).toMatch(/action="\/interaction\/[^"]+\/login"/);
    return 'sign-in page';
  }

  test('untouched, the parked sign-in goes on to the client', async () => {
    const { browser, continueUrl } = await parkedSignIn();
    expect(await resume(browser, continueUrl)).toBe('code');
  });

  const endings: [string, (userId: string) => Promise<unknown>][] = [
    ['an admin\'s password reset (forced logout)', async (id) => {
      await hub.services.users.update(id, { passwordHash: await hub.services.hasher.hash('another-password-456') });
      await hub.services.lifecycle.forceLogout(id, 'password-reset');
    }],
    ['"end all sessions"', (id) => hub.services.lifecycle.endAllSessions(id)],
    ['disabling, then enabling again', async (id) => {
      await hub.services.lifecycle.disable(id);
      await hub.services.lifecycle.enable(id);
    }],
    ['a reset link\'s "sign out everywhere"', (id) => hub.services.lifecycle.signOutEverywhere(id)],
    ['a password change on the account page (other sessions end)', (id) => hub.services.lifecycle.endOtherSessions(id, 'none-kept')],
  ];

  test.each(endings)('after %s, the continue link asks for a sign-in again, and it is audited', async (_name, end) => {
    const { browser, userId, continueUrl } = await parkedSignIn();
    await end(userId);
    expect(await resume(browser, continueUrl)).toBe('sign-in page');
    // No hub session came of it.
    expect(await hub.services.sessions.list(userId)).toEqual([]);
    await hub.services.audit.flush();
    expect(await hub.services.audit.search({ user: userId, event: 'login.ended-before-resume' })).toHaveLength(1);
  });

  test('the check holds for a HEAD resume and for a percent-encoded uid (a review got past a path-reading check with both)', async () => {
    for (const variant of ['HEAD', 'encoded'] as const) {
      const { browser, userId, continueUrl } = await parkedSignIn();
      await hub.services.lifecycle.endAllSessions(userId);
      const url = new URL(continueUrl);
      const uid = url.pathname.split('/')[2]!;
      if (variant === 'encoded') url.pathname = `/auth/%${uid.charCodeAt(0).toString(16).toUpperCase()}${uid.slice(1)}`;
      const answer = await browser.request(url.toString(), { method: variant === 'HEAD' ? 'HEAD' : 'GET' });
      await answer.text();
      expect(answer.headers.get('location') ?? '').not.toContain('code=');
      expect(await hub.services.sessions.list(userId)).toEqual([]);
      expect((await browser.get(`${hub.url}/account`)).status).not.toBe(200);
    }
  });

  test('resumed while the user is disabled: no session is stored (it would come back with enabling)', async () => {
    const { browser, userId, continueUrl } = await parkedSignIn();
    await hub.services.users.update(userId, { disabled: true });
    expect(await resume(browser, continueUrl)).toBe('sign-in page');
    await hub.services.users.update(userId, { disabled: false });
    expect(await hub.services.sessions.list(userId)).toEqual([]);
    expect((await browser.get(`${hub.url}/account`)).status).not.toBe(200);
  });
});
