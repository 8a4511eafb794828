import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { cleanUpTestRedis, connectTestRedis } from '../test-support/redis.js';
import type { KitStore } from './store.js';
import { MemoryKitStore } from './memory.js';
import { RedisKitStore } from './redis.js';
import type { RedisClient } from '../options.js';

const prefix = `sso-kit-test:${randomUUID()}:`;
let redis: RedisClient;

beforeAll(async () => {
  redis = await connectTestRedis();
});

afterAll(async () => {
  await cleanUpTestRedis(redis, prefix);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const implementations: [string, () => KitStore][] = [
  ['MemoryKitStore', () => new MemoryKitStore()],
  ['RedisKitStore', () => new RedisKitStore(redis)],
];

describe.each(implementations)('KitStore contract: %s', (_name, make) => {
  const key = (name: string) => `${prefix}${_name}:${name}:${randomUUID()}`;

  it('claimOnce is true once, false while the claim lives (SET NX)', async () => {
    const store = make();
    const k = key('claim');
    expect(await store.claimOnce(k, 60)).toBe(true);
    expect(await store.claimOnce(k, 60)).toBe(false);
    expect(await store.claimOnce(key('other'), 60)).toBe(true);
  });

  it('isClaimed tells a live claim without taking it', async () => {
    const store = make();
    const k = key('check');
    expect(await store.isClaimed(k)).toBe(false);
    expect(await store.isClaimed(k)).toBe(false); // looking does not claim
    expect(await store.claimOnce(k, 60)).toBe(true);
    expect(await store.isClaimed(k)).toBe(true);
    await store.delete(k);
    expect(await store.isClaimed(k)).toBe(false);
  });

  it('releaseClaim takes a claim back only for its owner (compare-and-delete)', async () => {
    const store = make();
    const k = key('owned');
    expect(await store.claimOnce(k, 60, 'owner-a')).toBe(true);
    await store.releaseClaim(k, 'owner-b');
    expect(await store.isClaimed(k)).toBe(true);
    await store.releaseClaim(k, 'owner-a');
    expect(await store.isClaimed(k)).toBe(false);
    expect(await store.claimOnce(k, 60)).toBe(true);
  });

  it('claimOnce can be claimed again after its TTL', async () => {
    const store = make();
    const k = key('ttl');
    expect(await store.claimOnce(k, 1)).toBe(true);
    await sleep(1_100);
    expect(await store.claimOnce(k, 1)).toBe(true);
  });

  it('concurrent claims: exactly one wins', async () => {
    const store = make();
    const k = key('race');
    const results = await Promise.all(Array.from({ length: 10 }, () => store.claimOnce(k, 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('sets: add, members, remove, delete', async () => {
    const store = make();
    const k = key('set');
    expect(await store.members(k)).toEqual([]);
    await store.addToSet(k, 'a', 60);
    await store.addToSet(k, 'b', 60);
    await store.addToSet(k, 'a', 60);
    expect((await store.members(k)).sort()).toEqual(['a', 'b']);
    await store.removeFromSet(k, 'a');
    await store.removeFromSet(k, 'missing');
    expect(await store.members(k)).toEqual(['b']);
    await store.delete(k);
    expect(await store.members(k)).toEqual([]);
    await store.delete(k); // idempotent
  });

  it('sets expire after their TTL', async () => {
    const store = make();
    const k = key('set-ttl');
    await store.addToSet(k, 'a', 1);
    await sleep(1_100);
    expect(await store.members(k)).toEqual([]);
  });

  it('each member expires on its own; a later add does not revive an expired one', async () => {
    const store = make();
    const k = key('set-member-ttl');
    await store.addToSet(k, 'old', 1);
    await store.addToSet(k, 'new', 60);
    expect((await store.members(k)).sort()).toEqual(['new', 'old']);
    await sleep(1_100);
    expect(await store.members(k)).toEqual(['new']);
    await store.addToSet(k, 'newer', 60);
    expect((await store.members(k)).sort()).toEqual(['new', 'newer']);
  });
});

describe('RedisKitStore writes TTLs on every key', () => {
  it('claims and sets carry an expiry', async () => {
    const store = new RedisKitStore(redis);
    const claim = `${prefix}ttl-check:claim`;
    const set = `${prefix}ttl-check:set`;
    await store.claimOnce(claim, 50);
    await store.addToSet(set, 'x', 50);
    expect(await redis.ttl(claim)).toBeGreaterThan(0);
    expect(await redis.ttl(set)).toBeGreaterThan(0);
  });
});
