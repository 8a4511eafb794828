/**
 * A GET of an address that only takes a form goes to the form's page (303), not "Page not found".
 * The page that answers some forms keeps the form's address in the location bar (the recovery codes
 * shown once; a wrong password or code at sign-in): Enter there, or the address in another tab, asked
 * for it with a GET (a browser review: after "I have saved them", Back to the codes page and Enter
 * in the location bar was a 404).
 */
import { TestBrowser } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

describe('GET of a form-only address: the form\'s page (memory)', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.users.create({ username: 'gina', email: 'gina@example.test', password: 'gina-password-1' });
  });
  afterAll(() => hub.close());

  test.each([
    ['/account/two-step/enable', '/account/two-step'],
    ['/account/two-step/recovery-codes', '/account/two-step'],
    ['/account/two-step/disable', '/account/two-step'],
    ['/account/password', '/account'],
    ['/account/email', '/account'],
    ['/account/name', '/account'],
    ['/account/sessions/end-others', '/account'],
    ['/account/consents/bbs/revoke', '/account'],
  ])('%s goes to %s, signed in', async (path, page) => {
    const browser = await signInAtPortal(hub, 'gina', 'gina-password-1');
    const answer = await browser.get(`${hub.url}${path}`);
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe(page);
    expect((await browser.get(`${hub.url}${page}`)).status).toBe(200);
  });

  test('a sign-in step\'s address goes to its sign-in page, shown again', async () => {
    const browser = new TestBrowser();
    const start = await browser.follow(`${hub.url}/login`);
    const uid = /\/interaction\/([\w-]+)$/.exec(new URL(start.url).pathname)![1]!;
    for (const step of ['login', 'two-step', 'confirm']) {
      const answer = await browser.get(`${hub.url}/interaction/${uid}/${step}`);
      expect(answer.status).toBe(303);
      expect(answer.headers.get('location')).toBe(`/interaction/${uid}`);
    }
    const page = await browser.get(`${hub.url}/interaction/${uid}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-testid="login-password"');
  });
});
