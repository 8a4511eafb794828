/**
 * A token answer's writes are acknowledged by the replicas before the commit that answers with
 * them (README, "WAIT and persistence"). A refresh or code exchange writes its new tokens and
 * commits its answer with `swapAfter` (the writes, then the compare-and-set on the claim). With
 * `waitReplicas`, that call must not succeed before a replica holds the writes too: a primary that
 * crashes right after the answer would otherwise take the new refresh token with it, and the
 * promoted replica would refuse it (the client's user is signed out). On Sentinel and on one
 * Redis the writes, the commit and the WAIT share one connection and one round trip; on a
 * cluster the writes lie on other masters than the claim, and the claim's WAIT counted none of
 * them (before: the replica of the master holding the new tokens stopped, the commit succeeded).
 * The replica is stopped with SIGSTOP (it keeps its link and acknowledges nothing): deterministic,
 * no race with a kill.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectRedis, RedisStore } from './redis.js';
import { clusterSlotOf } from './redis-client.js';
import { StoreUnavailableError } from './store.js';
import { startOwnRedisClusterWithReplicas, startOwnRedisSentinel, type OwnRedisClusterWithReplicas, type OwnRedisSentinel } from '../testing/redis-server.js';

/** The shard (0, 1, 2: slot ranges as startOwnRedisClusterWithReplicas assigns them) of a key. */
function shardOf(key: string): number {
  const slot = clusterSlotOf(key);
  return slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2;
}

/** A key with hash tag `{<name><n>}` whose slot lies on `shard`. */
function keyOn(shard: number, name: string): string {
  for (let n = 0; ; n += 1) {
    const key = `{${name}${n}}:${name}`;
    if (shardOf(key) === shard) return key;
  }
}

/** How many WAIT commands the server on `port` has run. */
async function waitsRun(cluster: OwnRedisClusterWithReplicas, port: number): Promise<number> {
  const stats = await cluster.command(port, ['INFO', 'commandstats']);
  return Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('a Redis Cluster: the writes a commit answers with, on other masters, are acknowledged before it', () => {
  let cluster: OwnRedisClusterWithReplicas | undefined;
  let store: RedisStore | undefined;
  const stores: RedisStore[] = [];
  beforeAll(async () => {
    cluster = await startOwnRedisClusterWithReplicas();
    store = new RedisStore(await connectRedis({ kind: 'cluster', nodes: cluster.rootNodes }), { waitReplicas: 1, waitTimeoutMs: 1_500 });
    stores.push(store);
    // Warm: connected to every master, their replica counts read while every replica answers.
    expect(await store.swapAfter([{ op: 'set', key: keyOn(1, 'warm'), value: 'x', ttlSeconds: 60 }], keyOn(0, 'warm'), null, 'x', 60)).toBe(true);
  }, 120_000);
  afterAll(async () => {
    for (const { replica } of cluster?.shards ?? []) cluster!.processOf(replica).kill('SIGCONT');
    for (const each of stores) await each.close().catch(() => {});
    await cluster?.stop();
  });

  /** Runs `work` with shard 1's replica stopped (SIGSTOP: it keeps its link and acknowledges nothing). */
  async function withShard1ReplicaStopped<T>(work: () => Promise<T>): Promise<T> {
    const stopped = cluster!.processOf(cluster!.shards[1]!.replica);
    stopped.kill('SIGSTOP');
    try {
      return await work();
    } finally {
      stopped.kill('SIGCONT');
    }
  }

  it('fails, committing nothing, while the replica of a write\'s master acknowledges nothing; succeeds once it does', async () => {
    // The claim on shard 0, the new tokens on shard 1 (a refresh token and its grant's index, as a refresh writes them).
    const claim = keyOn(0, 'claim');
    const token = keyOn(1, 'token');
    const index = keyOn(1, 'index');
    const outcome = await withShard1ReplicaStopped(() =>
      store!.swapAfter([{ op: 'set', key: token, value: 'new-refresh-token', ttlSeconds: 60 }, { op: 'zAddExpiring', key: index, member: token, expiresAtMs: Date.now() + 60_000 }], claim, null, 'issued', 60).catch((error: unknown) => error));
    expect(outcome).toBeInstanceOf(StoreUnavailableError);
    // The commit did not happen (before: it did, acknowledged or not): the caller releases its
    // claim and the client's retry starts over, never handed tokens no replica holds.
    expect(await store!.get(claim)).toBeNull();
    // The replica answers again: the same commit goes through.
    expect(await store!.swapAfter([{ op: 'set', key: token, value: 'new-refresh-token', ttlSeconds: 60 }], claim, null, 'issued', 60)).toBe(true);
    expect(await store!.get(claim)).toBe('issued');
  }, 60_000);

  it('waits on the master of the key only, and counts that master\'s replicas', async () => {
    // node-redis 6.3 routes a raw command by its policy, not by the key given: WAIT went to every
    // master (the least of their answers came back) and INFO to a random node.
    const results = await withShard1ReplicaStopped(async () => {
      const seen: unknown[] = [];
      // A claim on shard 0 after a write to shard 1 is acknowledged (before: 0 of 1, so a 503 for
      // every claim of the cluster while any one master lacked its replica's acknowledgement) ...
      await store!.set(keyOn(1, 'other'), 'x');
      seen.push(await store!.swap(keyOn(0, 'elsewhere'), null, 'x', 60).catch((error: unknown) => error));
      // ... and a claim on shard 1 is never taken as acknowledged (before: the count of replicas came
      // from a random node, a replica's 0 about one time in two, and then the claim was not waited for).
      for (let n = 0; n < 6; n += 1) seen.push(await store!.swap(keyOn(1, `stopped${n}-`), null, 'x', 60).catch((error: unknown) => error));
      return seen;
    });
    expect(results[0]).toBe(true);
    expect(results.slice(1).map((result) => result instanceof StoreUnavailableError)).toEqual([true, true, true, true, true, true]);
  }, 60_000);

  it('sends no WAIT when waitReplicas is 0 (no round trip added: the bench\'s single Redis)', async () => {
    const own = cluster!;
    const plain = new RedisStore(await connectRedis({ kind: 'cluster', nodes: own.rootNodes }));
    stores.push(plain);
    const before = await Promise.all(own.shards.map(({ master }) => waitsRun(own, master)));
    expect(await plain.swapAfter([{ op: 'set', key: keyOn(1, 'plain'), value: 'x', ttlSeconds: 60 }], keyOn(0, 'plain'), null, 'x', 60)).toBe(true);
    expect(await Promise.all(own.shards.map(({ master }) => waitsRun(own, master)))).toEqual(before);
  }, 60_000);
});

describe('swapAfter on Redis Sentinel: the writes and the commit are acknowledged before it answers', () => {
  let sentinel: OwnRedisSentinel | undefined;
  let store: RedisStore | undefined;
  afterAll(async () => {
    await sentinel?.resumeReplica();
    await store?.close().catch(() => {});
    await sentinel?.stop();
  });

  it('fails while the replica acknowledges nothing, succeeds once it does', async () => {
    sentinel = await startOwnRedisSentinel('sso-commit-ack');
    const own = sentinel;
    store = new RedisStore(await connectRedis({ kind: 'sentinel', sentinels: own.sentinelRootNodes, name: own.name }), { waitReplicas: 1, waitTimeoutMs: 1_500 });
    expect(await store.swapAfter([{ op: 'set', key: 'warm', value: 'x', ttlSeconds: 60 }], 'warm-claim', null, 'x', 60)).toBe(true);
    await own.pauseReplica();
    let outcome: unknown;
    try {
      outcome = await store.swapAfter([{ op: 'set', key: 'token', value: 'new-refresh-token', ttlSeconds: 60 }], 'claim', null, 'issued', 60).catch((error: unknown) => error);
    } finally {
      await own.resumeReplica();
    }
    expect(outcome).toBeInstanceOf(StoreUnavailableError);
    // Once the replica answers again (retried for a while: a resumed replica on a loaded machine
    // may take longer than the store's deadline to acknowledge at first).
    let committed: unknown;
    for (const until = Date.now() + 15_000; committed !== true && Date.now() < until; ) {
      committed = await store.swapAfter([{ op: 'set', key: 'token2', value: 'new-refresh-token', ttlSeconds: 60 }], 'claim2', null, 'issued', 60).catch((error: unknown) => error);
    }
    expect(committed).toBe(true);
  }, 120_000);
});
