import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RedisKitStore } from './store/redis.js';
import { cleanUpTestRedis, connectTestRedis } from './test-support/redis.js';
import { stallableProxy } from './test-support/stallable-proxy.js';

const prefix = `sso-kit-test:${randomUUID()}:`;
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

afterEach(() => {
  jest.restoreAllMocks();
});

describe('the Redis client options the README recommends', () => {
  it('the README example turns off the per-command timeout and sets a socket timeout', () => {
    const example = /createClient\(\{[\s\S]*?\}\);/.exec(readme)?.[0] ?? '';
    expect(example).toMatch(/commandOptions: \{ timeout: 0 \}/);
    expect(example).toMatch(/socket: \{\s*socketTimeout: 5_000,/);
    // node-redis gives up for good on a socket timeout unless a reconnectStrategy says otherwise.
    expect(example).toMatch(/reconnectStrategy: \(retries\) => Math\.min\(retries \* 100, 2_000\)/);
    expect(example).toMatch(/pingInterval: 1_000/);
  });

  it('create no AbortSignal.timeout timer per command', async () => {
    const redis = await connectTestRedis();
    const store = new RedisKitStore(redis);
    const timeouts = jest.spyOn(AbortSignal, 'timeout');
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.addToSet(`${prefix}set`, `m${i}`, 60)));
      await Promise.all(Array.from({ length: 50 }, () => store.members(`${prefix}set`)));
      // A per-command timer would be one call per command (100 here). The spy sees the whole
      // process, so a timer of anything else running in it then (once seen in a full run on a
      // loaded machine: one AbortSignal.timeout(1000)) is not taken for one.
      expect(timeouts.mock.calls.length).toBeLessThan(10);
    } finally {
      await cleanUpTestRedis(redis, prefix);
    }
  });

  it('still fail a call to a stalled Redis within the socket timeout, and an idle client stays connected', async () => {
    const proxy = await stallableProxy();
    const redis = await connectTestRedis(proxy.url);
    const store = new RedisKitStore(redis);
    try {
      await new Promise((resolve) => setTimeout(resolve, 6_000)); // idle past the socket timeout
      expect(await store.members(`${prefix}idle`)).toEqual([]);
      proxy.stall();
      const started = Date.now();
      await expect(store.members(`${prefix}stalled`)).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(7_000);
    } finally {
      redis.destroy();
      await proxy.close();
    }
  }, 20_000);

  it('connect again once a stalled Redis answers, rather than close for good (a first-day review: after a 6 s CLIENT PAUSE the README site answered 503 until restarted)', async () => {
    // node-redis's default reconnectStrategy returns false for a SocketTimeoutError: the client
    // closes, and every later call fails with "The client is closed".
    const proxy = await stallableProxy();
    const redis = await connectTestRedis(proxy.url);
    const store = new RedisKitStore(redis);
    try {
      proxy.stall();
      await expect(store.members(`${prefix}stalled`)).rejects.toThrow();
      proxy.resume();
      const until = Date.now() + 5_000;
      let answered = false;
      while (!answered && Date.now() < until) {
        answered = await store.members(`${prefix}back`).then(() => true, () => false);
        if (!answered) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(answered).toBe(true);
      expect(redis.isOpen).toBe(true);
    } finally {
      redis.destroy();
      await proxy.close();
    }
  }, 20_000);
});
