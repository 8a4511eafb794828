import { createClient } from 'redis';
import { Deadlines } from './deadlines.js';
import { StoreUnavailableError, type ClaimBeside, type SetOptions, type Store, type WriteOp } from './store.js';


const CONNECT_TIMEOUT_MS = 2_000; // give up connecting after two seconds
const COMMAND_TIMEOUT_MS = 2_000; // a command that takes longer fails closed

function makeClient(url: string, connected: () => boolean = () => true) {
  return createClient({
    url,
    disableOfflineQueue: true,
    // node-redis 6 gives every command its own 5 s AbortSignal.timeout by default; inside
    // oidc-provider's AsyncLocalStorage each such timer keeps its whole request alive for 5 s.
    // guard() below already bounds every command, so the per-command timer is off (0 disables it).
    commandOptions: { timeout: 0 },
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Before the first connection succeeds, give up at once (`false` stops the retries and
      // rejects `connect()` with the cause): a hub started against an unreachable Redis fails
      // fast instead of hanging. After that, keep reconnecting in the background.
      reconnectStrategy: (retries: number) => (connected() ? Math.min(retries * 100, 2_000) : false),
    },
  });
}

export type RedisClient = ReturnType<typeof makeClient>;

/** Opens a node-redis client that fails fast instead of queueing while Redis is down. */
export async function connectRedis(url: string): Promise<RedisClient> {
  let connected = false;
  const client = makeClient(url, () => connected);
  // Errors are reported through the failed commands; an unhandled 'error' event would crash.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    client.destroy();
    throw new StoreUnavailableError(error);
  }
  connected = true;
  return client;
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
return 1`;

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

function guard<T>(work: () => Promise<T>): Promise<T> {
  return deadlines.run(work, () => new Error('redis command timed out')).catch((error: unknown) => {
    if (error instanceof TypeError) throw error;
    throw new StoreUnavailableError(error);
  });
}

/** The production store: one Redis (or a Redis-compatible server) at `REDIS_URL`. */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  constructor(readonly client: RedisClient) {}

  get(key: string): Promise<string | null> {
    return guard(() => this.client.get(key));
  }

  getMany(keys: string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return guard(async () => {
      const multi = this.client.multi();
      for (const key of keys) multi.get(key);
      return (await multi.exec()) as unknown as (string | null)[];
    });
  }

  set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    return guard(async () => {
      const reply = await this.client.set(key, value, {
        ...(options.ttlSeconds !== undefined ? { expiration: { type: 'EX', value: Math.max(1, Math.ceil(options.ttlSeconds)) } } : {}),
        ...(options.onlyIfAbsent ? { condition: 'NX' } : {}),
      });
      return reply === 'OK';
    });
  }

  del(...keys: string[]): Promise<number> {
    if (keys.length === 0) return Promise.resolve(0);
    return guard(() => this.client.del(keys));
  }

  swap(key: string, expected: string | null, next: string | null, ttlSeconds?: number): Promise<boolean> {
    return guard(async () => (await this.client.eval(SWAP_SCRIPT, { keys: [key], arguments: swapArguments(expected, next, ttlSeconds) })) === 1);
  }

  write(ops: WriteOp[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve();
    if (ops.length === 1 && ops[0]!.op === 'set') {
      const { key, value, ttlSeconds } = ops[0]!;
      return this.set(key, value, ttlSeconds !== undefined ? { ttlSeconds } : {}).then(() => undefined);
    }
    return guard(async () => {
      const pipeline = this.client.multi();
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
        }
      }
      await pipeline.execAsPipeline();
    });
  }

  claimBeside(key: string, value: string, recordKey: string, fallbackTtlSeconds: number): Promise<ClaimBeside> {
    return guard(async () => {
      const [record, claimed] = (await this.client.eval(CLAIM_BESIDE_SCRIPT, {
        keys: [key, recordKey],
        arguments: [value, String(Math.max(1, Math.ceil(fallbackTtlSeconds)))],
      })) as [string | null, number];
      return { record: record ?? null, claimed: claimed === 1 };
    });
  }

  take(key: string): Promise<string | null> {
    return guard(() => this.client.getDel(key));
  }

  ttl(key: string): Promise<number> {
    return guard(() => this.client.ttl(key));
  }

  setAdd(key: string, member: string, ttlSeconds?: number): Promise<void> {
    return guard(async () => {
      const multi = this.client.multi().sAdd(key, member);
      if (ttlSeconds !== undefined) {
        // GT keeps a later expiry; a set with no expiry yet gets one through NX.
        multi.expire(key, Math.ceil(ttlSeconds), 'GT').expire(key, Math.ceil(ttlSeconds), 'NX');
      }
      await multi.exec();
    });
  }

  setRemove(key: string, member: string): Promise<void> {
    return guard(async () => {
      await this.client.sRem(key, member);
    });
  }

  setMembers(key: string): Promise<string[]> {
    return guard(() => this.client.sMembers(key));
  }

  zAdd(key: string, score: number, member: string): Promise<void> {
    return guard(async () => {
      await this.client.zAdd(key, { score, value: member });
    });
  }

  zAddMany(key: string, items: { score: number; member: string }[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return guard(async () => {
      await this.client.zAdd(key, items.map(({ score, member }) => ({ score, value: member })));
    });
  }

  zAddExpiring(key: string, member: string, expiresAtMs: number): Promise<void> {
    return guard(async () => {
      await this.client.eval(ZADD_EXPIRING_SCRIPT, { keys: [key], arguments: zAddExpiringArguments(member, expiresAtMs) });
    });
  }

  zRemove(key: string, member: string): Promise<number> {
    return guard(() => this.client.zRem(key, member));
  }

  zRangeByScore(key: string, min: number, max: number, limit?: number): Promise<string[]> {
    return guard(() =>
      this.client.zRange(key, min, max, {
        BY: 'SCORE',
        ...(limit !== undefined ? { LIMIT: { offset: 0, count: limit } } : {}),
      }),
    );
  }

  zRevRange(key: string, start: number, stop: number): Promise<string[]> {
    return guard(() => this.client.zRange(key, start, stop, { REV: true }));
  }

  zCard(key: string): Promise<number> {
    return guard(() => this.client.zCard(key));
  }

  zRemoveByScore(key: string, min: number, max: number): Promise<number> {
    return guard(() => this.client.zRemRangeByScore(key, min, max));
  }

  zRemoveByRank(key: string, start: number, stop: number): Promise<number> {
    return guard(() => this.client.zRemRangeByRank(key, start, stop));
  }

  incr(key: string, ttlSeconds?: number): Promise<number> {
    return guard(async () => {
      const multi = this.client.multi().incr(key);
      if (ttlSeconds !== undefined) multi.expire(key, Math.ceil(ttlSeconds), 'NX');
      const [count] = (await multi.exec()) as unknown as [number];
      return count;
    });
  }

  async ping(): Promise<boolean> {
    try {
      return (await guard(() => this.client.ping())) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.quit();
  }
}
