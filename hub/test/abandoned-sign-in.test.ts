import argon2 from 'argon2';
import { jest } from '@jest/globals';
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { basic, postForm } from './support.js';

/**
 * Sign-in under load, the clients that give up: a sign-in POST waiting for its argon2id turn
 * whose client has gone (the browser closed the tab or sent the form again, a proxy's timeout)
 * is not checked when its turn comes. An outside review sent 1,200 sign-ins at once with
 * clients giving up after 10 s: the hub went on hashing the 589 still queued for some 30 s
 * after the last client had left, and every sign-in arriving meanwhile waited behind them.
 */
describe('password checks whose client has gone by their turn (Redis)', () => {
  let hub: RunningHub;
  let rpAuth: string;

  beforeAll(async () => {
    hub = await startTestHub('redis', {
      ARGON2_CONCURRENCY: '1',
      ARGON2_QUEUE_LIMIT: '20',
      LOGIN_MAX_ATTEMPTS_PER_IP: '500',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '100',
      HUB_ENABLE_PASSWORD_GRANT: 'true',
    });
    await hub.services.users.create({ username: 'ivy', email: 'ivy@example.test', password: 'ivy-password-1' });
    const client = await hub.services.clients.register({ clientId: 'app', trusted: true, redirectUris: ['http://app.test/cb'], grantTypes: ['authorization_code', 'password'] });
    rpAuth = basic('app', client.clientSecret!);
  });
  afterAll(() => hub.close());

  /** Holds the one turn (as a sign-in being checked would) until released. */
  async function holdTurn(): Promise<() => Promise<void>> {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = hub.services.hasher.turns.run(() => gate);
    await new Promise((resolve) => setImmediate(resolve));
    return async () => {
      release();
      await held;
    };
  }

  async function until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  test('portal sign-ins and password grants queued behind a turn, whose clients then leave, cost no argon2id check; the one still waiting is answered', async () => {
    const { turns } = hub.services.hasher;
    const verify = jest.spyOn(argon2, 'verify');
    try {
      const release = await holdTurn();
      // Four portal sign-ins and two password grants wait for the turn; their clients give up.
      const gone = new AbortController();
      const forms = await Promise.all([0, 1, 2, 3].map(async () => {
        const browser = new TestBrowser();
        const start = await browser.follow(`${hub.url}/login`);
        return { browser, action: attribute(start.body, /action="(\/interaction\/[^"]+\/login)"/), csrf: inputValue(start.body, '_csrf') };
      }));
      const leaving = [
        ...forms.map(({ browser, action, csrf }) => browser.request(new URL(action, hub.url).toString(), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _csrf: csrf, login: 'ivy', password: 'ivy-password-1' }).toString(),
          signal: gone.signal,
        })),
        ...[0, 1].map(() => fetch(`${hub.url}/token`, {
          method: 'POST',
          headers: { authorization: rpAuth, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'password', username: 'ivy', password: 'ivy-password-1', scope: 'openid' }),
          signal: gone.signal,
        })),
      ].map((sent) => sent.then(() => 'answered', () => 'aborted'));
      await until(() => turns.waiting === 6, 'six checks waiting');
      // One more client that stays: its check runs and it gets its tokens.
      const staying = postForm(`${hub.url}/token`, { grant_type: 'password', username: 'ivy', password: 'ivy-password-1', scope: 'openid' }, { authorization: rpAuth });
      await until(() => turns.waiting === 7, 'the seventh check waiting');
      gone.abort();
      expect(await Promise.all(leaving)).toEqual(Array(6).fill('aborted'));
      await new Promise((resolve) => setTimeout(resolve, 200)); // the hub sees the connections close
      verify.mockClear();
      await release();

      const answer = await staying;
      expect(answer.status).toBe(200);
      expect(answer.body).toHaveProperty('access_token');
      await until(() => turns.waiting === 0 && turns.active === 0, 'the queue to drain');
      // Only the client that stayed had its password checked.
      expect(verify).toHaveBeenCalledTimes(1);
      const metrics = await hub.services.metrics.registry.metrics();
      expect(metrics).toMatch(/^sso_password_checks_abandoned_total 6$/m);
    } finally {
      verify.mockRestore();
    }
  });
});
