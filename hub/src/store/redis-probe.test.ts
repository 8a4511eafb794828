import { jest } from '@jest/globals';
import { startOwnRedisSentinel, type OwnRedisSentinel } from '../testing/redis-server.js';
import { unreachableRedisMessage } from './index.js';
import { wrongKindOfRedis } from './redis-probe.js';

jest.setTimeout(60_000);

describe('a Sentinel setting whose sentinels answer', () => {
  let own: OwnRedisSentinel;
  beforeAll(async () => {
    own = await startOwnRedisSentinel('sso-probe');
  });
  afterAll(async () => {
    await own?.stop();
  });

  test('a mistyped REDIS_SENTINEL_NAME is named with the names the sentinels monitor, not "did not answer" (an outside operator review: it sent them to check whether Redis ran)', async () => {
    const message = await unreachableRedisMessage({ kind: 'sentinel', sentinels: own.sentinelRootNodes, name: 'sso-prob' });
    expect(message).toMatch(/found no primary: the sentinel at 127\.0\.0\.1:\d+ monitors no primary named "sso-prob" \(they monitor "sso-probe"\): set REDIS_SENTINEL_NAME to the name in their `sentinel monitor NAME …` line/);
    expect(message).not.toMatch(/did not answer/);
  });

  test('the right name says nothing more (the cause lies elsewhere)', async () => {
    expect(await wrongKindOfRedis({ kind: 'sentinel', sentinels: own.sentinelRootNodes, name: 'sso-probe' })).toBeUndefined();
  });
});
