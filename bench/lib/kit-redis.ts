import { createClient } from 'redis';
import type { RedisClient } from '@sso-hub/subsite-kit';

/**
 * A bench subsite's Redis client, as the kit's README recommends: no per-command 5 s timer, a
 * socket idle timeout instead; connected, its errors left to the commands that meet them.
 */
export async function kitRedisClient(url: string): Promise<RedisClient> {
  const redis = createClient({
    url,
    disableOfflineQueue: true,
    commandOptions: { timeout: 0 },
    socket: { socketTimeout: 5_000, reconnectStrategy: (retries) => Math.min(retries * 100, 2_000) },
    pingInterval: 1_000,
  }) as RedisClient;
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}
