import { TestBrowser } from '../src/testing/browser.js';
import { continueUrlOf, signInAt } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { basic, isSignedIn, postForm } from './support.js';

/**
 * Sign-in under load: argon2id checks take turns (ARGON2_CONCURRENCY), and once
 * ARGON2_QUEUE_LIMIT wait, the next sign-in is told "busy, try again" at once (503,
 * Retry-After), is not counted as a failure, and works when it is tried again.
 */
describe('a sign-in while too many password checks wait (Redis)', () => {
  let hub: RunningHub;
  let rpAuth: string;

  beforeAll(async () => {
    // One check at a time and one waiting. An account's pool takes one failure before delays
    // start: a busy answer that counted as an attempt would make one typo afterwards a lockout.
    hub = await startTestHub('redis', {
      ARGON2_CONCURRENCY: '1',
      ARGON2_QUEUE_LIMIT: '1',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '2',
      LOGIN_BACKOFF_BASE_SECONDS: '60',
      LOGIN_MAX_ATTEMPTS_PER_IP: '500',
      HUB_ENABLE_PASSWORD_GRANT: 'true',
    });
    await hub.services.users.create({ username: 'erin', email: 'erin@example.test', password: 'erin-password-1' });
    await hub.services.users.create({ username: 'finn', email: 'finn@example.test', password: 'finn-password-1' });
    const client = await hub.services.clients.register({ clientId: 'app', trusted: true, redirectUris: ['http://app.test/cb'], grantTypes: ['authorization_code', 'refresh_token', 'password'] });
    rpAuth = basic('app', client.clientSecret!);
  });
  afterAll(() => hub.close());

  /** Holds every turn and the whole queue (as a burst of other sign-ins would) until released. */
  async function fillTurns(): Promise<() => Promise<void>> {
    const { turns } = hub.services.hasher;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = [turns.run(() => gate), turns.run(() => gate)];
    await new Promise((resolve) => setImmediate(resolve));
    expect([turns.active, turns.waiting]).toEqual([1, 1]);
    return async () => {
      release();
      await Promise.all(held);
    };
  }

  test('the portal answers 503 with Retry-After and the form again, counted as no attempt; the same form then signs in', async () => {
    const browser = new TestBrowser();
    const start = await browser.follow(`${hub.url}/login`);
    const releaseTurns = await fillTurns();
    const busy = await signInAt(browser, hub.url, start.url, 'erin', 'erin-password-1');
    await releaseTurns();
    expect(busy.response.status).toBe(503);
    expect(Number(busy.response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(busy.body).toContain('busy right now');
    expect(busy.body).toMatch(/name="login"[^>]*value="erin"/);
    expect(await isSignedIn(browser, hub.url)).toBe(false);
    const metrics = await hub.services.metrics.registry.metrics();
    expect(metrics).toMatch(/^sso_password_checks_refused_total 1$/m);
    expect(metrics).toMatch(/^sso_password_checks_waiting 0$/m);

    // One typo after it: still no delay (the busy answer took no count).
    expect((await signInAt(browser, hub.url, start.url, 'erin', 'typo-password-1')).response.status).toBe(401);
    const again = await signInAt(browser, hub.url, start.url, 'erin', 'erin-password-1');
    expect(again.response.status).toBe(200);
    await browser.follow(continueUrlOf(again.body, hub.url));
    expect(await isSignedIn(browser, hub.url)).toBe(true);
    await hub.services.audit.flush();
    const events = (await hub.services.audit.search({ user: (await hub.services.users.findByLogin('erin'))!.id })).map((entry) => entry.event);
    expect(events).toContain('login.success');
    expect(events.filter((event) => event === 'login.failure')).toHaveLength(1);
  });

  test('the password grant answers 503 temporarily_unavailable with Retry-After, counted as no attempt; the retry gets tokens', async () => {
    const request = (password = 'finn-password-1') => postForm(`${hub.url}/token`, { grant_type: 'password', username: 'finn', password, scope: 'openid' }, { authorization: rpAuth });
    const releaseTurns = await fillTurns();
    const busy = await request();
    await releaseTurns();
    expect(busy.status).toBe(503);
    expect(busy.body).toMatchObject({ error: 'temporarily_unavailable' });
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await request('typo-password-1')).body).toMatchObject({ error: 'invalid_grant' });
    const retry = await request();
    expect(retry.status).toBe(200);
    expect(retry.body).toHaveProperty('access_token');
  });
});
