import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import type { RedisClientType } from 'redis';
import request from 'supertest';
import type { SubsiteKit } from './kit.js';
import { cleanUpTestRedis, connectTestRedis } from './test-support/redis.js';
import { HTML, makeSite } from './test-support/site.js';
import { makeSyncCode, syncPath } from './test-support/sync-codes.js';
import { browserAtHub, CLIENT_ID, HUB_URL, startStubHub, type StubHub } from './test-support/stub-hub.js';

/**
 * A page that changes the session while a forced logout (userdelete, back-channel logout)
 * ends that session must not write it back: express-session saves the copy it loaded at the
 * end of the answer, and a plain SET of it would bring the deleted user's session back for its
 * whole lifetime.
 */
const prefix = `sso-kit-test:${randomUUID()}:`;
let hub: StubHub;
let redis: RedisClientType;

beforeAll(async () => {
  hub = await startStubHub();
  redis = await connectTestRedis();
});

afterAll(async () => {
  await cleanUpTestRedis(redis, prefix);
  await hub.close();
});

/** A site with `/cart`, which changes the session and answers only once `release()` is called. */
async function siteWithSlowPage(withRedis: boolean): Promise<{ app: Express; sso: SubsiteKit; entered: Promise<void>; release: () => void }> {
  const site = await makeSite(hub, withRedis ? { redis, redisPrefix: prefix } : {});
  let enter!: () => void;
  let release!: () => void;
  const entered = new Promise<void>((resolve) => { enter = resolve; });
  const gate = new Promise<void>((resolve) => { release = resolve; });
  site.app.get('/cart', async (req, res) => {
    (req.session as unknown as Record<string, unknown>).cart = ['book'];
    enter();
    await gate;
    res.json({ user: req.user?.sub ?? null });
  });
  return { ...site, entered, release };
}

async function userdeleteToken(sub: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return hub.sign({ iss: HUB_URL, aud: CLIENT_ID, sub, iat: now, exp: now + 60, jti: randomUUID() }, 'userdelete+jwt');
}

describe.each([
  ['Redis (connect-redis)', true],
  ['the in-memory store', false],
])('a session ended while a page that changes it is running, on %s', (_name, withRedis) => {
  it('stays ended: userdelete is not undone by the page saving its copy', async () => {
    const { app, sso, entered, release } = await siteWithSlowPage(withRedis);
    const agent = request.agent(app);
    await agent.get(syncPath('synclogin', await makeSyncCode()));
    await agent.get(await browserAtHub(hub, (await agent.get('/').set(HTML)).headers.location!));
    expect((await agent.get('/forum')).body.user).toMatchObject({ sub: 'user-1' });

    const page = agent.get('/cart').then((response) => response);
    await entered;
    const ended = await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${await userdeleteToken('user-1')}`);
    expect(ended.body).toEqual({ sessions_ended: 1 });
    release();
    expect((await page).status).toBe(200); // the page that was running still answers

    expect((await agent.get('/forum')).body.user).toBeNull();
    expect(await sso.endAllSessionsOf('user-1')).toBe(0);
    if (withRedis) {
      const left: string[] = [];
      for await (const batch of redis.scanIterator({ MATCH: `${prefix}sess:*` })) left.push(...batch);
      expect(left).toEqual([]);
    }
  });

  it('a page that changes a live session still saves it', async () => {
    const { app, entered, release } = await siteWithSlowPage(withRedis);
    app.get('/cart-contents', (req, res) => { res.json({ cart: (req.session as unknown as Record<string, unknown>).cart ?? null }); });
    const agent = request.agent(app);
    await agent.get(syncPath('synclogin', await makeSyncCode()));
    await agent.get(await browserAtHub(hub, (await agent.get('/').set(HTML)).headers.location!));
    const page = agent.get('/cart').then((response) => response);
    await entered;
    release();
    expect((await page).body).toEqual({ user: 'user-1' });
    expect((await agent.get('/cart-contents')).body).toEqual({ cart: ['book'] });
    expect((await agent.get('/forum')).body.user).toMatchObject({ sub: 'user-1' });
  });
});
