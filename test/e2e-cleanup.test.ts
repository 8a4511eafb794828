/**
 * Issue 9 item 16: the e2e run left its users, clients and secrets in the shared Redis with
 * no TTL. Its global teardown deletes every key under the run's prefix, and nothing else.
 */
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { deleteRunKeys } from '../e2e/redis-cleanup.js';
import { TEST_REDIS_URL } from '../hub/src/testing/test-hub.js';

test('the e2e teardown deletes every key under the run prefix (with or without TTL) and leaves other keys alone', async () => {
  const client = createClient({ url: TEST_REDIS_URL });
  await client.connect();
  const run = `e2e-cleanup-test:${randomUUID()}:`;
  const neighbour = `e2e-cleanup-test:${randomUUID()}:kept`;
  try {
    // More than one SCAN batch, the kinds the demo writes: strings, sets, sorted sets.
    for (let i = 0; i < 1_200; i += 1) await client.set(`${run}user:{${i}}`, 'x');
    await client.sAdd(`${run}users`, ['a', 'b']);
    await client.zAdd(`${run}audit:log`, { score: 1, value: 'e' });
    await client.set(`${run}portal-sess:abc`, 's', { expiration: { type: 'EX', value: 600 } });
    await client.set(neighbour, 'stays', { expiration: { type: 'EX', value: 60 } });
    // A prefix with glob characters is matched literally.
    await client.set(`${run.slice(0, -1)}X`, 'not under the prefix', { expiration: { type: 'EX', value: 60 } });

    expect(await deleteRunKeys(TEST_REDIS_URL, run)).toBe(1_203);
    let left = 0;
    for await (const batch of client.scanIterator({ MATCH: `${run}*`, COUNT: 500 })) left += batch.length;
    expect(left).toBe(0);
    expect(await client.get(neighbour)).toBe('stays');
    expect(await client.get(`${run.slice(0, -1)}X`)).toBe('not under the prefix');
  } finally {
    await client.del([neighbour, `${run.slice(0, -1)}X`]);
    await client.quit();
  }
});

test('the teardown refuses an empty or tiny prefix (it would delete other runs’ keys)', async () => {
  await expect(deleteRunKeys(TEST_REDIS_URL, '')).rejects.toThrow(/refusing/);
  await expect(deleteRunKeys(TEST_REDIS_URL, 'e:')).rejects.toThrow(/refusing/);
});
