/**
 * A Redis Cluster moving a hash slot from one master to another (`redis-cli --cluster reshard`,
 * `rebalance`, a master added) while the hub serves. A command over two keys of the slot is
 * refused with `TRYAGAIN` while the slot is moving and its keys are not all on one side: every
 * code's or refresh token's single-use claim (the record is there, its claim not yet), every
 * session's end (`takeMarking`) and ended-session mark (`setUnlessMarked`). node-redis follows
 * `MOVED` and `ASK` but throws `TRYAGAIN`, so before, each of those answered 503 for as long as
 * its slot moved. The store now sends them again after a short pause (try-again.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient } from 'redis';
import { openStore, type Store } from './index.js';
import { Keys } from './keys.js';
import { clusterSlotOf } from './redis-client.js';
import { StoreUnavailableError } from './store.js';
import { startOwnRedisCluster, type OwnRedisCluster } from '../testing/redis-server.js';

/** What the test asks of its own connection to each master. */
interface Admin {
  sendCommand(args: string[]): Promise<unknown>;
  quit(): Promise<unknown>;
}

describe('a Redis Cluster moving a slot to another master', () => {
  const keys = new Keys('sso:');
  let cluster: OwnRedisCluster | undefined;
  let store: Store | undefined;
  let admins: Admin[] = [];
  let ids: string[] = [];
  beforeAll(async () => {
    cluster = await startOwnRedisCluster();
    store = await openStore({ redis: { kind: 'cluster', nodes: cluster.rootNodes } });
    admins = await Promise.all(cluster.rootNodes.map(async ({ host, port }) => {
      const client = createClient({ socket: { host, port } });
      await client.connect();
      return client;
    }));
    ids = await Promise.all(admins.map(async (admin) => String(await admin.sendCommand(['CLUSTER', 'MYID']))));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(admins.map((admin) => admin.quit().catch(() => {})));
    await store?.close().catch(() => {});
    await cluster?.stop();
  });

  /** The master serving `slot` now (its index). */
  async function ownerOf(slot: number): Promise<number> {
    const shards = (await admins[0]!.sendCommand(['CLUSTER', 'SLOTS'])) as [number, number, [string, number, string]][];
    const id = shards.find(([from, to]) => from <= slot && slot <= to)![2][2];
    return ids.indexOf(id);
  }

  /**
   * Starts moving `slot` as redis-cli does (IMPORTING on the target, MIGRATING on the source),
   * moves the keys listed in `movedFirst` at once, and returns how to finish: the slot's other
   * keys moved, then the slot given to the target on every master.
   */
  async function startMoving(slot: number, movedFirst: string[]): Promise<() => Promise<void>> {
    const from = await ownerOf(slot);
    const to = (from + 1) % admins.length;
    const target = cluster!.rootNodes[to]!;
    await admins[to]!.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', ids[from]!]);
    await admins[from]!.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', ids[to]!]);
    const migrate = async (key: string) => admins[from]!.sendCommand(['MIGRATE', target.host, String(target.port), key, '0', '5000']);
    for (const key of movedFirst) await migrate(key);
    return async () => {
      const rest = (await admins[from]!.sendCommand(['CLUSTER', 'GETKEYSINSLOT', String(slot), '1000'])) as string[];
      for (const key of rest) await migrate(key);
      await admins[to]!.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'NODE', ids[to]!]);
      await admins[from]!.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'NODE', ids[to]!]);
      await admins[(to + 1) % admins.length]!.sendCommand(['CLUSTER', 'SETSLOT', String(slot), 'NODE', ids[to]!]);
    };
  }

  /** `TRYAGAIN` answers so far, every master together (INFO errorstats). */
  async function tryAgainsAnswered(): Promise<number> {
    const stats = await Promise.all(admins.map(async (admin) => String(await admin.sendCommand(['INFO', 'errorstats']))));
    return stats.reduce((sum, text) => sum + Number(/errorstat_TRYAGAIN:count=(\d+)/.exec(text)?.[1] ?? 0), 0);
  }

  /**
   * `finish` run once the cluster has refused `refusals` more commands with `TRYAGAIN` (the store
   * call ran while the slot moved; on a loaded machine a fixed delay may end the move before the
   * call reaches Redis).
   */
  async function finishAfterRefusals(finish: () => Promise<void>, refusals: number): Promise<void> {
    const before = await tryAgainsAnswered();
    const deadline = Date.now() + 10_000;
    while ((await tryAgainsAnswered()) < before + refusals) {
      if (Date.now() > deadline) throw new Error('the store call was never refused with TRYAGAIN');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await finish();
  }

  it("a refresh token's claim (still on the old master) and a code's claim (moved already) go through once the slot has moved", async () => {
    const refresh = keys.oidc('RefreshToken', 'slot-move-refresh');
    const code = keys.oidc('AuthorizationCode', 'slot-move-code');
    await store!.set(refresh, '{"refresh":1}', { ttlSeconds: 60 });
    await store!.set(code, '{"code":1}', { ttlSeconds: 60 });
    const finishRefresh = await startMoving(clusterSlotOf(refresh), []);
    const finishCode = await startMoving(clusterSlotOf(code), [code]);
    // Once both claims were refused, one slot after the other, as redis-cli moves them.
    const finishing = finishAfterRefusals(async () => {
      await finishRefresh();
      await finishCode();
    }, 2);
    const claims = Promise.all([
      store!.claimBeside(keys.oidcConsumed('RefreshToken', 'slot-move-refresh'), 'pending', refresh, 60),
      store!.claimBeside(keys.oidcConsumed('AuthorizationCode', 'slot-move-code'), 'pending', code, 60),
    ]);
    claims.catch(() => undefined); // awaited below, once the slots have moved
    await finishing;
    const [refreshClaim, codeClaim] = await claims;
    expect(refreshClaim).toEqual({ record: '{"refresh":1}', claimed: true });
    expect(codeClaim).toEqual({ record: '{"code":1}', claimed: true });
  }, 30_000);

  it("a session's end and an ended session's mark go through once the slot has moved", async () => {
    const session = keys.oidc('Session', 'slot-move-session');
    const ended = keys.oidc('Session', 'slot-move-ended');
    await store!.set(session, '{"session":1}', { ttlSeconds: 60 });
    const finishSession = await startMoving(clusterSlotOf(session), []);
    const finishEnded = await startMoving(clusterSlotOf(ended), []);
    const finishing = finishAfterRefusals(async () => {
      await finishSession();
      await finishEnded();
    }, 2);
    const ends = Promise.all([
      store!.takeMarking(session, keys.oidcEnded(session), session, 60),
      store!.write([{ op: 'setUnlessMarked', key: ended, value: '{"ended":1}', ttlSeconds: 60, marker: keys.oidcEnded(ended), mark: ended }]),
    ]);
    ends.catch(() => undefined); // awaited below, once the slots have moved
    await finishing;
    const [taken] = await ends;
    expect(taken).toBe('{"session":1}');
    expect(await store!.get(keys.oidcEnded(session))).toBe(session);
    expect(await store!.get(ended)).toBe('{"ended":1}');
  }, 30_000);

  it('a slot left half-moved (a reshard that stopped): the claim fails as unavailable within the deadline, never hangs', async () => {
    const record = keys.oidc('RefreshToken', 'slot-stuck');
    await store!.set(record, '{"stuck":1}', { ttlSeconds: 60 });
    const finish = await startMoving(clusterSlotOf(record), []);
    try {
      const started = Date.now();
      await expect(store!.claimBeside(keys.oidcConsumed('RefreshToken', 'slot-stuck'), 'pending', record, 60)).rejects.toBeInstanceOf(StoreUnavailableError);
      // The store's deadline is 2 s; the rest is room for a loaded machine.
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      await finish();
    }
    expect(await store!.claimBeside(keys.oidcConsumed('RefreshToken', 'slot-stuck'), 'pending', record, 60)).toEqual({ record: '{"stuck":1}', claimed: true });
  }, 30_000);
});
