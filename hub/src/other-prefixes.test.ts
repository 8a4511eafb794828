import { randomUUID } from 'node:crypto';
import { strayPrefixWarning } from './other-prefixes.js';
import { Keys } from './store/keys.js';
import { RedisStore } from './store/redis.js';
import { closeRedis, connectRedis, deleteByPrefix, type RedisClient } from './store/redis-client.js';
import { TEST_REDIS_URL } from './testing/test-hub.js';

/**
 * A mistyped KEY_PREFIX at a hub's start on a Redis that holds more than five deployments (a
 * shared Redis, or the test suite's, where other test files' hubs publish their settings): the
 * fleet of this hub's HUB_ISSUER is named, wherever it falls among the prefixes found.
 */
describe('strayPrefixWarning on a Redis of many deployments', () => {
  const base = `strayscan-${randomUUID().slice(0, 8)}-`;
  let client: RedisClient;
  beforeAll(async () => {
    client = await connectRedis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await deleteByPrefix(client, base);
    await closeRedis(client);
  });

  test('the prefix with this HUB_ISSUER is found among twenty others', async () => {
    const issuer = `http://hub.${base}localhost:4000`;
    // Twenty other deployments whose prefixes sort before the fleet's, and the fleet's own.
    for (let i = 0; i < 20; i += 1) {
      const key = new Keys(`${base}a${String(i).padStart(2, '0')}:`).hubSettings();
      await client.set(key, JSON.stringify({ HUB_ISSUER: `http://other-${i}.localhost:4000` }), { EX: 120 });
    }
    await client.set(new Keys(`${base}sso:`).hubSettings(), JSON.stringify({ HUB_ISSUER: issuer }), { EX: 120 });
    const warning = await strayPrefixWarning(new RedisStore(client), new Keys(`${base}sso`), issuer);
    expect(warning).toContain(`hubs with this HUB_ISSUER (${issuer}) run on this Redis under KEY_PREFIX "${base}sso:"`);
  });
});
