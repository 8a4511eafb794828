/**
 * `npm start` on a kept Redis (REDIS_URL) after a restart with another site port: the demo seed is
 * create-only, so the hub keeps the earlier run's registration (redirect URI on the old port).
 * The banner listed the site as usual and every sign-in there ended on the hub's "redirect_uri did
 * not match" page (an operator review); it now says so on the site's line, with what to do.
 */
import { jest } from '@jest/globals';
import { freePort } from '../../hub/src/testing/hub-process.js';
import { startOwnRedis, type OwnRedis } from '../../hub/src/testing/redis-server.js';
import { startDemo } from './start-demo.js';

// Two whole demos (hub and four sites) in this process, one after the other.
jest.setTimeout(120_000);

let redis: OwnRedis;
beforeAll(async () => {
  redis = await startOwnRedis();
});
afterAll(async () => {
  await redis.stop();
});

/** Runs the demo with these settings, returns its banner, stops it. */
async function banner(env: Record<string, string>): Promise<string> {
  const written: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    const stop = await startDemo(env);
    await stop();
  } finally {
    write.mockRestore();
  }
  return written.join('');
}

test('a demo restarted on the same Redis with another BBS_PORT says the bbs registration is the earlier run\'s', async () => {
  const [hub, bbs, wiki, shop, forum, bbsLater] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const env = {
    REDIS_URL: redis.url,
    KEY_PREFIX: 'demo-registrations:',
    HUB_PORT: String(hub),
    BBS_PORT: String(bbs),
    WIKI_PORT: String(wiki),
    SHOP_PORT: String(shop),
    FORUM_PORT: String(forum),
    DEMO_HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
  };
  const first = await banner(env);
  expect(first).toContain(`bbs   http://bbs.sso.localhost:${bbs}/   (trusted)\n`);
  expect(first).not.toContain('earlier run');

  const later = await banner({ ...env, BBS_PORT: String(bbsLater), FORUM_UC_KEY: 'another-forum-uc-key-0123456789abcdefghijklmnop' });
  const bbsLine = later.split('\n').find((line) => line.startsWith('  bbs '))!;
  expect(bbsLine).toContain(`http://bbs.sso.localhost:${bbsLater}/   (trusted)   (registered at the hub by an earlier run with another redirect URI (http://bbs.sso.localhost:${bbs}/sso/callback), post-logout URI, sync URLs, userdelete URL, back-channel logout URI`);
  expect(bbsLine).toContain(`/admin/clients/bbs)`);
  const forumLine = later.split('\n').find((line) => line.startsWith('  forum '))!;
  expect(forumLine).toContain('earlier run with another UC_KEY');
  expect(forumLine).not.toContain('another-forum-uc-key');
  // The sites whose settings did not change are listed as before.
  expect(later).toContain(`wiki  http://wiki.sso.localhost:${wiki}/   (asks consent once)\n`);
});

test('a demo site an admin removed is said to be removed; registrations that fit get no note', async () => {
  const { createDomainServices } = await import('../../hub/src/domain-services.js');
  const { loadConfig } = await import('../../hub/src/config.js');
  const { createLogger } = await import('../../hub/src/logger.js');
  const { MemoryStore } = await import('../../hub/src/store/memory.js');
  const { applySeed } = await import('../../hub/src/seed.js');
  const { loadDemoConfig } = await import('./demo-config.js');
  const { demoSeed } = await import('./demo-seed.js');
  const { demoRegistrationProblems, registrationNote } = await import('./demo-registrations.js');
  const services = createDomainServices(loadConfig({ HUB_ISSUER: 'http://hub.test', LOG_LEVEL: 'silent' }), new MemoryStore(), createLogger('silent'));
  const config = loadDemoConfig({});
  await applySeed(demoSeed(config), services);
  expect(await demoRegistrationProblems(config, services)).toEqual({});
  await services.clients.remove('wiki');
  const problems = await demoRegistrationProblems(config, services);
  expect(problems).toEqual({ wiki: ['removed'] });
  expect(registrationNote(problems.wiki, 'http://hub.test/admin/clients/wiki')).toContain('removed at the hub: the seed does not bring it back');
  expect(registrationNote(problems.bbs, 'http://hub.test/admin/clients/bbs')).toBe('');
});
