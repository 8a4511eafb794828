import type { RedisClient } from '../options.js';
import type { KitStore } from './store.js';

/** {@link KitStore} on a node-redis client: `SET NX EX` for claims, sets with `EXPIRE` for indexes. */
export class RedisKitStore implements KitStore {
  constructor(private readonly client: RedisClient) {}

  async claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    const reply = await this.client.set(key, '1', { condition: 'NX', expiration: { type: 'EX', value: ttlSeconds } });
    return reply === 'OK';
  }

  async addToSet(key: string, member: string, ttlSeconds: number): Promise<void> {
    await this.client.multi().sAdd(key, member).expire(key, ttlSeconds).exec();
  }

  async removeFromSet(key: string, member: string): Promise<void> {
    await this.client.sRem(key, member);
  }

  async members(key: string): Promise<string[]> {
    return this.client.sMembers(key);
  }

  async delete(key: string): Promise<void> {
    await this.client.del(key);
  }
}
