import { createServer } from 'node:http';
import { createClient } from 'redis';
import type { RedisClient } from '@sso-hub/subsite-kit';
import { loadDemoConfig, type SiteName } from './demo-config.js';
import { createDemoSite } from './site.js';

/** Starts one demo site from the environment; returns a function that stops it. */
export async function runSite(name: SiteName, env: Record<string, string | undefined> = process.env): Promise<() => Promise<void>> {
  const config = loadDemoConfig(env);
  const site = config.sites[name];
  let redis: RedisClient | undefined;
  if (config.redisUrl) {
    redis = createClient({ url: config.redisUrl }) as RedisClient;
    redis.on('error', () => {});
    await redis.connect();
  }
  const app = await createDemoSite(site, config, redis);
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(site.port, config.host, resolve));
  process.stdout.write(`${site.title} on ${site.origin}\n`);
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (redis?.isOpen) await redis.quit();
  };
}
