import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { cleanUpTestRedis, connectTestRedis } from './test-support/redis.js';
import type { RedisClientType } from 'redis';
import { makeSite, HTML } from './test-support/site.js';
import { makeSyncCode, syncPath } from './test-support/sync-codes.js';
import { browserAtHub, startStubHub, HUB_URL, CLIENT_ID, type StubHub } from './test-support/stub-hub.js';

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

describe('with Redis: connect-redis sessions and the Redis session index', () => {
  it('sign-in stores the session under the prefix with a TTL; userdelete destroys it', async () => {
    const { app } = await makeSite(hub, { redis, redisPrefix: prefix });
    const agent = request.agent(app);
    await agent.get(syncPath('synclogin', await makeSyncCode()));
    await agent.get(await browserAtHub(hub, (await agent.get('/').set(HTML)).headers.location!));
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });

    const sessions: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}sess:*` })) sessions.push(...batch);
    expect(sessions).toHaveLength(1);
    expect(await redis.ttl(sessions[0]!)).toBeGreaterThan(0);

    const now = Math.floor(Date.now() / 1000);
    const token = await hub.sign({ iss: HUB_URL, aud: CLIENT_ID, sub: 'user-1', iat: now, exp: now + 60, jti: randomUUID() }, 'userdelete+jwt');
    expect((await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${token}`)).body).toEqual({ sessions_ended: 1 });
    expect(await redis.exists(sessions[0]!)).toBe(0);
    expect((await agent.get('/')).body.user).toBeNull();
  });

  it('a page view does not extend the stored session; every write stores what is left of its absolute lifetime', async () => {
    const { app, sso } = await makeSite(hub, { redis, redisPrefix: `${prefix}life:` });
    const agent = request.agent(app);
    await agent.get(syncPath('synclogin', await makeSyncCode()));
    await agent.get(await browserAtHub(hub, (await agent.get('/').set(HTML)).headers.location!));
    const sessions: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `${prefix}life:sess:*` })) sessions.push(...batch);
    expect(sessions).toHaveLength(1);
    const key = sessions[0]!;
    // Signed in just now: stored for the whole lifetime (a day by default).
    expect(await redis.ttl(key)).toBeGreaterThan(86_400 - 30);
    // Page views read it and leave its TTL alone (express-session's touch would set it back to a day).
    await redis.expire(key, 500);
    for (let i = 0; i < 3; i += 1) expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
    expect(await redis.ttl(key)).toBeLessThanOrEqual(500);

    // Written later (a token refresh saves it): stored for what is left, not a day again.
    const now = Math.floor(Date.now() / 1000);
    const data = (sid: string, loggedInAt: number) => new Promise<void>((resolve, reject) => sso.sessionStore.set(sid, {
      cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' },
      sso: { user: { sub: 'user-2', claims: {} }, idToken: 'x', loggedInAt },
    } as never, (error: unknown) => (error ? reject(error) : resolve())));
    await data('hour-old', now - 3_600);
    const ttl = await redis.ttl(`${prefix}life:sess:hour-old`);
    expect(ttl).toBeGreaterThan(86_400 - 3_600 - 30);
    expect(ttl).toBeLessThanOrEqual(86_400 - 3_600);
    // Past its lifetime: not stored at all.
    await data('day-old', now - 86_401);
    expect(await redis.exists(`${prefix}life:sess:day-old`)).toBe(0);
  });

  it('a sync code is single-use across kit instances sharing Redis', async () => {
    const one = await makeSite(hub, { redis, redisPrefix: prefix });
    const two = await makeSite(hub, { redis, redisPrefix: prefix });
    const path = syncPath('synclogin', await makeSyncCode());
    expect((await request(one.app).get(path)).status).toBe(200);
    expect((await request(two.app).get(path)).status).toBe(400);
  });
});
