import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryStore } from './memory.js';
import { connectRedis, RedisStore, type RedisClient } from './redis.js';
import { deleteByPrefix as deleteKeys } from './redis-client.js';
import { startOwnRedisCluster, startOwnRedisSentinel } from '../testing/redis-server.js';
import { StoreUnavailableError, type Store } from './store.js';

/** The real Redis the contract runs against; every key this run writes sits under `prefix`. */
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:store-contract:${randomUUID()}:`;

/** Deletes every key under the run's prefix, with SCAN (never KEYS). */
async function deleteByPrefix(client: RedisClient, keyPrefix: string): Promise<void> {
  await deleteKeys(client, keyPrefix);
}

interface Subject {
  open(): Promise<Store>;
  /** Ends the implementation's resources after the suite (and removes what it wrote). */
  close(store: Store): Promise<void>;
}

const subjects: [string, Subject][] = [
  [
    'MemoryStore',
    {
      open: async () => new MemoryStore(),
      close: (store) => store.close(),
    },
  ],
  [
    'RedisStore',
    {
      open: async () => new RedisStore(await connectRedis(REDIS_URL)),
      close: async (store) => {
        await deleteByPrefix((store as RedisStore).client, prefix);
        await store.close();
      },
    },
  ],
  // The same contract on a 3-master Redis Cluster and on a Sentinel-managed primary with a
  // replica (each swap then waits for the replica, as the hub does by default with Sentinel).
  ownServers('RedisStore on a Redis Cluster', async () => {
    const cluster = await startOwnRedisCluster();
    return { store: new RedisStore(await connectRedis({ kind: 'cluster', nodes: cluster.rootNodes })), stop: () => cluster.stop() };
  }),
  ownServers('RedisStore on Redis Sentinel', async () => {
    const sentinel = await startOwnRedisSentinel();
    const client = await connectRedis({ kind: 'sentinel', sentinels: sentinel.sentinelRootNodes, name: sentinel.name });
    return { store: new RedisStore(client, { waitReplicas: 1, waitTimeoutMs: 2_000 }), stop: () => sentinel.stop() };
  }),
];

/** A subject on servers of its own, stopped (and their files removed) after the suite. */
function ownServers(name: string, start: () => Promise<{ store: RedisStore; stop(): Promise<void> }>): [string, Subject] {
  const stops = new Map<Store, () => Promise<void>>();
  return [
    name,
    {
      open: async () => {
        const { store, stop } = await start();
        stops.set(store, stop);
        return store;
      },
      close: async (store) => {
        await store.close();
        await stops.get(store)?.();
      },
    },
  ];
}

describe.each(subjects)('Store contract: %s', (name, subject) => {
  let store: Store;
  let n = 0;
  /** A fresh key under the run's prefix for each use, so tests never see each other's data. */
  const key = (label: string): string => `${prefix}${label}:${(n += 1)}`;

  beforeAll(async () => {
    store = await subject.open();
  });

  afterAll(async () => {
    await subject.close(store);
  });

  describe('strings', () => {
    it('gets what was set, overwrites, and answers null for a missing key', async () => {
      const k = key('str');
      expect(await store.get(k)).toBeNull();
      expect(await store.set(k, 'one')).toBe(true);
      expect(await store.get(k)).toBe('one');
      expect(await store.set(k, 'two')).toBe(true);
      expect(await store.get(k)).toBe('two');
    });

    it('onlyIfAbsent sets once: the second set returns false and keeps the first value', async () => {
      const k = key('nx');
      expect(await store.set(k, 'first', { onlyIfAbsent: true })).toBe(true);
      expect(await store.set(k, 'second', { onlyIfAbsent: true })).toBe(false);
      expect(await store.get(k)).toBe('first');
    });

    it('getMany answers in key order with null for missing keys', async () => {
      const [a, missing, b] = [key('many'), key('many'), key('many')];
      await store.set(a, 'A');
      await store.set(b, 'B');
      expect(await store.getMany([a, missing, b])).toEqual(['A', null, 'B']);
      expect(await store.getMany([])).toEqual([]);
    });

    it('getIndexed follows the first index key that holds a value to its record, null when none does or the record is missing', async () => {
      const [byName, byEmail, unused] = [key('index-name'), key('index-email'), key('index-none')];
      const record = { prefix: `${prefix}record:{`, suffix: '}' };
      const id = randomUUID();
      await store.set(`${prefix}record:{${id}}`, '{"id":"one"}');
      await store.set(byEmail, id);
      // The first index key is empty: the second one's value names the record.
      expect(await store.getIndexed([byName, byEmail], record)).toBe('{"id":"one"}');
      // The first key that holds a value decides, even when its record is missing.
      await store.set(byName, 'no-such-record');
      expect(await store.getIndexed([byName, byEmail], record)).toBeNull();
      expect(await store.getIndexed([byEmail, byName], record)).toBe('{"id":"one"}');
      expect(await store.getIndexed([unused], record)).toBeNull();
      expect(await store.getIndexed([], record)).toBeNull();
    });

    it('del returns how many of the keys existed', async () => {
      const [a, b, missing] = [key('del'), key('del'), key('del')];
      await store.set(a, '1');
      await store.set(b, '2');
      expect(await store.del(a, b, missing)).toBe(2);
      expect(await store.get(a)).toBeNull();
      expect(await store.del(a)).toBe(0);
      expect(await store.del()).toBe(0);
    });

    it('take reads and deletes atomically: only one of many concurrent takes gets the value', async () => {
      const k = key('take');
      await store.set(k, 'single-use');
      const results = await Promise.all(Array.from({ length: 20 }, () => store.take(k)));
      expect(results.filter((value) => value !== null)).toEqual(['single-use']);
      expect(await store.get(k)).toBeNull();
      expect(await store.take(k)).toBeNull();
    });

    it('swap sets, replaces or deletes only from the expected value, one winner among concurrent swaps', async () => {
      const k = key('swap');
      expect(await store.swap(k, 'x', 'y')).toBe(false);
      expect(await store.get(k)).toBeNull();
      const created = await Promise.all(Array.from({ length: 10 }, (_, i) => store.swap(k, null, `v${i}`, 60)));
      expect(created.filter(Boolean)).toHaveLength(1);
      const first = (await store.get(k))!;
      expect(await store.ttl(k)).toBeGreaterThan(0);
      expect(await store.swap(k, 'other', 'z')).toBe(false);
      expect(await store.swap(k, first, 'second', 30)).toBe(true);
      expect(await store.get(k)).toBe('second');
      expect(await store.ttl(k)).toBeLessThanOrEqual(30);
      expect(await store.swap(k, 'second', null)).toBe(true);
      expect(await store.get(k)).toBeNull();
    });
  });

  describe('batches and claims', () => {
    it('write applies every kind of write of a batch, and an empty batch is a no-op', async () => {
      const [a, b, c, index] = [key('w-a'), key('w-b'), key('w-c'), key('w-index')];
      await store.set(b, 'old');
      await store.set(c, 'doomed');
      await store.zAddExpiring(index, 'gone', Date.now() + 60_000);
      await store.write([]);
      await store.write([
        { op: 'set', key: a, value: 'A', ttlSeconds: 60 },
        { op: 'swap', key: b, expected: 'old', next: 'new' },
        { op: 'del', key: c },
        { op: 'zAddExpiring', key: index, member: 'm', expiresAtMs: Date.now() + 30_000 },
        { op: 'zRemove', key: index, member: 'gone' },
      ]);
      expect(await store.getMany([a, b, c])).toEqual(['A', 'new', null]);
      expect(await store.ttl(a)).toBeGreaterThan(55);
      expect(await store.zRangeByScore(index, -Infinity, Infinity)).toEqual(['m']);
      expect(await store.ttl(index)).toBeGreaterThan(25);
      expect(await store.ttl(index)).toBeLessThanOrEqual(60);
    });

    it('write: expire sets the TTL of a key that exists, and creates none', async () => {
      const [kept, missing] = [key('w-exp'), key('w-exp-missing')];
      await store.set(kept, 'x', { ttlSeconds: 5 });
      await store.write([{ op: 'expire', key: kept, ttlSeconds: 600 }, { op: 'expire', key: missing, ttlSeconds: 600 }]);
      expect(await store.ttl(kept)).toBeGreaterThan(590);
      expect(await store.get(kept)).toBe('x');
      expect(await store.ttl(missing)).toBe(-2);
    });

    it('write: a swap from an unexpected value changes nothing, the other writes still land', async () => {
      const [a, b] = [key('w2-a'), key('w2-b')];
      await store.set(b, 'other');
      await store.write([{ op: 'set', key: a, value: 'A' }, { op: 'swap', key: b, expected: 'old', next: 'new' }]);
      expect(await store.getMany([a, b])).toEqual(['A', 'other']);
    });

    it('swapAfter writes the batch, then swaps, and answers the swap; with no writes it is a swap', async () => {
      const [a, index, claim] = [key('sa-a'), key('sa-index'), key('sa-claim')];
      await store.set(claim, 'mine');
      expect(await store.swapAfter([
        { op: 'set', key: a, value: 'A', ttlSeconds: 60 },
        { op: 'zAddExpiring', key: index, member: 'm', expiresAtMs: Date.now() + 30_000 },
      ], claim, 'mine', 'issued', 60)).toBe(true);
      expect(await store.getMany([a, claim])).toEqual(['A', 'issued']);
      expect(await store.ttl(claim)).toBeGreaterThan(55);
      expect(await store.zRangeByScore(index, -Infinity, Infinity)).toEqual(['m']);
      // The swap's answer, whatever the writes did: they land even when it finds another value.
      const b = key('sa-b');
      expect(await store.swapAfter([{ op: 'set', key: b, value: 'B' }], claim, 'mine', 'again')).toBe(false);
      expect(await store.getMany([b, claim])).toEqual(['B', 'issued']);
      expect(await store.swapAfter([], claim, 'issued', null)).toBe(true);
      expect(await store.get(claim)).toBeNull();
    });

    it('swapAfter: a write that is refused fails the commit, and the claim keeps its value', async () => {
      const [a, index, claim] = [key('sa-fail-a'), key('sa-fail-index'), key('sa-fail-claim')];
      await store.set(claim, 'mine', { ttlSeconds: 60 });
      await store.set(index, 'a string, not a sorted set'); // the index write is refused (WRONGTYPE)
      await expect(store.swapAfter([
        { op: 'set', key: a, value: 'A', ttlSeconds: 60 },
        { op: 'zAddExpiring', key: index, member: 'm', expiresAtMs: Date.now() + 30_000 },
      ], claim, 'mine', 'issued', 60)).rejects.toThrow();
      // Not committed: the caller's release (mine → null) finds its claim, a retry starts over.
      expect(await store.get(claim)).toBe('mine');
      expect(await store.swap(claim, 'mine', null)).toBe(true);
    });

    it('zAddExpiring with no expiry keeps the index for ever', async () => {
      const k = key('w-forever');
      await store.zAddExpiring(k, 'a', Date.now() + 10_000);
      await store.write([{ op: 'zAddExpiring', key: k, member: 'b', expiresAtMs: Infinity }]);
      expect(await store.ttl(k)).toBe(-1);
      expect(await store.zRangeByScore(k, -Infinity, Infinity)).toEqual(['a', 'b']);
    });

    it('zAddExpiring answers how many live members the index holds after the add (an expired one dropped, a repeat not counted twice)', async () => {
      const k = key('w-count');
      expect(await store.zAddExpiring(k, 'a', Date.now() + 10_000)).toBe(1);
      expect(await store.zAddExpiring(k, 'b', Date.now() + 10_000)).toBe(2);
      expect(await store.zAddExpiring(k, 'b', Date.now() + 20_000)).toBe(2);
      await store.zAddExpiring(k, 'soon', Date.now() + 50);
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(await store.zAddExpiring(k, 'c', Date.now() + 10_000)).toBe(3);
    });

    it('claimBeside claims once beside a live record, with the record\'s expiry; never beside a missing one', async () => {
      // A claim carries its record's whole key as hash tag (as keys.ts makes them): one slot on a cluster.
      const beside = (recordKey: string) => `${prefix}claim:{${recordKey}}`;
      const [record, orphan, plain] = [key('cb-record'), key('cb-orphan'), key('cb-plain')];
      const [claim, plainClaim] = [beside(record), beside(plain)];
      await store.set(record, '{"grantId":"g"}', { ttlSeconds: 30 });
      const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => store.claimBeside(claim, `v${i}`, record, 3600)));
      expect(outcomes.filter((o) => o.claimed)).toHaveLength(1);
      expect(outcomes.every((o) => o.record === '{"grantId":"g"}')).toBe(true);
      expect(await store.ttl(claim)).toBeGreaterThan(25);
      expect(await store.ttl(claim)).toBeLessThanOrEqual(30);

      const none = beside(orphan);
      expect(await store.claimBeside(none, 'v', orphan, 3600)).toEqual({ record: null, claimed: false });
      expect(await store.get(none)).toBeNull();

      await store.set(plain, 'forever');
      expect(await store.claimBeside(plainClaim, 'v', plain, 120)).toEqual({ record: 'forever', claimed: true });
      expect(await store.ttl(plainClaim)).toBeGreaterThan(115);
    });

    it('takeMarking takes a key and marks it; setUnlessMarked then refuses that mark only', async () => {
      const marked = (k: string) => `${prefix}ended:{${k}}`; // beside its key: one slot on a cluster
      const [record, missing] = [key('tm-record'), key('tm-missing')];
      await store.set(record, 'live', { ttlSeconds: 60 });
      expect(await store.takeMarking(record, marked(record), 'rec-1', 120)).toBe('live');
      expect(await store.get(record)).toBeNull();
      expect(await store.get(marked(record))).toBe('rec-1');
      expect(await store.ttl(marked(record))).toBeGreaterThan(115);

      // The request that loaded it writes it back: refused. Another mark (a new session under that key) lands.
      await store.write([{ op: 'setUnlessMarked', key: record, value: 'stale', ttlSeconds: 60, marker: marked(record), mark: 'rec-1' }]);
      expect(await store.get(record)).toBeNull();
      await store.write([{ op: 'setUnlessMarked', key: record, value: 'other', ttlSeconds: 60, marker: marked(record), mark: 'rec-2' }]);
      expect(await store.get(record)).toBe('other');
      expect(await store.ttl(record)).toBeGreaterThan(55);

      // Unmarked, it is a plain set (with or without expiry); taking a missing key still marks it.
      const fresh = key('tm-fresh');
      await store.write([{ op: 'setUnlessMarked', key: fresh, value: 'v', marker: marked(fresh), mark: 'x' }, { op: 'set', key: key('tm-other'), value: 'o' }]);
      expect(await store.get(fresh)).toBe('v');
      expect(await store.ttl(fresh)).toBe(-1);
      expect(await store.takeMarking(missing, marked(missing), 'm', 30)).toBeNull();
      expect(await store.get(marked(missing))).toBe('m');
    });
  });

  describe('ttl', () => {
    it('is -2 for a missing key, -1 without expiry, and the seconds left otherwise', async () => {
      const [missing, forever, expiring] = [key('ttl'), key('ttl'), key('ttl')];
      expect(await store.ttl(missing)).toBe(-2);
      await store.set(forever, 'x');
      expect(await store.ttl(forever)).toBe(-1);
      await store.set(expiring, 'x', { ttlSeconds: 100 });
      const left = await store.ttl(expiring);
      expect(left).toBeGreaterThan(90);
      expect(left).toBeLessThanOrEqual(100);
    });

    it('a plain set clears an earlier expiry', async () => {
      const k = key('ttl-reset');
      await store.set(k, 'x', { ttlSeconds: 100 });
      await store.set(k, 'y');
      expect(await store.ttl(k)).toBe(-1);
    });

    // One wait of ~1.2 s covers every kind of expiring write, to keep the suite quick.
    it('expires keys written with a ttl: set, onlyIfAbsent set, setAdd and incr', async () => {
      const [str, nx, set, counter, kept] = [key('exp'), key('exp'), key('exp'), key('exp'), key('exp')];
      await store.set(str, 'gone', { ttlSeconds: 1 });
      await store.set(nx, 'gone', { ttlSeconds: 1, onlyIfAbsent: true });
      await store.setAdd(set, 'member', 1);
      await store.incr(counter, 1);
      await store.set(kept, 'stays', { ttlSeconds: 60 });
      expect(await store.get(str)).toBe('gone');

      await sleep(1_200);

      expect(await store.get(str)).toBeNull();
      expect(await store.ttl(str)).toBe(-2);
      expect(await store.get(nx)).toBeNull();
      // An expired key is absent, so an onlyIfAbsent set succeeds again.
      expect(await store.set(nx, 'again', { onlyIfAbsent: true })).toBe(true);
      expect(await store.setMembers(set)).toEqual([]);
      expect(await store.get(counter)).toBeNull();
      expect(await store.incr(counter)).toBe(1);
      expect(await store.get(kept)).toBe('stays');
    });
  });

  describe('sets', () => {
    it('adds, lists and removes members; duplicates are stored once', async () => {
      const k = key('set');
      expect(await store.setMembers(k)).toEqual([]);
      await store.setAdd(k, 'a');
      await store.setAdd(k, 'b');
      await store.setAdd(k, 'a');
      expect((await store.setMembers(k)).sort()).toEqual(['a', 'b']);
      await store.setRemove(k, 'a');
      await store.setRemove(k, 'not-there');
      expect(await store.setMembers(k)).toEqual(['b']);
      await store.setRemove(k, 'b');
      expect(await store.setMembers(k)).toEqual([]);
      // Removing the last member removes the set itself.
      expect(await store.ttl(k)).toBe(-2);
      await store.setRemove(key('set-missing'), 'x');
    });

    it('setScan walks a set a batch at a time, every member at least once, also while members come and go', async () => {
      const k = key('set-scan');
      expect(await store.setScan(k, '0', 10)).toEqual({ cursor: '0', members: [] });
      const all = Array.from({ length: 300 }, (_, i) => `m${i}`);
      for (const member of all) await store.setAdd(k, member);
      const seen = new Set<string>();
      let cursor = '0';
      let calls = 0;
      do {
        const page = await store.setScan(k, cursor, 50);
        page.members.forEach((member) => seen.add(member));
        cursor = page.cursor;
        calls += 1;
        // Members leave and arrive during the walk: those there throughout are still all seen.
        if (calls === 2) {
          await store.setRemove(k, 'm0');
          await store.setAdd(k, 'late');
        }
      } while (cursor !== '0' && calls < 1000);
      expect(calls).toBeGreaterThan(1);
      for (const member of all.slice(1)) expect(seen.has(member)).toBe(true);
    });

    it('setAdd with a ttl pushes the expiry out and never shortens it', async () => {
      const k = key('set-ttl');
      await store.setAdd(k, 'a', 10);
      const first = await store.ttl(k);
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThanOrEqual(10);

      await store.setAdd(k, 'b', 100);
      expect(await store.ttl(k)).toBeGreaterThan(90);

      await store.setAdd(k, 'c', 5);
      expect(await store.ttl(k)).toBeGreaterThan(90);

      // A member added without a ttl keeps the set's expiry.
      await store.setAdd(k, 'd');
      expect(await store.ttl(k)).toBeGreaterThan(90);
      expect((await store.setMembers(k)).sort()).toEqual(['a', 'b', 'c', 'd']);
    });

    it('setCard counts the members without reading them: 0 for a missing set', async () => {
      const k = key('set-card');
      expect(await store.setCard(k)).toBe(0);
      for (const member of ['a', 'b', 'c', 'a']) await store.setAdd(k, member, 60);
      expect(await store.setCard(k)).toBe(3);
      await store.setRemove(k, 'b');
      expect(await store.setCard(k)).toBe(2);
    });

    it('setAdd without a ttl leaves the set without expiry', async () => {
      const k = key('set-forever');
      await store.setAdd(k, 'a');
      expect(await store.ttl(k)).toBe(-1);
    });
  });

  describe('sorted sets', () => {
    it('ranges by score (lowest first, with limit) and by reverse rank', async () => {
      const k = key('z');
      await store.zAdd(k, 3, 'c');
      await store.zAdd(k, 1, 'a');
      await store.zAdd(k, 4, 'd');
      await store.zAdd(k, 2, 'b');
      expect(await store.zCard(k)).toBe(4);
      expect(await store.zRangeByScore(k, 0, 10)).toEqual(['a', 'b', 'c', 'd']);
      expect(await store.zRangeByScore(k, 2, 3)).toEqual(['b', 'c']);
      expect(await store.zRangeByScore(k, -Infinity, Infinity, 2)).toEqual(['a', 'b']);
      expect(await store.zRangeByScore(k, 5, 10)).toEqual([]);
      expect(await store.zRevRange(k, 0, 1)).toEqual(['d', 'c']);
      expect(await store.zRevRange(k, 0, -1)).toEqual(['d', 'c', 'b', 'a']);
      expect(await store.zRevRange(k, 1, 2)).toEqual(['c', 'b']);
      expect(await store.zRevRangeByScore(k, Infinity, -Infinity, 3)).toEqual(['d', 'c', 'b']);
      expect(await store.zRevRangeByScore(k, 3, 2, 10)).toEqual(['c', 'b']);
      expect(await store.zRevRangeByScore(k, 0, -Infinity, 10)).toEqual([]);
    });

    it('zAddMany adds several members at once, and an empty list is a no-op', async () => {
      const k = key('z-many');
      await store.zAddMany(k, []);
      expect(await store.zCard(k)).toBe(0);
      await store.zAddMany(k, [{ score: 2, member: 'b' }, { score: 1, member: 'a' }, { score: 3, member: 'c' }]);
      await store.zAddMany(k, [{ score: 0, member: 'c' }]);
      expect(await store.zRangeByScore(k, -Infinity, Infinity)).toEqual(['c', 'a', 'b']);
    });

    it('zAdd of an existing member moves it instead of adding it again', async () => {
      const k = key('z-move');
      await store.zAdd(k, 1, 'job');
      await store.zAdd(k, 2, 'other');
      await store.zAdd(k, 5, 'job');
      expect(await store.zCard(k)).toBe(2);
      expect(await store.zRangeByScore(k, 0, 10)).toEqual(['other', 'job']);
    });

    it('orders members of equal score by member', async () => {
      const k = key('z-tie');
      await store.zAdd(k, 1, 'b');
      await store.zAdd(k, 1, 'a');
      await store.zAdd(k, 1, 'c');
      expect(await store.zRangeByScore(k, 1, 1)).toEqual(['a', 'b', 'c']);
      expect(await store.zRevRange(k, 0, -1)).toEqual(['c', 'b', 'a']);
    });

    it('zAddExpiring drops expired members and keeps the key as long as its last member', async () => {
      const k = key('expiring');
      const now = Date.now();
      await store.zAddExpiring(k, 'short', now + 1_000);
      await store.zAddExpiring(k, 'long', now + 60_000);
      await store.zAddExpiring(k, 'mid', now + 30_000);
      expect(await store.ttl(k)).toBeGreaterThan(55);
      expect(await store.ttl(k)).toBeLessThanOrEqual(60);
      await sleep(1_100);
      await store.zAddExpiring(k, 'new', now + 10_000);
      expect(await store.zRangeByScore(k, -Infinity, Infinity)).toEqual(['new', 'mid', 'long']);
      expect(await store.ttl(k)).toBeGreaterThan(55);
    });

    it('zRemove and zRemoveByScore return how many members went', async () => {
      const k = key('z-rem');
      for (const [score, member] of [[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd']] as const) await store.zAdd(k, score, member);
      expect(await store.zRemove(k, 'b')).toBe(1);
      expect(await store.zRemove(k, 'b')).toBe(0);
      expect(await store.zRemoveByScore(k, 3, 4)).toBe(2);
      expect(await store.zRangeByScore(k, -Infinity, Infinity)).toEqual(['a']);
      expect(await store.zRemoveByScore(k, 10, 20)).toBe(0);
      expect(await store.zCard(k)).toBe(1);
      expect(await store.zRemove(k, 'a')).toBe(1);
      expect(await store.zCard(k)).toBe(0);
      expect(await store.ttl(k)).toBe(-2);
    });

    it('zRemoveByRank removes lowest-first by inclusive rank, negative ranks from the end', async () => {
      const k = key('z-rank');
      const members = ['a', 'b', 'c', 'd', 'e', 'f'];
      await store.zAddMany(k, members.map((member, i) => ({ score: i + 1, member })));
      expect(await store.zRemoveByRank(k, 0, 1)).toBe(2);
      expect(await store.zRangeByScore(k, -Infinity, Infinity)).toEqual(['c', 'd', 'e', 'f']);
      // Keep the newest two: everything up to the third from the end.
      expect(await store.zRemoveByRank(k, 0, -3)).toBe(2);
      expect(await store.zRangeByScore(k, -Infinity, Infinity)).toEqual(['e', 'f']);
      expect(await store.zRemoveByRank(k, 0, -3)).toBe(0);
      expect(await store.zRemoveByRank(k, 5, 10)).toBe(0);
      expect(await store.zRemoveByRank(k, -1, -1)).toBe(1);
      expect(await store.zRemoveByRank(k, 0, 100)).toBe(1);
      expect(await store.zCard(k)).toBe(0);
      expect(await store.ttl(k)).toBe(-2);
      expect(await store.zRemoveByRank(key('z-rank-missing'), 0, -1)).toBe(0);
    });

    it('answers empty for a missing key', async () => {
      const k = key('z-missing');
      expect(await store.zCard(k)).toBe(0);
      expect(await store.zRangeByScore(k, 0, 10)).toEqual([]);
      expect(await store.zRevRange(k, 0, -1)).toEqual([]);
      expect(await store.zRemove(k, 'x')).toBe(0);
      expect(await store.zRemoveByScore(k, 0, 10)).toBe(0);
    });
  });

  describe('counters', () => {
    it('incr counts from 1 and sets the expiry on the first increment only', async () => {
      const k = key('incr');
      expect(await store.incr(k, 100)).toBe(1);
      const first = await store.ttl(k);
      expect(first).toBeGreaterThan(90);
      // A later increment with a shorter ttl must not move the window (fixed-window rate limits).
      expect(await store.incr(k, 5)).toBe(2);
      expect(await store.ttl(k)).toBeGreaterThan(90);
      expect(await store.incr(k)).toBe(3);
      expect(await store.get(k)).toBe('3');
      // A count given back (a mail the SMTP server did not take) keeps the window too.
      expect(await store.incr(k, 5, -1)).toBe(2);
      expect(await store.ttl(k)).toBeGreaterThan(90);
    });

    it('incr without a ttl leaves the counter without expiry', async () => {
      const k = key('incr-forever');
      expect(await store.incr(k)).toBe(1);
      expect(await store.ttl(k)).toBe(-1);
    });
  });

  describe('versioned writes', () => {
    it('apply the writes, bump the version and log the change under it', async () => {
      const [record, other, ids, version, log] = [key('vw-record'), key('vw-other'), key('vw-ids'), key('vw-version'), key('vw-log')];
      await store.set(other, 'to delete');
      await store.setAdd(ids, 'gone');
      const change = { versionKey: version, logKey: log, keep: 100, trimEvery: 10 };
      expect(await store.versionedWrite([{ op: 'set', key: record, value: '{"a":1}' }, { op: 'setAdd', key: ids, member: 'a' }, { op: 'del', key: other }, { op: 'setRemove', key: ids, member: 'gone' }], { ...change, entry: 'a' })).toEqual({ version: 1, epoch: null });
      expect(await store.get(record)).toBe('{"a":1}');
      expect(await store.get(other)).toBeNull();
      expect(await store.setMembers(ids)).toEqual(['a']);
      expect(await store.get(version)).toBe('1');
      expect(await store.versionedWrite([{ op: 'set', key: record, value: '{"a":2}' }], { ...change, entry: 'a:b' })).toEqual({ version: 2, epoch: null });
      expect(await store.zRangeByScore(log, 1, 2)).toEqual(['1:a', '2:a:b']);
      // Nothing of it expires: the registry's records live until removed.
      expect(await store.ttl(record)).toBe(-1);
      expect(await store.ttl(log)).toBe(-1);
    });

    it('trim the log every `trimEvery` versions to the last `keep`', async () => {
      const [version, log] = [key('vw-version'), key('vw-log')];
      for (let i = 1; i <= 9; i += 1) await store.versionedWrite([], { versionKey: version, logKey: log, entry: `c${i}`, keep: 3, trimEvery: 5 });
      // Trimmed at version 5 (entries 1 and 2 gone); 6 to 9 wait for the trim at 10.
      expect(await store.zRangeByScore(log, 0, 100)).toEqual(['3:c3', '4:c4', '5:c5', '6:c6', '7:c7', '8:c8', '9:c9']);
      await store.versionedWrite([], { versionKey: version, logKey: log, entry: 'c10', keep: 3, trimEvery: 5 });
      expect(await store.zRangeByScore(log, 0, 100)).toEqual(['8:c8', '9:c9', '10:c10']);
    });

    it('create the epoch when absent and answer the one in force: a counter that starts again after a data loss starts under a new one', async () => {
      const [version, log] = [key('vw-version'), key('vw-log')];
      const epochKey = `${key('vw-epoch')}:{${version}}`;
      const change = { versionKey: version, logKey: log, entry: 'a', keep: 100, trimEvery: 10 };
      expect(await store.versionedWrite([], { ...change, epoch: { key: epochKey, value: 'first' } })).toEqual({ version: 1, epoch: 'first' });
      expect(await store.versionedWrite([], { ...change, epoch: { key: epochKey, value: 'second' } })).toEqual({ version: 2, epoch: 'first' });
      expect(await store.get(epochKey)).toBe('first');
      await store.del(version, log, epochKey);
      expect(await store.versionedWrite([], { ...change, epoch: { key: epochKey, value: 'third' } })).toEqual({ version: 1, epoch: 'third' });
      expect(await store.ttl(epochKey)).toBe(-1);
    });
  });

  it("time is the backend's clock in epoch milliseconds (here, the same machine's)", async () => {
    const before = Date.now();
    const time = await store.time();
    expect(Number.isInteger(time)).toBe(true);
    expect(time).toBeGreaterThanOrEqual(before - 1_000);
    expect(time).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  it('ping answers true while the backend is reachable', async () => {
    expect(await store.ping()).toBe(true);
    expect(store.kind).toBe(name.startsWith('RedisStore') ? 'redis' : 'memory');
  });
});

// Fail closed: the design asks that a lost Redis gives a clear 503, never a hang.
describe('RedisStore when Redis is unreachable', () => {
  it('connectRedis rejects quickly when nothing listens on the port', async () => {
    const started = Date.now();
    await expect(connectRedis('redis://127.0.0.1:1')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('a store whose client is gone throws StoreUnavailableError instead of hanging', async () => {
    const client = await connectRedis(REDIS_URL);
    const store = new RedisStore(client);
    client.destroy();
    const started = Date.now();
    await expect(store.get(`${prefix}after-disconnect`)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.set(`${prefix}after-disconnect`, 'x')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await store.ping()).toBe(false);
    expect(Date.now() - started).toBeLessThan(3_000);
    await store.close();
  });
});
