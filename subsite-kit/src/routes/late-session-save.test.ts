/**
 * A kit 5xx page while the store fails (a first-day review: after a Redis stall the site's
 * node-redis client had closed, and a sign-in's callback got the kit's 503 page): express-session
 * saves the session as the page ends, that save failed too, and express-session handed the
 * failure to `next` after the page had gone out. Express's final handler then printed the raw
 * StoreFailure with its stack (`[cause]: ClientClosedError …`) and cut the connection. The hub
 * had the same fault (hub/src/http/error-handler.test.ts). A kit 5xx page saves no session.
 */
import { jest } from '@jest/globals';
import { createClient } from 'redis';
import type { RedisClientType } from 'redis';
import request from 'supertest';
import { HTML, makeSite } from '../test-support/site.js';
import { browserAtHub, useStubHub, type StubHub } from '../test-support/stub-hub.js';
import { TEST_REDIS_URL } from '../test-support/redis.js';

let hub: StubHub;
useStubHub((started) => { hub = started; });

test('a sign-in whose store fails at the callback gets the 503 page, and nothing reaches Express\'s final handler', async () => {
  const redis = createClient({ url: TEST_REDIS_URL, disableOfflineQueue: true }) as RedisClientType;
  redis.on('error', () => undefined);
  await redis.connect();
  const { app, sso } = await makeSite(hub, { redis, redisPrefix: `test:late-save:${Date.now()}:` });
  app.use(sso.errorHandler);
  app.set('env', 'production'); // Express's final handler prints errors outside the test env
  const printed = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    hub.user = { sub: 'u-late', preferred_username: 'late' };
    const agent = request.agent(app);
    const login = await agent.get('/sso/login?next=/forum').set(HTML);
    expect(login.status).toBe(302);
    const callback = await browserAtHub(hub, login.headers.location as string);
    await redis.destroy(); // the client is closed for good, as node-redis leaves it after a socket timeout
    const answer = await agent.get(callback).set(HTML);
    expect(answer.status).toBe(503);
    expect(answer.text).toMatch(/<\/html>\s*$/);
    await new Promise((resolve) => setTimeout(resolve, 100)); // a deferred next(error) would have run by now
    expect(printed.mock.calls.map((call) => String(call[0]).split('\n')[0])).toEqual([]);
  } finally {
    printed.mockRestore();
  }
});
