/**
 * Issue 12, "Health and metrics": `/healthz` says the process is alive and touches nothing
 * (a Redis outage must not get every hub process restarted); `/readyz` says whether it can
 * serve: what `OwnedState` checks (store, keys, portal client), and not shutting down.
 */
import { connectRedis, RedisStore } from '../src/store/redis.js';
import { startTestHub, STORE_KINDS, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';
import { deleteByPrefix } from '../src/store/redis-client.js';
import { startOwnRedis } from '../src/testing/redis-server.js';
import { stallableStore } from '../src/testing/stallable-store.js';
import { createClient } from 'redis';
import { READYZ_ANSWER_MS } from '../src/health/health-routes.js';
import { MemoryStore } from '../src/store/memory.js';
import { captureLogger } from '../src/testing/capture-logger.js';

interface ReadyBody {
  ready: boolean;
  reasons: string[];
}

async function readyz(hub: RunningHub): Promise<{ status: number; body: ReadyBody; cacheControl: string | null }> {
  const response = await fetch(`${hub.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as ReadyBody, cacheControl: response.headers.get('cache-control') };
}

describe.each(STORE_KINDS)('health endpoints on %s', (kind) => {
  let hub: RunningHub;
  beforeEach(async () => {
    hub = await startTestHub(kind);
  });
  afterEach(async () => {
    await hub.close();
  });

  test('/readyz is 200 with no reasons on a fresh hub; /healthz is 200; neither is cached', async () => {
    const ready = await readyz(hub);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ ready: true, reasons: [] });
    expect(ready.cacheControl).toBe('no-store');
    const alive = await fetch(`${hub.url}/healthz`);
    expect(alive.status).toBe(200);
    expect(alive.headers.get('cache-control')).toBe('no-store');
    expect(await alive.json()).toEqual({ status: 'ok' });
  });

  test('/readyz is 503 "shutting down" once the process drains (the balancer stops sending); /healthz stays 200', async () => {
    hub.services.draining.start();
    const ready = await readyz(hub);
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ ready: false, reasons: ['shutting down'] });
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
  });
});

test('with Redis gone /readyz is 503 within the store deadline while /healthz stays 200 (alive: no restart storm)', async () => {
  const store = new RedisStore(await connectRedis(TEST_REDIS_URL));
  const hub = await startTestHub('redis', {}, store);
  try {
    store.client.destroy();
    const started = Date.now();
    const ready = await readyz(hub);
    expect(ready.status).toBe(503);
    expect(ready.body.reasons.join(' ')).toMatch(/store/);
    expect(Date.now() - started).toBeLessThan(4_000);
    const alive = await fetch(`${hub.url}/healthz`, { signal: AbortSignal.timeout(1_000) });
    expect(alive.status).toBe(200);
  } finally {
    await hub.close();
    const cleaner = new RedisStore(await connectRedis(TEST_REDIS_URL));
    await deleteByPrefix(cleaner.client, hub.config.KEY_PREFIX);
    await cleaner.close();
  }
});

test('a draining process answers /readyz 503 at once, also while the store stalls (found by bench/tools/faults-under-load.ts)', async () => {
  // SIGTERM'd while Redis was paused, a hub answered /readyz only after the store's 2 s
  // deadline: a balancer's check (HAProxy's `timeout check`, the tests' proxy: 1 s) timed out,
  // left the process in rotation while it drained, and requests still went to it.
  const { store, stall, resume } = stallableStore();
  const hub = await startTestHub('memory', {}, store);
  try {
    stall();
    hub.services.draining.start();
    const started = Date.now();
    const ready = await readyz(hub);
    expect(ready.status).toBe(503);
    // The store was not asked: a check of the stalled store would have added "store: no answer in
    // time" after waiting READYZ_ANSWER_MS. The time bound is that wait: 500 ms was missed on a
    // loaded machine (554 ms, and 1.7 s with a load average of 16 on two cores) by the request alone.
    expect(ready.body.reasons).toEqual(['shutting down']);
    expect(Date.now() - started).toBeLessThan(READYZ_ANSWER_MS);
  } finally {
    resume();
    await hub.close();
  }
});

test('Redis out of memory (maxmemory, noeviction): /readyz says so and what to fix, not "check REDIS_URL" (found by bench/tools/faults-under-load.ts)', async () => {
  const redis = await startOwnRedis();
  const store = new RedisStore(await connectRedis(redis.url));
  const admin = createClient({ url: redis.url });
  await admin.connect();
  try {
    const hub = await startTestHub('redis', {}, store);
    try {
      expect((await readyz(hub)).status).toBe(200);
      await admin.configSet('maxmemory-policy', 'noeviction');
      await admin.configSet('maxmemory', '1');
      // Reads and PING still answer; the check's writes are refused.
      expect(await store.get('anything')).toBeNull();
      const ready = await readyz(hub);
      expect(ready.status).toBe(503);
      expect(ready.body.reasons.join(' ')).toMatch(/out of memory.*maxmemory/);
      expect(ready.body.reasons.join(' ')).not.toMatch(/REDIS_URL/);
      await admin.configSet('maxmemory', '0');
      expect((await readyz(hub)).status).toBe(200);
    } finally {
      await hub.close();
    }
  } finally {
    await store.close().catch(() => undefined);
    await admin.quit().catch(() => undefined);
    await redis.stop();
  }
});

describe('/readyz answers within READYZ_ANSWER_MS while the store stalls (a balancer check times out at 2-3 s)', () => {
  // The check asks the store several things in turn (ping, eviction, keys, the hub's own
  // records), each within the store's 2 s deadline: a failover review saw /readyz answer after
  // 3.4 s while a cluster master was frozen, past compose's 3 s healthcheck timeout.
  test('a stalled store: 503 "store: no answer in time" in under READYZ_ANSWER_MS + 500 ms, and 200 again once it answers', async () => {
    const { store, stall, resume } = stallableStore();
    const hub = await startTestHub('memory', {}, store);
    try {
      expect((await readyz(hub)).status).toBe(200);
      stall();
      for (let i = 0; i < 2; i += 1) {
        const started = Date.now();
        const ready = await readyz(hub);
        expect(ready.status).toBe(503);
        expect(ready.body.reasons.join(' ')).toMatch(/store/);
        expect(Date.now() - started).toBeLessThan(READYZ_ANSWER_MS + 500);
      }
      resume();
      const deadline = Date.now() + 15_000;
      let status = 0;
      while (Date.now() < deadline && (status = (await readyz(hub)).status) !== 200) await new Promise((r) => setTimeout(r, 200));
      expect(status).toBe(200);
    } finally {
      resume();
      await hub.close();
    }
  }, 40_000);

  test('a paused redis-server (SIGSTOP): 503 in under READYZ_ANSWER_MS + 500 ms', async () => {
    const redis = await startOwnRedis();
    const store = new RedisStore(await connectRedis(redis.url));
    const hub = await startTestHub('redis', {}, store);
    try {
      expect((await readyz(hub)).status).toBe(200);
      redis.pause();
      const started = Date.now();
      const ready = await readyz(hub);
      expect(ready.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(READYZ_ANSWER_MS + 500);
    } finally {
      redis.resume();
      store.client.destroy();
      await hub.close();
      await redis.stop();
    }
  }, 40_000);
});

test('a store check that fails while this process is overloaded says so in its log line, not only "store check failed" (an SRE review read the store blamed with Redis idle)', async () => {
  const memory = new MemoryStore();
  let failing: 'busy' | 'idle' | 'refused' | undefined;
  const ping = memory.ping.bind(memory);
  memory.ping = async () => {
    if (failing === 'busy') {
      const end = performance.now() + 400; // the loop held by the hub's own work throughout the check
      while (performance.now() < end);
      throw new Error('the session store is unavailable');
    }
    if (failing === 'idle') {
      await new Promise((resolve) => setTimeout(resolve, 400));
      throw new Error('the session store is unavailable');
    }
    if (failing === 'refused') {
      const end = performance.now() + 5; // the few ms of a refused connect, on the loop
      while (performance.now() < end);
      throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    }
    return ping();
  };
  const log = captureLogger();
  const hub = await startTestHub('memory', { HUB_STORE_CHECK_MS: '10000' }, memory, log.logger);
  try {
    const failed = () => log.lines.filter((line) => line.level === 'warn' && line.message.startsWith('store check failed'));
    failing = 'busy';
    expect((await hub.services.owned.check()).ready).toBe(false);
    expect(failed().at(-1)?.message).toBe('store check failed while this process was overloaded (its event loop busy through the check): the store may be fine');
    expect(failed().at(-1)?.fields.eventLoopBusyMs).toBeGreaterThanOrEqual(300);
    failing = 'idle';
    expect((await hub.services.owned.check()).ready).toBe(false);
    expect(failed().at(-1)?.message).toBe('store check failed');
    expect(failed().at(-1)?.fields.eventLoopBusyMs).toBeLessThan(200);
    // Refused at once (Redis down or restarting: ECONNREFUSED within a millisecond): the loop was
    // "busy" through nearly all of the check, but nothing held it up. A soak test's Redis restart
    // logged "overloaded … the store may be fine" twice with the hub idle and the store down.
    failing = 'refused';
    expect((await hub.services.owned.check()).ready).toBe(false);
    expect(failed().at(-1)?.message).toBe('store check failed');
    expect(failed().at(-1)?.fields.checkMs).toBeLessThan(100);
  } finally {
    await hub.close();
  }
});
