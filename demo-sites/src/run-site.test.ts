/**
 * A demo port that is taken stops start-up with one line naming the port and the variable to
 * change (not an unhandled 'error' event), and `npm start` leaves nothing listening behind it.
 */
import { jest } from '@jest/globals';
import { createServer, type Server } from 'node:net';
import { freePort, portRefuses as refused } from '../../hub/src/testing/hub-process.js';
import { runForum } from './forum/run-forum.js';
import { runSite } from './run-site.js';
import { startDemo } from './start-demo.js';

// startDemo builds a whole hub (embedded store) in this process.
jest.setTimeout(60_000);

async function occupy(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}


describe('a demo port in use', () => {
  let taken: { port: number; server: Server };
  beforeEach(async () => {
    taken = await occupy();
  });
  afterEach(async () => {
    await new Promise((resolve) => taken.server.close(resolve));
  });

  test('a demo site names its port and BBS_PORT', async () => {
    await expect(runSite('bbs', { BBS_PORT: String(taken.port), DEMO_HOST: '127.0.0.1' })).rejects.toThrow(
      `bbs: port ${taken.port} (BBS_PORT) is already in use: stop what listens there or set BBS_PORT`,
    );
  });

  test('the forum names its port and FORUM_PORT', async () => {
    await expect(runForum({ FORUM_PORT: String(taken.port), DEMO_HOST: '127.0.0.1' })).rejects.toThrow(
      `forum: port ${taken.port} (FORUM_PORT) is already in use: stop what listens there or set FORUM_PORT`,
    );
  });

  test('npm start with SHOP_PORT taken: rejects naming SHOP_PORT; the hub and the sites already started are closed', async () => {
    const [hub, bbs, wiki, forum] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const env = {
      HUB_PORT: String(hub),
      BBS_PORT: String(bbs),
      WIKI_PORT: String(wiki),
      SHOP_PORT: String(taken.port),
      FORUM_PORT: String(forum),
      DEMO_HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    };
    await expect(startDemo(env)).rejects.toThrow(`shop: port ${taken.port} (SHOP_PORT) is already in use: stop what listens there or set SHOP_PORT`);
    for (const port of [hub, bbs, wiki, forum]) expect({ port, refused: await refused(port) }).toEqual({ port, refused: true });
  });
});
