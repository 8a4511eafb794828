import { createServer } from 'node:http';
import { listen } from '../../hub/src/http/listen.js';
import { connectRedis } from '../../hub/src/store/redis-client.js';
import type { RedisClient } from '@sso-hub/subsite-kit';
import { loadDemoConfig, type SiteName } from './demo-config.js';
import { createDemoSite } from './site.js';

/** Starts one demo site from the environment; returns a function that stops it. */
export async function runSite(name: SiteName, env: Record<string, string | undefined> = process.env): Promise<() => Promise<void>> {
  const config = loadDemoConfig(env);
  const site = config.sites[name];
  let redis: RedisClient | undefined;
  // The hub's own client factory: one server, a cluster or Sentinel, failing fast when down.
  if (config.redis) redis = await connectRedis(config.redis);
  const app = await createDemoSite(site, config, redis);
  const server = createServer(app);
  try {
    await listen(server, { service: name, port: site.port, host: config.host, portVariable: `${name.toUpperCase()}_PORT`, hostVariable: 'DEMO_HOST' });
  } catch (error) {
    if (redis?.isOpen) await redis.close();
    throw error;
  }
  process.stdout.write(`${site.title} on ${site.origin}\n`);
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (redis?.isOpen) await redis.close();
  };
}
