/**
 * "Nothing is lost": a token issued just before Redis refuses writes is in the audit log once
 * Redis takes writes again. The token endpoint's entry lingers for company and is written after
 * the answer went out. The test's own redis-server is put at its memory limit (`maxmemory 1`,
 * `noeviction`: every write refused with an OOM error, as a production Redis at its limit does)
 * as that write is sent. The batch used to be dropped with a log line; it is now kept and
 * written again. Real Redis, the hub's own logger captured.
 */
import { captureLogger } from '../src/testing/capture-logger.js';
import { connectRedis, RedisStore, type RedisClient } from '../src/store/redis.js';
import type { Store } from '../src/store/store.js';
import { startOwnRedis, type OwnRedis } from '../src/testing/redis-server.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { basic, postForm } from './support.js';

/** The store, putting the server at its memory limit as the next audit write (a batch to a log) is sent, once armed. */
function refusingAuditWrites(store: RedisStore, admin: RedisClient): { store: Store; arm(): void; refused: () => boolean } {
  let armed = false;
  let refused = false;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || property === 'constructor') return value;
      return (...args: unknown[]) => {
        if (armed && property === 'zAddMany' && String(args[0]).includes(':audit')) {
          armed = false;
          return admin.configSet('maxmemory', '1').then(() => {
            refused = true;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          });
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, arm: () => (armed = true), refused: () => refused };
}

async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('audit log and a Redis that refuses writes (own redis-server)', () => {
  let redis: OwnRedis;
  let store: RedisStore;
  let admin: RedisClient;
  let hub: RunningHub;

  beforeAll(async () => {
    redis = await startOwnRedis();
    store = new RedisStore(await connectRedis(redis.url));
    admin = await connectRedis(redis.url);
    await admin.configSet('maxmemory-policy', 'noeviction');
  });
  afterAll(async () => {
    await admin.configSet('maxmemory', '0');
    await hub?.close();
    store.client.destroy();
    admin.destroy();
    await redis.stop();
  });

  test('a token issued as Redis starts refusing writes is in the audit log once Redis takes them again, once', async () => {
    const refusing = refusingAuditWrites(store, admin);
    const log = captureLogger();
    hub = await startTestHub('redis', {}, refusing.store, log.logger);
    const client = await hub.services.clients.register({ clientId: 'svc', grantTypes: ['client_credentials'] });
    refusing.arm();
    const answer = await postForm(`${hub.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', client.clientSecret!) });
    expect(answer.status).toBe(200);
    // The batch's write was refused (the log says so, whatever it calls it).
    await until(async () => refusing.refused() && log.lines.some((line) => line.message.startsWith('audit ')), 3_000);
    // An operator sees it: the entry waits (a gauge), nothing given up.
    const waiting = async () => (await hub.services.metrics.exposition()).body;
    expect(await waiting()).toMatch(/^sso_audit_entries_waiting 1$/m);
    expect(await waiting()).toMatch(/^sso_audit_entries_given_up_total 0$/m);
    await admin.configSet('maxmemory', '0');
    // Read past the audit log's own reader (which would flush first): the retry alone writes it.
    const issued = async () => (await store.zRevRange(hub.services.keys.auditTokens(), 0, -1)).map((raw) => JSON.parse(raw) as { event: string; client?: string }).filter((entry) => entry.client === 'svc');
    await until(async () => (await issued()).length > 0, 10_000);
    expect(await issued()).toEqual([expect.objectContaining({ event: 'token.issued', client: 'svc' })]);
    expect(log.lines.some((line) => line.message === 'audit entries not written yet')).toBe(true);
    expect(log.lines.some((line) => line.message === 'audit entries not recorded')).toBe(false);
    expect(await waiting()).toMatch(/^sso_audit_entries_waiting 0$/m);
  });

  test('a stop that runs while Redis still refuses (main.ts stops the hub beside the drain) does not give the entry up: it is written once Redis takes writes, before the store closes', async () => {
    await hub?.close();
    const refusing = refusingAuditWrites(store, admin);
    const log = captureLogger();
    hub = await startTestHub('redis', {}, refusing.store, log.logger);
    const client = await hub.services.clients.register({ clientId: 'svc2', grantTypes: ['client_credentials'] });
    refusing.arm();
    expect((await postForm(`${hub.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc2', client.clientSecret!) })).status).toBe(200);
    await until(async () => refusing.refused() && log.lines.some((line) => line.message.startsWith('audit ')), 3_000);
    await hub.stop(); // its flush is refused too
    await admin.configSet('maxmemory', '0');
    const issued = async () => (await store.zRevRange(hub.services.keys.auditTokens(), 0, -1)).filter((raw) => raw.includes('"svc2"'));
    await until(async () => (await issued()).length === 1, 10_000);
    expect(log.lines.some((line) => line.message === 'audit entries not recorded')).toBe(false);
  });
});
