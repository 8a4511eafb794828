/**
 * DESIGN "Store down: fail closed with a clear 503, never hang" (issue 9 item 12): GET /login
 * from a new browser answered 303 while its portal session could not be stored (express-session
 * saved after the answer). The session is now saved before the answer: 503 within the store's
 * deadline, never a 303, a 500 or a hang.
 */
import { TestBrowser } from '../src/testing/browser.js';
import { SESSION_STORE_DEADLINE_MS } from '../src/http/portal-session.js';
import { connectRedis, RedisStore } from '../src/store/redis.js';
import { startOwnRedis, type OwnRedis } from '../src/testing/redis-server.js';
import { stallableStore } from '../src/testing/stallable-store.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { expectUnavailableWithinDeadline, timed } from './store-unavailable.js';

/** Past it: a request still open by then is a hang. */
const HANG_MS = SESSION_STORE_DEADLINE_MS * 3;

function freshLogin(hub: RunningHub) {
  return timed((signal) => new TestBrowser().request(`${hub.url}/login?next=/account`, { signal }), HANG_MS);
}

describe('DESIGN store down: GET /login from a new browser fails closed', () => {
  test('a Store whose calls hang: 503 within the deadline, not 303', async () => {
    const { store, stall } = stallableStore();
    const hub = await startTestHub('memory', {}, store);
    try {
      expect((await freshLogin(hub)).status).toBe(303); // healthy: on to the sign-in page
      stall();
      expectUnavailableWithinDeadline(await freshLogin(hub));
    } finally {
      await hub.close();
    }
  });

  describe('a redis-server of the test\'s own', () => {
    let redis: OwnRedis;
    let store: RedisStore;
    let hub: RunningHub;

    beforeEach(async () => {
      redis = await startOwnRedis();
      store = new RedisStore(await connectRedis(redis.url));
      hub = await startTestHub('redis', {}, store);
      expect((await freshLogin(hub)).status).toBe(303);
    });
    afterEach(async () => {
      // The server and its data are thrown away whole: no key cleanup, no QUIT to a dead server.
      store.client.destroy();
      await hub.close();
      await redis.stop();
    });

    test('stalled (SIGSTOP): 503 within the deadline, not 303 or a hang', async () => {
      redis.pause();
      expectUnavailableWithinDeadline(await freshLogin(hub));
    });

    test('stopped: 503 at once, not 303 or 500', async () => {
      await redis.stop();
      expectUnavailableWithinDeadline(await freshLogin(hub));
    });
  });
});
