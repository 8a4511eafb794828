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
    expect(example).toMatch(/socket: \{ socketTimeout: 5_000 \}/);
    expect(example).toMatch(/pingInterval: 1_000/);
  });

  it('create no AbortSignal.timeout timer per command', async () => {
    const redis = await connectTestRedis();
    const store = new RedisKitStore(redis);
    const timeouts = jest.spyOn(AbortSignal, 'timeout');
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.addToSet(`${prefix}set`, `m${i}`, 60)));
      await Promise.all(Array.from({ length: 50 }, () => store.members(`${prefix}set`)));
      expect(timeouts).not.toHaveBeenCalled();
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
});
