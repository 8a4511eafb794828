import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { connectRedis, RedisStore } from './redis.js';
import { StoreUnavailableError } from './store.js';
import { StallWatch } from './stall-watch.js';
import { startOwnRedis, type OwnRedis } from '../testing/redis-server.js';

/**
 * store/stall-watch.ts on a redis-server of the test's own, SIGSTOPped: a request whose call
 * timed out gives up its later calls at once, and nothing else does: not another request, not
 * work outside any request, not the same request once Redis answers again or a deadline later.
 */
describe('StallWatch: one deadline per request on a stalled Redis', () => {
  let redis: OwnRedis;
  let store: RedisStore;
  /** The request the next call belongs to (what request-context.ts tells the hub's store). */
  let current: object | undefined;
  const requestA = { name: 'A' };
  const requestB = { name: 'B' };

  beforeEach(async () => {
    redis = await startOwnRedis();
    store = new RedisStore(await connectRedis(redis.url));
    store.stalls.scopeBy(() => current);
    current = undefined;
  });
  afterEach(async () => {
    redis.resume();
    store.client.destroy();
    await redis.stop();
  });

  /** How a call of `scope` ends and after how long (settled within `capMs`, else 'pending'). */
  async function outcome(scope: object | undefined, call: () => Promise<unknown>, capMs = 4_000) {
    current = scope;
    const started = Date.now();
    const promise = call();
    current = undefined;
    const result = await Promise.race([
      promise.then(() => 'ok' as const, (error: unknown) => (error instanceof StoreUnavailableError ? ('unavailable' as const) : error)),
      new Promise((resolve) => setTimeout(() => resolve('pending'), capMs)),
    ]);
    return { result, ms: Date.now() - started, promise: promise.catch(() => undefined) };
  }

  it('after a timeout, the same request fails at once; another request and work outside any request still wait', async () => {
    redis.pause();
    const first = await outcome(requestA, () => store.get('k'));
    expect(first.result).toBe('unavailable');
    expect(first.ms).toBeGreaterThanOrEqual(1_900);
    expect(store.stalls.overdue).toBe(1);

    const again = await outcome(requestA, () => store.set('k', 'v'));
    expect(again.result).toBe('unavailable');
    // At once, not after another deadline (2 s): a jest worker's event loop was seen to stall
    // for over a second on a loaded CI machine, so the bound is half the deadline, not 100 ms.
    expect(again.ms).toBeLessThan(1_000);

    const other = await outcome(requestB, () => store.get('k'), 300);
    const background = await outcome(undefined, () => store.get('k'), 300);
    expect(other.result).toBe('pending'); // waits for Redis, as before
    expect(background.result).toBe('pending');
    await Promise.all([other.promise, background.promise]);
  });

  it('once Redis answers again, the same request\'s calls go through at once and its writes land', async () => {
    redis.pause();
    expect((await outcome(requestA, () => store.get('k'))).result).toBe('unavailable');
    redis.resume();
    // The overdue reply arrives within a round trip: from then on nothing is given up. (Waited
    // for up to 5 s, not 50 turns of 10 ms: a resumed server and this process both wait for a CPU
    // on a loaded machine.)
    const by = Date.now() + 5_000;
    while (store.stalls.overdue > 0 && Date.now() < by) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(store.stalls.overdue).toBe(0);
    const write = await outcome(requestA, () => store.set('k', 'written after the stall', { ttlSeconds: 60 }));
    expect(write.result).toBe('ok');
    expect(write.ms).toBeLessThan(1_000); // not given up, and not kept a deadline (2 s)
    expect(await store.get('k')).toBe('written after the stall');
  });

  it('the mark lasts one deadline: later calls of the same request wait again while Redis still stalls', async () => {
    redis.pause();
    expect((await outcome(requestA, () => store.get('k'))).result).toBe('unavailable');
    await new Promise((resolve) => setTimeout(resolve, store.stalls.windowMs + 50));
    const later = await outcome(requestA, () => store.get('k'), 500);
    expect(later.result).toBe('pending'); // given its own deadline, not failed by an old mark
    await later.promise;
  });
});

test('StallWatch resolves what it captured into a request only when it matters: a deadline fired, or a call starts while one is overdue', () => {
  const watch = new StallWatch(1_000);
  const request = { answered: false };
  const resolved: unknown[] = [];
  watch.scopeBy(() => request, (captured) => {
    resolved.push(captured);
    return (captured as typeof request).answered ? undefined : (captured as object);
  });
  const scope = watch.scope();
  expect(watch.givesUp(scope)).toBe(false);
  expect(resolved).toEqual([]); // nothing overdue: the hot path resolves nothing
  watch.timedOut(scope);
  expect(watch.givesUp(watch.scope())).toBe(true);
  expect(resolved).toHaveLength(2);
  request.answered = true; // its answer has ended: its mark is not read any more
  expect(watch.givesUp(watch.scope())).toBe(false);
  watch.answeredLate();
  expect(watch.overdue).toBe(0);
});
