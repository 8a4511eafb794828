/**
 * A claim's WAIT on a Redis Cluster holds only the claims, not the rest of the store's traffic
 * (README, "WAIT and persistence"). WAIT blocks the connection it is sent on until it returns:
 * Redis runs a client's next command only then. The hub sent it on node-redis's one connection
 * to the master, which every other command for that master shares, so while a replica was
 * stopped each claim's WAIT (REDIS_WAIT_TIMEOUT_MS, one after the other) held every read and
 * write of that master's keys, the readiness check too: under load the failover review saw the
 * whole hub stall (client_credentials, userinfo and sign-ins 3–6 s, then 503s, /readyz "store:
 * no answer in time") for the 10 s a replica of one master of three was stopped. The claims
 * and their WAITs now go through a cluster connection of their own.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openStore, type Store } from './index.js';
import { clusterSlotOf } from './redis-client.js';
import { StoreUnavailableError } from './store.js';
import { startOwnRedisClusterWithReplicas, type OwnRedisClusterWithReplicas } from '../testing/redis-server.js';

/** A key with hash tag `{<name><n>}` whose slot lies on shard 1 (slots 5461-10922). */
function keyOnShard1(name: string): string {
  for (let n = 0; ; n += 1) {
    const key = `{${name}${n}}:${name}`;
    const slot = clusterSlotOf(key);
    if (slot > 5460 && slot <= 10922) return key;
  }
}

describe('a Redis Cluster with a replica that acknowledges nothing', () => {
  let cluster: OwnRedisClusterWithReplicas | undefined;
  let store: Store | undefined;
  beforeAll(async () => {
    cluster = await startOwnRedisClusterWithReplicas();
    store = await openStore({ redis: { kind: 'cluster', nodes: cluster.rootNodes }, redisWaitReplicas: 1, REDIS_WAIT_TIMEOUT_MS: 500 });
    // Warm: the replica counts read while every replica answers.
    expect(await store.swap(keyOnShard1('warm'), null, 'x', 60)).toBe(true);
    await store.set(keyOnShard1('plain'), 'value', { ttlSeconds: 60 });
  }, 120_000);
  afterAll(async () => {
    for (const { replica } of cluster?.shards ?? []) cluster!.processOf(replica).kill('SIGCONT');
    await store?.close().catch(() => {});
    await cluster?.stop();
  });

  it('fails the claims on its master, and the other commands for that master answer at once', async () => {
    const stopped = cluster!.processOf(cluster!.shards[1]!.replica);
    stopped.kill('SIGSTOP');
    try {
      // Four claims at once on shard 1: each WAIT runs out its 500 ms.
      const claims = [0, 1, 2, 3].map((i) => store!.swap(keyOnShard1(`claim-${i}`), null, 'claimed', 60).catch((error: unknown) => error));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = performance.now();
      const read = await store!.get(keyOnShard1('plain')).catch((error: unknown) => error);
      const readMs = performance.now() - started;
      // Before: the read waited behind the WAITs on the shared connection (about 2 s: the store's
      // deadline, StoreUnavailableError).
      expect(read).toBe('value');
      expect(readMs).toBeLessThan(300);
      for (const outcome of await Promise.all(claims)) expect(outcome).toBeInstanceOf(StoreUnavailableError);
    } finally {
      stopped.kill('SIGCONT');
    }
    // The replica answers again: claims go through.
    await cluster!.waitForReplicated(cluster!.shards[1]!.master);
    expect(await store!.swap(keyOnShard1('after'), null, 'claimed', 60)).toBe(true);
  }, 60_000);
});
