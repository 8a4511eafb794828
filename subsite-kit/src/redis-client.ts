import type { RedisClientType, RedisClusterType, RedisSentinelType } from 'redis';

/**
 * A node-redis (v5/v6) client with its default type parameters: one server (`createClient()`),
 * a Redis Cluster (`createCluster()`) or a Sentinel-managed primary (`createSentinel()`). For
 * typing a variable; the kit's `redis` option takes any node-redis client ({@link KitRedisClient}).
 * (Not `ReturnType<typeof createClient>`: that widens every type parameter, and the client a
 * site creates is then not assignable to it.)
 */
export type RedisClient = RedisClientType | RedisClusterType | RedisSentinelType;

/** The `MULTI` the kit queues (one round trip, atomic): each call returns the same transaction. */
export interface KitRedisMulti {
  zAdd(key: string, member: { score: number; value: string }): KitRedisMulti;
  zRemRangeByScore(key: string, min: number | string, max: number | string): KitRedisMulti;
  expire(key: string, seconds: number, mode: 'NX' | 'XX' | 'GT' | 'LT'): KitRedisMulti;
  exec(): Promise<unknown>;
}

/**
 * What the kit's `redis` option accepts: the commands the kit (and connect-redis, which it
 * gives the client to) calls, nothing of node-redis's type parameters. So a client of either
 * node-redis 5 or 6, with any RESP version (`createClient({ RESP: 3 })`), modules, functions,
 * scripts or type mapping, one server, a cluster or Sentinel, is accepted as it is; the type
 * `RedisClientType` alone names only RESP 2 without modules (TS2322 "'RespVersions' is not
 * assignable to type '2'" for node-redis 5's clients). Replies the kit reads are checked where
 * it reads them.
 */
export interface KitRedisClient {
  /** `false` until `await redis.connect()`; stays `true` while node-redis reconnects. */
  readonly isOpen: boolean;
  get(key: string): Promise<unknown>;
  set(key: string, value: string, options: { condition?: 'NX' | 'XX'; expiration: { type: 'EX'; value: number } }): Promise<unknown>;
  del(key: string): Promise<unknown>;
  exists(key: string): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  multi(): KitRedisMulti;
  zRem(key: string, member: string): Promise<unknown>;
  zRangeByScore(key: string, min: number | string, max: number | string): Promise<unknown>;
}
