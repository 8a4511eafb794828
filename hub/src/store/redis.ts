import { Deadlines, type DeadlineHooks } from './deadlines.js';
import { closeRedis, clusterSlotOf, isCluster, isSentinel, type RedisClient } from './redis-client.js';
import { gaveUp, stallWatchOf, type StallWatch } from './stall-watch.js';
import { triedAgain } from './try-again.js';
import { STORE_DEADLINE_MS, StoreUnavailableError, type ChangeLog, type ClaimBeside, type SetOptions, type Store, type VersionedChange, type VersionedOp, type WriteOp } from './store.js';

/** SSCAN's largest cursor (an unsigned 64-bit number). */
const MAX_CURSOR = 18_446_744_073_709_551_615n;

export { connectRedis, type RedisClient, type RedisTarget } from './redis-client.js';

const COMMAND_TIMEOUT_MS = STORE_DEADLINE_MS; // a command that takes longer fails closed
const REPLICA_COUNT_MAX_AGE_MS = 1_000; // how long a count of the primary's replicas is trusted

/** How a single-use claim is made durable before the hub acts on it (see README, "WAIT and persistence"). */
export interface RedisStoreOptions {
  /** Replicas that must acknowledge each claim (`WAIT n`); 0: do not wait. */
  waitReplicas?: number;
  /** How long to wait for them, in milliseconds; fewer acknowledgements fail closed (503). */
  waitTimeoutMs?: number;
  /**
   * On a cluster: a client of its own for the claims, the writes a commit answers with, and their
   * WAITs and replica counts (openStore opens one when `waitReplicas` > 0). WAIT blocks the
   * connection it is sent on until it returns, so on the connection every other command shares
   * one replica that acknowledges nothing held all of its master's traffic (README, "WAIT and
   * persistence"). Closed with the store.
   */
  durable?: RedisClient;
}

/** Compare-and-set on one key (see Store.swap); ARGV: has-expected, expected, has-next, next, ttl. */
const SWAP_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
if ARGV[3] == '0' then
  redis.call('DEL', KEYS[1])
elseif ARGV[5] ~= '' then
  redis.call('SET', KEYS[1], ARGV[4], 'EX', ARGV[5])
else
  redis.call('SET', KEYS[1], ARGV[4])
end
return 1`;

/**
 * Follows an index (see Store.getIndexed): KEYS the index keys, tried in order; ARGV the
 * record key's prefix and suffix around the first value found. Answers the record, or nil.
 * Reads only; the record's key is not among KEYS (it is the index's value), which one Redis
 * allows and a cluster would not: the cluster path does not use it.
 */
const GET_INDEXED_SCRIPT = `
for i = 1, #KEYS do
  local value = redis.call('GET', KEYS[i])
  if value then return redis.call('GET', ARGV[1] .. value .. ARGV[2]) end
end
return false`;

/**
 * Adds a member scored by its expiry (ARGV[1], epoch ms, '+inf' for none), drops members
 * expired by ARGV[2] (now), and keeps the key until its last member expires: one command, so
 * it can go in a pipeline and stays atomic there.
 */
const ZADD_EXPIRING_SCRIPT = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if ARGV[1] == '+inf' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIREAT', KEYS[1], ARGV[1], 'GT')
  redis.call('PEXPIREAT', KEYS[1], ARGV[1], 'NX')
end
return redis.call('ZCARD', KEYS[1])`;

/**
 * A single-use claim beside its record (see Store.claimBeside): KEYS[1] the claim, KEYS[2]
 * the record; ARGV: claim value, fallback TTL. Answers { record or false, 1 when claimed }.
 */
const CLAIM_BESIDE_SCRIPT = `
local record = redis.call('GET', KEYS[2])
if not record then return { false, 0 } end
if redis.call('EXISTS', KEYS[1]) == 1 then return { record, 0 } end
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return { record, 1 }`;

/**
 * A versioned change (see Store.versionedWrite): KEYS[1] the version counter, KEYS[2] the
 * changelog, KEYS[2 + i] the key of write i, then the epoch's key when there is one; ARGV[1]
 * the log entry, ARGV[2] keep, ARGV[3] trim every, ARGV[4] the epoch to create when absent ('':
 * none), then per write its kind and its value or member. Answers the new version and the epoch.
 */
const VERSIONED_WRITE_SCRIPT = `
local writes = (#ARGV - 4) / 2
for i = 1, writes do
  local kind, value, key = ARGV[3 + 2 * i], ARGV[4 + 2 * i], KEYS[2 + i]
  if kind == 'set' then redis.call('SET', key, value)
  elseif kind == 'del' then redis.call('DEL', key)
  elseif kind == 'setAdd' then redis.call('SADD', key, value)
  elseif kind == 'setRemove' then redis.call('SREM', key, value)
  else return redis.error_reply('unknown write ' .. tostring(kind)) end
end
local epoch = false
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[3 + writes], ARGV[4], 'NX')
  epoch = redis.call('GET', KEYS[3 + writes])
end
local version = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], version, string.format('%d', version) .. ':' .. ARGV[1])
if version % tonumber(ARGV[3]) == 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], 0, version - tonumber(ARGV[2]))
end
return { version, epoch }`;

/**
 * A write that an ended session cannot undo (see Store.takeMarking): KEYS[1] the key, KEYS[2]
 * its marker; ARGV: value, mark, ttl ('' for none). Answers 1 when written.
 */
const SET_UNLESS_MARKED_SCRIPT = `
if redis.call('GET', KEYS[2]) == ARGV[2] then return 0 end
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1`;

/** Store.takeMarking: KEYS[1] the key, KEYS[2] its marker; ARGV: mark, marker TTL. Answers the value taken. */
const TAKE_MARKING_SCRIPT = `
local value = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
if value then redis.call('DEL', KEYS[1]) end
return value`;

function setUnlessMarkedArguments(op: { value: string; mark: string; ttlSeconds?: number }): string[] {
  return [op.value, op.mark, ttlArgument(op.ttlSeconds)];
}

function versionedOpValue(op: VersionedOp): string {
  return op.op === 'set' ? op.value : op.op === 'del' ? '' : op.member;
}

function ttlArgument(ttlSeconds: number | undefined): string {
  return ttlSeconds !== undefined ? String(Math.max(1, Math.ceil(ttlSeconds))) : '';
}

function swapArguments(expected: string | null, next: string | null, ttlSeconds: number | undefined): string[] {
  return [expected === null ? '0' : '1', expected ?? '', next === null ? '0' : '1', next ?? '', ttlArgument(ttlSeconds)];
}

function zAddExpiringArguments(member: string, expiresAtMs: number): string[] {
  return [Number.isFinite(expiresAtMs) ? String(Math.ceil(expiresAtMs)) : '+inf', String(Date.now()), member];
}

/** One shared sweep bounds every command (see Deadlines): no timer or Promise.race per command. */
const deadlines = new Deadlines(COMMAND_TIMEOUT_MS);

const timedOut = () => new Error('redis command timed out');
/** A programming error (a TypeError) stays what it is; anything else means the store is unavailable. */
const unavailable = (error: unknown): unknown => (error instanceof TypeError ? error : new StoreUnavailableError(error));

/** A Store method that sends commands: what the store's metrics label a command with. */
/** The key whose slot's master answers `TIME` on a cluster: one server's clock for every process. */
const CLOCK_ROUTING_KEY = 'sso-hub:clock';

export type StoreCommand = Exclude<keyof Store, 'kind' | 'close'>;

/**
 * Told of every store call as it ends (metrics/instrument-store.ts): its Store method, how long
 * it took in milliseconds, and whether it failed (an error, its deadline, given up at once;
 * for `ping`, answering false).
 */
export type StoreObserver = (command: string, ms: number, failed: boolean) => void;

/**
 * The production store, on one Redis (`REDIS_URL`), a Redis Cluster or a Sentinel-managed
 * primary. Every atomic step touches one key, or two keys of one hash slot (claimBeside:
 * keys.ts tags them alike), so each works on a cluster; the calls that take several
 * independent keys (getMany, del, write) are sent key by key there.
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly #waitReplicas: number;
  /** Where claims and their WAITs go (options.durable, else the client). */
  readonly #durable: RedisClient;
  readonly #waitTimeoutMs: number;
  /** What the deadlines learnt of a stall, shared with the other users of this client (stall-watch.ts). */
  readonly stalls: StallWatch;
  /**
   * Replicas connected to the primary, counted at most once a second: one count for one Redis or
   * Sentinel, one per master on a cluster (keyed by its address: a master whose replica was
   * promoted after a crash has none, the others still have theirs).
   */
  readonly #replicas = new Map<string, { count: number; at: number }>();
  /**
   * What the deadline does for this store's commands (one object, no closures per command): a
   * timed-out command marks its request for the stall watch, every failure is mapped, a late
   * reply is reported, and each command is timed for the observers in the same promise.
   */
  readonly #hooks: DeadlineHooks<unknown>;
  /** The same, without the timing (ping times itself). */
  readonly #untimed: DeadlineHooks<unknown>;
  readonly #observers: StoreObserver[] = [];

  constructor(readonly client: RedisClient, options: RedisStoreOptions = {}) {
    this.#waitReplicas = options.waitReplicas ?? 0;
    this.#waitTimeoutMs = options.waitTimeoutMs ?? 500;
    this.#durable = options.durable ?? client;
    const stalls = (this.stalls = stallWatchOf(client));
    this.#hooks = {
      timeout(scope) {
        stalls.timedOut(scope);
        return timedOut();
      },
      mapError: unavailable,
      answeredLate: stalls.answeredLate,
    };
    this.#untimed = { ...this.#hooks };
  }

  /**
   * Whether `store` is a RedisStore itself, not a wrapper around one (a test's Proxy: a private
   * field's brand check is false through a Proxy), whose own calls are the ones to time.
   */
  static isOwn(store: object): store is RedisStore {
    return #hooks in store;
  }

  /**
   * Tells `observer` of every call of this store as it ends (the store's metrics), timed inside
   * the call's own deadline: no wrapper and no second promise per command.
   */
  observeCommands(observer: StoreObserver): void {
    const observers = this.#observers;
    observers.push(observer);
    this.#hooks.settled = observers.length === 1 ? observer : (command, ms, failed) => {
      for (const each of observers) each(command, ms, failed);
    };
  }

  /**
   * A command under the deadline. A request that already had a command time out on a Redis that
   * has not answered since gets StoreUnavailableError at once instead of waiting again
   * (stall-watch.ts): its 503 comes after one deadline, not one per command.
   */
  #run<T>(command: StoreCommand, work: () => Promise<T>, hooks: DeadlineHooks<unknown> = this.#hooks): Promise<T> {
    const stalls = this.stalls;
    const scope = stalls.scope();
    if (stalls.givesUp(scope)) {
      hooks.settled?.(command, 0, true);
      return Promise.reject(new StoreUnavailableError(gaveUp()));
    }
    return deadlines.run(work, hooks, command, scope);
  }

  /** A call answered without a command (nothing to do): told to the observers all the same, as every call is. */
  #answered<T>(command: StoreCommand, value: T): Promise<T> {
    this.#hooks.settled?.(command, 0, false);
    return Promise.resolve(value);
  }

  get(key: string): Promise<string | null> {
    return this.#run('get', () => this.client.get(key));
  }

  getMany(keys: string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return this.#answered('getMany', []);
    const client = this.client;
    // On a cluster, one GET per key, pipelined by node-redis into one round trip per node (a
    // MULTI or an MGET over several keys is refused there when they lie in different slots).
    if (isCluster(client)) return this.#run('getMany', () => Promise.all(keys.map((key) => client.get(key))));
    // One MGET: one command for Redis to parse and answer, where a MULTI of GETs was n + 2.
    return this.#run('getMany', () => client.mGet(keys));
  }

  getIndexed(indexKeys: string[], record: { prefix: string; suffix: string }): Promise<string | null> {
    if (indexKeys.length === 0) return this.#answered('getIndexed', null);
    const client = this.client;
    if (isCluster(client)) {
      // The index keys and the record lie in different slots: no script over them. One GET after another, as before.
      return this.#run('getIndexed', async () => {
        for (const key of indexKeys) {
          const value = await client.get(key);
          if (value !== null) return client.get(record.prefix + value + record.suffix);
        }
        return null;
      });
    }
    // One round trip where it was two or three, one after another (a sign-in's user lookup).
    return this.#run('getIndexed', async () => {
      const reply = await client.eval(GET_INDEXED_SCRIPT, { keys: indexKeys, arguments: [record.prefix, record.suffix] });
      return typeof reply === 'string' ? reply : null;
    });
  }

  set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    return this.#set('set', key, value, options);
  }

  /** {@link set}, timed as `command` (write's single SET is timed as the write it is). */
  #set(command: StoreCommand, key: string, value: string, options: SetOptions): Promise<boolean> {
    return this.#run(command, async () => {
      const reply = await this.client.set(key, value, {
        ...(options.ttlSeconds !== undefined ? { expiration: { type: 'EX', value: Math.max(1, Math.ceil(options.ttlSeconds)) } } : {}),
        ...(options.onlyIfAbsent ? { condition: 'NX' } : {}),
      });
      return reply === 'OK';
    });
  }

  del(...keys: string[]): Promise<number> {
    if (keys.length === 0) return this.#answered('del', 0);
    const client = this.client;
    if (isCluster(client)) return this.#run('del', async () => (await Promise.all(keys.map((key) => client.del(key)))).reduce((sum, n) => sum + n, 0));
    return this.#run('del', () => client.del(keys));
  }

  swap(key: string, expected: string | null, next: string | null, ttlSeconds?: number): Promise<boolean> {
    return this.#swap('swap', key, expected, next, ttlSeconds);
  }

  /** {@link swap}, timed as `command` (swapAfter with no writes is timed as the swapAfter it is). */
  #swap(command: StoreCommand, key: string, expected: string | null, next: string | null, ttlSeconds: number | undefined): Promise<boolean> {
    return this.#run(command, async () => {
      const swapped = await this.#durably(key, (client) => client.eval(SWAP_SCRIPT, { keys: [key], arguments: swapArguments(expected, next, ttlSeconds) }), (reply) => reply === 1);
      return swapped === 1;
    });
  }

  write(ops: WriteOp[]): Promise<void> {
    if (ops.length === 0) return this.#answered('write', undefined);
    if (ops.length === 1 && ops[0]!.op === 'set') {
      const { key, value, ttlSeconds } = ops[0]!;
      return this.#set('write', key, value, ttlSeconds !== undefined ? { ttlSeconds } : {}).then(() => undefined);
    }
    if (isCluster(this.client)) {
      // A pipeline goes to one node: on a cluster each write goes on its own (node-redis still
      // sends those of one node together).
      return this.#run('write', async () => {
        await Promise.all(ops.map((op) => this.#writeOne(op)));
      });
    }
    return this.#run('write', async () => {
      const pipeline = this.client.multi();
      RedisStore.#queue(pipeline, ops);
      await pipeline.execAsPipeline();
    });
  }

  swapAfter(ops: WriteOp[], key: string, expected: string | null, next: string | null, ttlSeconds?: number): Promise<boolean> {
    if (ops.length === 0) return this.#swap('swapAfter', key, expected, next, ttlSeconds);
    const client = this.client;
    if (isCluster(client)) {
      return this.#run('swapAfter', async () => {
        await Promise.all(ops.map((op) => this.#writeOne(op, this.#durable)));
        // The writes lie on other masters than the swap's: its WAIT counts only its own master's
        // writes. Each other master's replicas acknowledge the writes sent to it before the swap
        // commits what answers with them (a commit acknowledged without its tokens would hand a
        // retry, after a failover, tokens no server holds).
        await this.#acknowledged(ops.map((op) => op.key), key);
        return (await this.#durably(key, (c) => c.eval(SWAP_SCRIPT, { keys: [key], arguments: swapArguments(expected, next, ttlSeconds) }), (reply) => reply === 1)) === 1;
      });
    }
    return this.#run('swapAfter', async () => {
      const swapped = await this.#durably(key, async () => {
        const pipeline = client.multi();
        RedisStore.#queue(pipeline, ops);
        pipeline.eval(SWAP_SCRIPT, { keys: [key], arguments: swapArguments(expected, next, ttlSeconds) });
        try {
          const replies = (await pipeline.execAsPipeline()) as unknown[];
          return replies[replies.length - 1];
        } catch (error) {
          // A pipeline does not stop at a failed command: a write refused (WRONGTYPE, say) left the
          // compare-and-set to run after it, and node-redis throws the first error without the
          // other replies. "A write that fails fails the commit": a commit that may have landed
          // is set back (a compare-and-set from `next`, which only this call wrote), so the
          // caller's release finds its claim and a retry starts over, never given an answer whose
          // tokens were not stored.
          if (next !== null) await client.eval(SWAP_SCRIPT, { keys: [key], arguments: swapArguments(next, expected, ttlSeconds) }).catch(() => undefined);
          throw error;
        }
      }, (reply) => reply === 1);
      return swapped === 1;
    });
  }

  /** Queues {@link write}'s ops on a pipeline. */
  static #queue(pipeline: ReturnType<RedisClient['multi']>, ops: WriteOp[]): void {
    for (const op of ops) {
      switch (op.op) {
        case 'set':
          pipeline.set(op.key, op.value, op.ttlSeconds !== undefined ? { expiration: { type: 'EX', value: Math.max(1, Math.ceil(op.ttlSeconds)) } } : {});
          break;
        case 'del':
          pipeline.del(op.key);
          break;
        case 'swap':
          pipeline.eval(SWAP_SCRIPT, { keys: [op.key], arguments: swapArguments(op.expected, op.next, op.ttlSeconds) });
          break;
        case 'zAddExpiring':
          pipeline.eval(ZADD_EXPIRING_SCRIPT, { keys: [op.key], arguments: zAddExpiringArguments(op.member, op.expiresAtMs) });
          break;
        case 'zRemove':
          pipeline.zRem(op.key, op.member);
          break;
        case 'expire':
          pipeline.expire(op.key, Math.max(1, Math.ceil(op.ttlSeconds)));
          break;
        case 'setUnlessMarked':
          pipeline.eval(SET_UNLESS_MARKED_SCRIPT, { keys: [op.key, op.marker], arguments: setUnlessMarkedArguments(op) });
          break;
      }
    }
  }

  /** One write of {@link write} on its own (a cluster's keys of one batch lie in many slots). */
  async #writeOne(op: WriteOp, client: RedisClient = this.client): Promise<void> {
    switch (op.op) {
      case 'set':
        await client.set(op.key, op.value, op.ttlSeconds !== undefined ? { expiration: { type: 'EX', value: Math.max(1, Math.ceil(op.ttlSeconds)) } } : {});
        break;
      case 'del':
        await client.del(op.key);
        break;
      case 'swap':
        await client.eval(SWAP_SCRIPT, { keys: [op.key], arguments: swapArguments(op.expected, op.next, op.ttlSeconds) });
        break;
      case 'zAddExpiring':
        await client.eval(ZADD_EXPIRING_SCRIPT, { keys: [op.key], arguments: zAddExpiringArguments(op.member, op.expiresAtMs) });
        break;
      case 'zRemove':
        await client.zRem(op.key, op.member);
        break;
      case 'expire':
        await client.expire(op.key, Math.max(1, Math.ceil(op.ttlSeconds)));
        break;
      case 'setUnlessMarked':
        await triedAgain(() => client.eval(SET_UNLESS_MARKED_SCRIPT, { keys: [op.key, op.marker], arguments: setUnlessMarkedArguments(op) }));
        break;
    }
  }

  versionedWrite(ops: VersionedOp[], log: ChangeLog): Promise<VersionedChange> {
    const client = this.client;
    const epoch = log.epoch;
    if (isCluster(client)) {
      // Keys of several slots: no script over them. The writes, the epoch, then the version and its entry.
      return this.#run('versionedWrite', async () => {
        await Promise.all(ops.map((op) => {
          switch (op.op) {
            case 'set': return client.set(op.key, op.value);
            case 'del': return client.del(op.key);
            case 'setAdd': return client.sAdd(op.key, op.member);
            case 'setRemove': return client.sRem(op.key, op.member);
          }
        }));
        if (epoch) await client.set(epoch.key, epoch.value, { condition: 'NX' });
        const inForce = epoch ? await client.get(epoch.key) : null;
        const version = await client.incr(log.versionKey);
        await client.zAdd(log.logKey, { score: version, value: `${version}:${log.entry}` });
        if (version % log.trimEvery === 0) await client.zRemRangeByScore(log.logKey, 0, version - log.keep);
        return { version, epoch: inForce };
      });
    }
    return this.#run('versionedWrite', async () => {
      const args = [log.entry, String(log.keep), String(log.trimEvery), epoch?.value ?? ''];
      for (const op of ops) args.push(op.op, versionedOpValue(op));
      const keys = [log.versionKey, log.logKey, ...ops.map((op) => op.key), ...(epoch ? [epoch.key] : [])];
      const [version, inForce] = (await client.eval(VERSIONED_WRITE_SCRIPT, { keys, arguments: args })) as [number, string | null];
      return { version: Number(version), epoch: inForce ?? null };
    });
  }

  claimBeside(key: string, value: string, recordKey: string, fallbackTtlSeconds: number): Promise<ClaimBeside> {
    return this.#run('claimBeside', async () => {
      const [record, claimed] = (await this.#durably(
        key,
        (client) => triedAgain(() => client.eval(CLAIM_BESIDE_SCRIPT, { keys: [key, recordKey], arguments: [value, String(Math.max(1, Math.ceil(fallbackTtlSeconds)))] })),
        (reply) => (reply as [unknown, number])[1] === 1,
      )) as [string | null, number];
      return { record: record ?? null, claimed: claimed === 1 };
    });
  }

  /**
   * A single-use claim that must survive a failover: the write, then WAIT right behind it on
   * the same connection (one round trip). WAIT counts the replicas holding every write of its
   * connection so far, so a replica promoted after a crash of the primary holds this one. It
   * waits for as many replicas as are connected now, up to `waitReplicas`: with none connected
   * (the replica itself was promoted and the old primary is gone) no replica can be promoted
   * without the write, and the hub keeps serving. Fewer acknowledgements than that: the write
   * may be lost in a failover, so it fails closed (503, safe to retry). A cluster sends both to
   * the master of the key's slot (the WAIT on that master's own client, once the write is
   * answered); Sentinel keeps one connection to the primary (`masterPoolSize: 1`) that every
   * command shares in order, so the WAIT also counts every write sent before on it (swapAfter's
   * tokens, in the same pipeline).
   */
  async #durably<T>(key: string, write: (client: Pick<RedisClient, 'eval'>) => Promise<T>, wrote: (reply: T) => boolean): Promise<T> {
    const wanted = this.#waitReplicas === 0 ? 0 : Math.min(this.#waitReplicas, await this.#connectedReplicas(key));
    if (wanted === 0) return write(this.client);
    const client = this.#durable;
    const args = ['WAIT', String(wanted), String(this.#waitTimeoutMs)];
    // On a cluster the write goes through the cluster client (which follows a MOVED) and the WAIT
    // to its master's own client once the write is answered: sent side by side, the WAIT could
    // reach the socket first. On Sentinel and one Redis both share the one connection in order.
    const [reply, acknowledged] = isCluster(client)
      ? await write(client).then(async (written) => [written, await this.#onPrimaryOf(key, args)] as const)
      : await Promise.all([write(client), this.#onPrimaryOf(key, args)]);
    // A write that changed nothing has nothing for a replica to lose.
    if (wrote(reply) && Number(acknowledged) < wanted) {
      this.#replicas.delete(this.#primaryOf(key)); // count them again next time
      throw new Error(`${String(acknowledged)} of ${wanted} replicas acknowledged the claim within ${this.#waitTimeoutMs} ms`);
    }
    return reply;
  }

  /**
   * On a cluster: WAIT on each master holding one of `keys` (but the master of `except`, whose
   * own WAIT follows), for the writes already sent to it on the store's one connection to it,
   * all at once. Fewer acknowledgements than its connected replicas (up to `waitReplicas`) on any
   * of them fails, as in {@link #durably}. Nothing is sent when `waitReplicas` is 0.
   */
  async #acknowledged(keys: string[], except: string): Promise<void> {
    if (this.#waitReplicas === 0) return;
    if (!isCluster(this.#durable)) return;
    const skip = this.#primaryOf(except);
    const byMaster = new Map<string, string>();
    for (const key of keys) {
      const master = this.#primaryOf(key);
      if (master !== skip && !byMaster.has(master)) byMaster.set(master, key);
    }
    await Promise.all([...byMaster.values()].map(async (key) => {
      const wanted = Math.min(this.#waitReplicas, await this.#connectedReplicas(key));
      if (wanted === 0) return;
      const acknowledged = await this.#onPrimaryOf(key, ['WAIT', String(wanted), String(this.#waitTimeoutMs)]);
      if (Number(acknowledged) < wanted) {
        this.#replicas.delete(this.#primaryOf(key)); // count them again next time
        throw new Error(`${String(acknowledged)} of ${wanted} replicas acknowledged the writes within ${this.#waitTimeoutMs} ms`);
      }
    }));
  }

  /** Replicas connected to the primary (of the key's slot), from INFO replication, counted at most once a second. */
  async #connectedReplicas(key: string): Promise<number> {
    const primary = this.#primaryOf(key);
    const known = this.#replicas.get(primary);
    if (known && Date.now() - known.at < REPLICA_COUNT_MAX_AGE_MS) return known.count;
    const info = String(await this.#onPrimaryOf(key, ['INFO', 'replication']));
    const count = Number(/connected_slaves:(\d+)/.exec(info)?.[1] ?? 0);
    this.#replicas.set(primary, { count, at: Date.now() });
    return count;
  }

  /**
   * A command for the primary holding `key` (WAIT, INFO), on the connection the key's writes
   * went through. On a cluster, the client of the master of the key's slot itself: node-redis 6.3
   * routes a raw `sendCommand` by the command's policy, not by the key given, so WAIT went to
   * every master (the least of their acknowledgements came back: one master with a replica
   * stopped, or with none after a failover, failed every claim), and INFO to a random node (a
   * replica's count, 0, let a claim go unwaited about one time in two).
   */
  async #onPrimaryOf(key: string, args: string[]): Promise<unknown> {
    const client = this.#durable;
    if (isCluster(client)) return (await client.getNodeClientForKey(key, false)).sendCommand(args);
    return isSentinel(client) ? client.sendCommand(false, args) : client.sendCommand(args);
  }

  /** Which primary a key's claim goes to: on a cluster the master of its slot (as node-redis knows it), else the one primary. */
  #primaryOf(key: string): string {
    const client = this.#durable;
    if (!isCluster(client)) return '';
    const master = (client.slots[clusterSlotOf(key)] as { master?: { address?: string } } | undefined)?.master;
    return master?.address ?? '';
  }

  take(key: string): Promise<string | null> {
    return this.#run('take', () => this.client.getDel(key));
  }

  takeMarking(key: string, marker: string, mark: string, markTtlSeconds: number): Promise<string | null> {
    return this.#run('takeMarking', async () => {
      const value = await triedAgain(() => this.client.eval(TAKE_MARKING_SCRIPT, { keys: [key, marker], arguments: [mark, String(Math.max(1, Math.ceil(markTtlSeconds)))] }));
      return typeof value === 'string' ? value : null;
    });
  }

  ttl(key: string): Promise<number> {
    return this.#run('ttl', () => this.client.ttl(key));
  }

  setAdd(key: string, member: string, ttlSeconds?: number): Promise<void> {
    return this.#run('setAdd', async () => {
      const multi = this.client.multi().sAdd(key, member);
      if (ttlSeconds !== undefined) {
        // GT keeps a later expiry; a set with no expiry yet gets one through NX.
        multi.expire(key, Math.ceil(ttlSeconds), 'GT').expire(key, Math.ceil(ttlSeconds), 'NX');
      }
      await multi.exec();
    });
  }

  setRemove(key: string, member: string): Promise<void> {
    return this.#run('setRemove', async () => {
      await this.client.sRem(key, member);
    });
  }

  setMembers(key: string): Promise<string[]> {
    return this.#run('setMembers', () => this.client.sMembers(key));
  }

  setCard(key: string): Promise<number> {
    return this.#run('setCard', () => this.client.sCard(key));
  }

  setScan(key: string, cursor: string, count: number): Promise<{ cursor: string; members: string[] }> {
    // A cursor Redis never gave (one typed into a console URL) reads from the start: SSCAN would refuse it.
    const from = /^\d{1,20}$/.test(cursor) && BigInt(cursor) <= MAX_CURSOR ? cursor : '0';
    return this.#run('setScan', async () => {
      const reply = await this.client.sScan(key, from, { COUNT: count });
      return { cursor: String(reply.cursor), members: reply.members.map(String) };
    });
  }

  zAdd(key: string, score: number, member: string): Promise<void> {
    return this.#run('zAdd', async () => {
      await this.client.zAdd(key, { score, value: member });
    });
  }

  zAddMany(key: string, items: { score: number; member: string }[]): Promise<void> {
    if (items.length === 0) return this.#answered('zAddMany', undefined);
    return this.#run('zAddMany', async () => {
      await this.client.zAdd(key, items.map(({ score, member }) => ({ score, value: member })));
    });
  }

  zAddExpiring(key: string, member: string, expiresAtMs: number): Promise<number> {
    return this.#run('zAddExpiring', async () => Number(await this.client.eval(ZADD_EXPIRING_SCRIPT, { keys: [key], arguments: zAddExpiringArguments(member, expiresAtMs) })));
  }

  zRemove(key: string, member: string): Promise<number> {
    return this.#run('zRemove', () => this.client.zRem(key, member));
  }

  zRangeByScore(key: string, min: number, max: number, limit?: number): Promise<string[]> {
    return this.#run('zRangeByScore', () =>
      this.client.zRange(key, min, max, {
        BY: 'SCORE',
        ...(limit !== undefined ? { LIMIT: { offset: 0, count: limit } } : {}),
      }),
    );
  }

  zRevRange(key: string, start: number, stop: number): Promise<string[]> {
    return this.#run('zRevRange', () => this.client.zRange(key, start, stop, { REV: true }));
  }

  zRevRangeByScore(key: string, max: number, min: number, limit: number): Promise<string[]> {
    return this.#run('zRevRangeByScore', () => this.client.zRange(key, max, min, { BY: 'SCORE', REV: true, LIMIT: { offset: 0, count: limit } }));
  }

  zCard(key: string): Promise<number> {
    return this.#run('zCard', () => this.client.zCard(key));
  }

  zRemoveByScore(key: string, min: number, max: number): Promise<number> {
    return this.#run('zRemoveByScore', () => this.client.zRemRangeByScore(key, min, max));
  }

  zRemoveByRank(key: string, start: number, stop: number): Promise<number> {
    return this.#run('zRemoveByRank', () => this.client.zRemRangeByRank(key, start, stop));
  }

  incr(key: string, ttlSeconds?: number, by = 1): Promise<number> {
    return this.#run('incr', async () => {
      const multi = by === 1 ? this.client.multi().incr(key) : this.client.multi().incrBy(key, by);
      if (ttlSeconds !== undefined) multi.expire(key, Math.ceil(ttlSeconds), 'NX');
      const [count] = (await multi.exec()) as unknown as [number];
      return count;
    });
  }

  async ping(): Promise<boolean> {
    // Timed here, not by the deadline: a ping fails by answering false, whatever the reason.
    const started = performance.now();
    let ok: boolean;
    try {
      ok = (await this.#run('ping', () => this.client.ping(), this.#untimed)) === 'PONG';
    } catch {
      ok = false;
    }
    this.#hooks.settled?.('ping', performance.now() - started, !ok);
    return ok;
  }

  /**
   * `TIME`. On a cluster it goes to the master of one fixed slot, so every process reads the
   * same server's clock; with Sentinel, to the primary.
   */
  time(): Promise<number> {
    return this.#run('time', async () => {
      const client = this.client;
      const args = ['TIME'];
      const reply = (isCluster(client) ? await client.sendCommand(CLOCK_ROUTING_KEY, false, args) : isSentinel(client) ? await client.sendCommand(false, args) : await client.sendCommand(args)) as unknown as [string, string];
      return Number(reply[0]) * 1000 + Math.floor(Number(reply[1]) / 1000);
    });
  }

  async close(): Promise<void> {
    await Promise.all([closeRedis(this.client), ...(this.#durable === this.client ? [] : [closeRedis(this.#durable)])]);
  }
}
