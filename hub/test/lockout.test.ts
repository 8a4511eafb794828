import { TestBrowser } from '../src/testing/browser.js';
import { signInAt } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';

/** OWASP ASVS 6.3: one failure count per account, whatever name the guesser types. */
describe.each(STORE_KINDS)('sign-in lockout is per account, not per typed name (%s)', (kind) => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub(kind, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_BACKOFF_BASE_SECONDS: '60' });
    await hub.services.users.create({ username: 'bob', email: 'bob@example.test', password: 'bob-password-1' });
  });
  afterAll(() => hub.close());

  test('failures as "bob" also lock "BOB" and "bob@example.test"', async () => {
    const attempt = async (login: string, password: string) => {
      const browser = new TestBrowser();
      const start = await browser.follow(`${hub.url}/login`);
      return (await signInAt(browser, hub.url, start.url, login, password)).response;
    };
    for (let i = 0; i < 3; i += 1) expect((await attempt('bob', 'wrong-password')).status).toBe(401);
    for (const login of ['BOB', 'bob@example.test']) {
      const answer = await attempt(login, 'bob-password-1');
      expect(answer.status).toBe(429);
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });
});
