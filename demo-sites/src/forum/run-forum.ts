import { createServer } from 'node:http';
import { listen } from '../../../hub/src/http/listen.js';
import { loadDemoConfig } from '../demo-config.js';
import { createForumSite } from './forum-site.js';

/** Starts the UCenter-bound forum; returns a function that stops it. */
export async function runForum(env: Record<string, string | undefined> = process.env): Promise<() => Promise<void>> {
  const config = loadDemoConfig(env);
  const server = createServer(createForumSite(config));
  await listen(server, { service: 'forum', port: config.forum.port, host: config.host, portVariable: 'FORUM_PORT', hostVariable: 'DEMO_HOST' });
  process.stdout.write(`${config.forum.title} on ${config.forum.origin}\n`);
  return async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
