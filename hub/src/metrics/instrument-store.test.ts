import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { MemoryStore } from '../store/memory.js';
import { connectRedis, RedisStore } from '../store/redis.js';
import { StoreUnavailableError } from '../store/store.js';
import { startOwnRedis, type OwnRedis } from '../testing/redis-server.js';
import { HubMetrics } from './hub-metrics.js';
import { instrumentStore } from './instrument-store.js';

/** command → [calls timed, calls failed], from the registry as /metrics shows it. */
async function counts(metrics: HubMetrics): Promise<Record<string, [number, number]>> {
  const seen: Record<string, [number, number]> = {};
  for (const { labels, value, metricName } of (await metrics.storeDuration.get()).values) {
    if (metricName === 'sso_store_command_duration_seconds_count') seen[String(labels.command)] = [value, 0];
  }
  for (const { labels, value } of (await metrics.storeErrors.get()).values) seen[String(labels.command)]![1] = value;
  return seen;
}

let redis: OwnRedis;
beforeAll(async () => {
  redis = await startOwnRedis();
});
afterAll(async () => {
  redis.resume();
  await redis.stop();
});

test('a RedisStore is timed inside its own deadline (no wrapper): every call once, by Store method, failures counted as before', async () => {
  const store = new RedisStore(await connectRedis(redis.url));
  const metrics = new HubMetrics();
  let current: object | undefined;
  store.stalls.scopeBy(() => current);
  try {
    expect(instrumentStore(store, metrics)).toBe(store); // the store itself: no Proxy on the hot path
    await store.set('k', 'v', { ttlSeconds: 60 });
    expect(await store.get('k')).toBe('v');
    await store.write([{ op: 'set', key: 'k2', value: 'v', ttlSeconds: 60 }]); // one SET: timed as the write it is, not as a set
    expect(await store.getMany([])).toEqual([]); // nothing to send: timed all the same, as before
    expect(await store.swapAfter([], 'k3', null, 'v', 60)).toBe(true); // timed as swapAfter, not swap
    expect(await store.ping()).toBe(true);
    // A programming error stays a TypeError, and counts as a failure.
    await expect(store.get(undefined as unknown as string)).rejects.toBeInstanceOf(TypeError);
    expect(await counts(metrics)).toEqual({ set: [1, 0], get: [2, 1], write: [1, 0], getMany: [1, 0], swapAfter: [1, 0], ping: [1, 0] });

    // Stalled: a call runs out its deadline (a failure, about 2 s), the same request's next is given up at once (a failure).
    redis.pause();
    const request = {};
    current = request;
    const stalled = store.get('k');
    current = undefined;
    await expect(stalled).rejects.toBeInstanceOf(StoreUnavailableError);
    current = request;
    const givenUp = store.set('k', 'w');
    current = undefined;
    await expect(givenUp).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await store.ping()).toBe(false); // another request: waits out its deadline, answers false: a failure
    const after = await counts(metrics);
    expect(after.get).toEqual([3, 2]);
    expect(after.set).toEqual([2, 1]);
    expect(after.ping).toEqual([2, 1]);
    const sum = (await metrics.storeDuration.get()).values.find((v) => v.metricName === 'sso_store_command_duration_seconds_sum' && v.labels.command === 'get')!.value;
    expect(sum).toBeGreaterThanOrEqual(1.9); // the timed-out call's wait is in it
    redis.resume();
    const by = Date.now() + 5_000; // a resumed server and this process both wait for a CPU on a loaded machine
    while (store.stalls.overdue > 0 && Date.now() < by) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(store.stalls.overdue).toBe(0); // the late replies were reported; nothing more was timed for them
    expect((await counts(metrics)).get).toEqual([3, 2]);
  } finally {
    redis.resume();
    store.client.destroy();
  }
}, 20_000);

test('any other store is given a wrapper made once (no Proxy), which reads each method at its call', async () => {
  const inner = new MemoryStore();
  const metrics = new HubMetrics();
  try {
    const store = instrumentStore(inner, metrics);
    expect(store).not.toBe(inner);
    expect(store.kind).toBe('memory');
    await store.set('k', 'v');
    const set = inner.set.bind(inner);
    inner.set = async () => {
      throw new StoreUnavailableError(new Error('replaced'));
    };
    await expect(store.set('k', 'w')).rejects.toThrow(StoreUnavailableError);
    inner.set = set;
    expect(await store.get('k')).toBe('v');
    expect(await store.ping()).toBe(true);
    expect(await counts(metrics)).toEqual({ set: [2, 1], get: [1, 0], ping: [1, 0] });
  } finally {
    await inner.close();
  }
});
