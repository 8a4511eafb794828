import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { Registry } from 'prom-client';
import request from 'supertest';
import { createSubsiteKit } from './kit.js';
import { kitOptions, HTML } from './test-support/site.js';
import { makeSyncCode, syncPath } from './test-support/sync-codes.js';
import { browserAtHub, startStubHub, type StubHub } from './test-support/stub-hub.js';
import { stallableProxy } from './test-support/stallable-proxy.js';
import { cleanUpTestRedis, connectTestRedis } from './test-support/redis.js';

const TOKEN = 'kit-metrics-token-0123456789abcdefghij';

let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });
beforeEach(() => {
  hub.user = { sub: 'user-1', name: 'Ada Lovelace', preferred_username: 'ada', email: 'ada@example.test' };
});

/** A site with the opt-in routes mounted as the README shows. */
async function site(extra: Parameters<typeof kitOptions>[1] = {}, health: Parameters<Awaited<ReturnType<typeof createSubsiteKit>>['healthRoutes']>[0] = {}) {
  const sso = await createSubsiteKit({ ...kitOptions(hub, extra), metrics: true });
  const app = express();
  app.use(sso.healthRoutes(health));
  app.get('/metrics', sso.metricsHandler({ token: TOKEN }));
  app.use(sso.router);
  app.use(sso.lazyLogin);
  app.get('/forum', (req, res) => { res.json({ user: req.user ?? null }); });
  app.use(sso.errorHandler);
  return { app, sso };
}

/** The value of one sample line of the kit's metrics, 0 when absent. */
async function sample(app: express.Express, name: string, labels: Record<string, string>): Promise<number> {
  const res = await request(app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
  expect(res.status).toBe(200);
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = res.text.split('\n').find((entry) => entry.startsWith(`${name}{`) && wanted.every((label) => entry.includes(label)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('opt-in /healthz and /readyz', () => {
  it('/healthz: 200 while the process answers; /readyz: 200 when the store answers', async () => {
    const { app } = await site();
    const live = await request(app).get('/healthz');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
    expect(live.headers['cache-control']).toBe('no-store');
    expect(live.headers['set-cookie']).toBeUndefined();
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ ready: true, reasons: [] });
  });

  it('checkHub: ready while the hub\'s discovery answers, 503 "hub unreachable" when it does not', async () => {
    expect((await request((await site({}, { checkHub: true })).app).get('/readyz')).body).toEqual({ ready: true, reasons: [] });
    const { app } = await site({ hubInternalUrl: 'http://127.0.0.1:9' }, { checkHub: true, timeoutMs: 1_000 });
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ ready: false, reasons: ['hub unreachable'] });
    // Without checkHub the hub does not count: the site's own pages still work.
    expect((await request((await site({ hubInternalUrl: 'http://127.0.0.1:9' })).app).get('/readyz')).status).toBe(200);
  });

  it('a stalled Redis: /readyz 503 "store unreachable" within the deadline, /healthz still 200, and the timeout is counted', async () => {
    const proxy = await stallableProxy();
    const redis = await connectTestRedis(proxy.url);
    const prefix = `test:kit-health:${randomUUID()}:`;
    try {
      const { app } = await site({ redis, redisPrefix: prefix, storeTimeoutMs: 300 }, { timeoutMs: 1_000 });
      expect((await request(app).get('/readyz')).status).toBe(200);
      proxy.stall();
      const started = Date.now();
      const res = await request(app).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ ready: false, reasons: ['store unreachable'] });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await request(app).get('/healthz')).status).toBe(200);
      expect(await sample(app, 'sso_kit_store_errors_total', { operation: 'index read', kind: 'timeout' })).toBeGreaterThanOrEqual(1);
    } finally {
      redis.destroy();
      await proxy.close();
      await cleanUpTestRedis(await connectTestRedis(), prefix);
    }
  }, 20_000);

  it('bad options are a TypeError at once', async () => {
    const sso = await createSubsiteKit(kitOptions(hub));
    expect(() => sso.healthRoutes({ checkHub: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => sso.healthRoutes({ timeoutMs: 0 })).toThrow(TypeError);
  });

  it('a misspelled option is a TypeError naming the one it meant, not dropped without a word', async () => {
    // Before, `healthRoutes({ checkhub: true })` from JavaScript answered ready with the hub down
    // (checkHub stayed off), and `timeoutMS` kept the 2 s default: a new-developer review.
    const sso = await createSubsiteKit(kitOptions(hub));
    const misspelled = (options: object) => () => sso.healthRoutes(options as Parameters<typeof sso.healthRoutes>[0]);
    expect(misspelled({ checkhub: true })).toThrow('subsite-kit: healthRoutes option "checkhub" is unknown: did you mean "checkHub"?');
    expect(misspelled({ timeoutMS: 500 })).toThrow('subsite-kit: healthRoutes option "timeoutMS" is unknown: did you mean "timeoutMs"?');
    expect(misspelled({ checkHub: true, timeoutMs: 500 })).not.toThrow();
  });
});

describe('opt-in /metrics (prom-client)', () => {
  it('needs the Bearer token: 404 without it or with a wrong one, Prometheus text with it', async () => {
    const { app } = await site();
    expect((await request(app).get('/metrics')).status).toBe(404);
    expect((await request(app).get('/metrics').set('Authorization', `Bearer ${TOKEN}x`)).status).toBe(404);
    const res = await request(app).get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('# TYPE sso_kit_lazy_verifications_total counter');
  });

  it('counts sync beacons by act and outcome', async () => {
    const { app } = await site();
    await request(app).get(syncPath('synclogin', await makeSyncCode()));
    await request(app).get(syncPath('synclogin', await makeSyncCode({ aud: 'wiki' })));
    await request(app).get(syncPath('synclogout', await makeSyncCode({ act: 'logout' })));
    expect(await sample(app, 'sso_kit_sync_requests_total', { act: 'login', outcome: 'accepted' })).toBe(1);
    expect(await sample(app, 'sso_kit_sync_requests_total', { act: 'login', outcome: 'rejected' })).toBe(1);
    expect(await sample(app, 'sso_kit_sync_requests_total', { act: 'logout', outcome: 'accepted' })).toBe(1);
  });

  it('counts lazy verifications by outcome: signed_in, login_required', async () => {
    const { app } = await site();
    for (const signedIn of [true, false]) {
      hub.user = signedIn ? { sub: 'user-1', name: 'Ada', preferred_username: 'ada', email: 'ada@example.test' } : undefined;
      const agent = request.agent(app);
      await agent.get(syncPath('synclogin', await makeSyncCode()));
      const lazy = await agent.get('/forum').set(HTML);
      expect(lazy.status).toBe(302);
      const done = await agent.get(await browserAtHub(hub, lazy.headers.location!));
      expect(done.status).toBe(302);
    }
    expect(await sample(app, 'sso_kit_lazy_verifications_total', { outcome: 'signed_in' })).toBe(1);
    expect(await sample(app, 'sso_kit_lazy_verifications_total', { outcome: 'login_required' })).toBe(1);
  });

  it('counts userdelete and back-channel notices by outcome', async () => {
    const { app } = await site();
    const now = Math.floor(Date.now() / 1000);
    const userdelete = await hub.sign({ iss: 'http://hub.test', aud: 'bbs', sub: 'user-1', iat: now, exp: now + 60, jti: randomUUID(), events: { 'urn:sso-hub:event:userdelete': {} } }, 'userdelete+jwt');
    const accepted = await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${userdelete}`);
    expect(accepted.status).toBe(200);
    expect((await request(app).post('/sso/userdelete').set('Authorization', 'Bearer not-a-token')).status).toBe(401);
    expect((await request(app).post('/sso/backchannel-logout').type('form').send({ logout_token: 'not-a-token' })).status).toBeGreaterThanOrEqual(400);
    expect(await sample(app, 'sso_kit_hub_notices_total', { kind: 'userdelete', outcome: 'accepted' })).toBe(1);
    expect(await sample(app, 'sso_kit_hub_notices_total', { kind: 'userdelete', outcome: 'rejected' })).toBe(1);
    expect(await sample(app, 'sso_kit_hub_notices_total', { kind: 'backchannel_logout', outcome: 'rejected' })).toBe(1);
  });

  it('registers in the site\'s own registry when given one (one /metrics for the site and the kit)', async () => {
    const registry = new Registry();
    const sso = await createSubsiteKit({ ...kitOptions(hub), metrics: { registry, prefix: 'bbs_sso_' } });
    expect(sso.metricsRegistry).toBe(registry);
    expect(await registry.metrics()).toContain('# TYPE bbs_sso_sync_requests_total counter');
  });

  it('is off by default: no registry, and metricsHandler says how to turn it on; a short token is refused', async () => {
    const plain = await createSubsiteKit(kitOptions(hub));
    expect(plain.metricsRegistry).toBeUndefined();
    expect(() => plain.metricsHandler({ token: TOKEN })).toThrow(/metrics option/);
    const { sso } = await site();
    expect(() => sso.metricsHandler({ token: 'short' })).toThrow(TypeError);
    expect(() => sso.metricsHandler({ open: true })).not.toThrow();
  });

  it('a misspelled metricsHandler option is a TypeError naming the one it meant', async () => {
    const { sso } = await site();
    const handler = (options: object) => () => sso.metricsHandler(options as Parameters<typeof sso.metricsHandler>[0]);
    expect(handler({ token: TOKEN, opne: true })).toThrow('subsite-kit: metricsHandler option "opne" is unknown: did you mean "open"?');
    expect(handler({ Token: TOKEN })).toThrow('subsite-kit: metricsHandler option "Token" is unknown: did you mean "token"?');
  });
});
