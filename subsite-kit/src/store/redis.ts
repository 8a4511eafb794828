import type { KitRedisClient } from '../redis-client.js';
import type { KitStore } from './store.js';

/** Compare-and-delete: the claim goes only if `owner` still holds it. */
const RELEASE_IF_OWNER = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/**
 * {@link KitStore} on a node-redis client: `SET NX EX` for claims; indexes are sorted sets
 * scored by each member's expiry (epoch ms), trimmed on every add, so a set never needs a
 * read of the sessions it lists to stay small.
 */
export class RedisKitStore implements KitStore {
  constructor(private readonly client: KitRedisClient) {}

  async claimOnce(key: string, ttlSeconds: number, owner = '1'): Promise<boolean> {
    const reply = await this.client.set(key, owner, { condition: 'NX', expiration: { type: 'EX', value: ttlSeconds } });
    return reply === 'OK';
  }

  async releaseClaim(key: string, owner: string): Promise<void> {
    await this.client.eval(RELEASE_IF_OWNER, { keys: [key], arguments: [owner] });
  }

  async addToSet(key: string, member: string, ttlSeconds: number): Promise<void> {
    const now = Date.now();
    await this.client
      .multi()
      .zAdd(key, { score: now + ttlSeconds * 1000, value: member })
      .zRemRangeByScore(key, '-inf', now)
      // The set lives as long as its longest-lived member: push the expiry out, never in.
      .expire(key, ttlSeconds, 'GT')
      .expire(key, ttlSeconds, 'NX')
      .exec();
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    await this.client.zRem(key, member);
  }

  async members(key: string): Promise<string[]> {
    const reply = await this.client.zRangeByScore(key, Date.now() + 1, '+inf');
    return Array.isArray(reply) ? reply.map(String) : [];
  }

  async isClaimed(key: string): Promise<boolean> {
    return (await this.client.exists(key)) === 1;
  }

  async delete(key: string): Promise<void> {
    await this.client.del(key);
  }
}
