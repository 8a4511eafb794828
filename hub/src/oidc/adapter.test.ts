import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { digest, Keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory.js';
import { connectRedis, RedisStore } from '../store/redis.js';
import type { Store } from '../store/store.js';
import { createAdapterFactory, type AdapterHooks } from './adapter.js';
import { scanKeys } from '../store/redis-client.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:oidc-adapter:${randomUUID()}:`;
const keys = new Keys(prefix);

/** Records are kept this long past their expiry (the adapter's CLOCK_TOLERANCE), in seconds. */
const TOLERANCE = 5;

interface Subject {
  open(): Promise<Store>;
  close(store: Store): Promise<void>;
  /** Every string key under the prefix with its value, when the backend can list keys. */
  dump?(store: Store): Promise<Map<string, string>>;
}

async function scanPrefix(store: Store): Promise<string[]> {
  const { client } = store as RedisStore;
  const found: string[] = [];
  for await (const batch of scanKeys(client, `${prefix}*`)) found.push(...batch);
  return found;
}

const subjects: [string, Subject][] = [
  ['MemoryStore', { open: async () => new MemoryStore(), close: (store) => store.close() }],
  [
    'RedisStore',
    {
      open: async () => new RedisStore(await connectRedis(REDIS_URL)),
      close: async (store) => {
        const found = await scanPrefix(store);
        if (found.length > 0) await store.del(...found);
        await store.close();
      },
      dump: async (store) => {
        const { client } = store as RedisStore;
        const out = new Map<string, string>();
        for (const key of await scanPrefix(store)) {
          const type = await client.type(key);
          const value = type === 'string' ? await client.get(key) : type === 'set' ? (await client.sMembers(key)).join('\n') : type === 'zset' ? (await client.zRange(key, 0, -1)).join('\n') : '';
          out.set(key, value ?? '');
        }
        return out;
      },
    },
  ],
];

/** An opaque token id the way oidc-provider makes them: random, URL-safe. */
const newId = (): string => randomBytes(32).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

describe.each(subjects)('oidc-provider adapter over the Store: %s', (_name, subject) => {
  let store: Store;
  let hooks: Required<AdapterHooks>;
  let adapter: (model: string) => Adapter;

  beforeAll(async () => {
    store = await subject.open();
    hooks = {
      findClient: jest.fn(async (clientId: string) => (clientId === 'bbs' ? { client_id: 'bbs' } as AdapterPayload : undefined)),
      clientGeneration: jest.fn(async () => undefined),
      stampOfRemovedClient: jest.fn(() => false),
      onSession: jest.fn(async () => {}),
      onSessionDestroyed: jest.fn(async () => {}),
      endedByHub: jest.fn(async () => false),
      onSessionEndedByHub: jest.fn(async () => {}),
      onGrant: jest.fn(async () => {}),
      onGrantDestroyed: jest.fn(async () => {}),
    };
    const StoreAdapter = createAdapterFactory(store, keys, hooks);
    adapter = (model) => new StoreAdapter(model);
  });

  afterAll(async () => {
    await subject.close(store);
  });

  it('upsert then find round-trips the payload and restores jti', async () => {
    const id = newId();
    const payload: AdapterPayload = { jti: id, kind: 'AccessToken', accountId: 'user-1', clientId: 'bbs', grantId: newId(), scope: 'openid', iat: now(), exp: now() + 60 };
    await adapter('AccessToken').upsert(id, payload, 60);
    expect(await adapter('AccessToken').find(id)).toEqual(payload);
    expect(await adapter('AccessToken').find(newId())).toBeUndefined();
    // Models are separate namespaces: the same id under another model is not found.
    expect(await adapter('RefreshToken').find(id)).toBeUndefined();
  });

  // A read of the store (a dump, a replica, a backup) must not yield a usable token or code.
  it('stores records by digest: neither the key nor the stored value holds the id', async () => {
    const id = newId();
    const userCode = 'WDJB-MJHT';
    await adapter('DeviceCode').upsert(id, { jti: id, kind: 'DeviceCode', grantId: newId(), userCode, clientId: 'bbs', exp: now() + 60 }, 60);

    const raw = await store.get(keys.oidc('DeviceCode', digest(id)));
    expect(raw).not.toBeNull();
    expect(raw).not.toContain(id);
    expect(JSON.parse(raw!)).not.toHaveProperty('jti');
    expect(await store.get(keys.oidc('DeviceCode', id))).toBeNull();
    // The user-code index is keyed by digest too, and leads back to the record.
    expect(await store.get(keys.oidcUserCode(userCode))).toBe(keys.oidc('DeviceCode', digest(id)));
    expect(keys.oidcUserCode(userCode)).not.toContain(userCode);
    expect(await adapter('DeviceCode').findByUserCode(userCode)).toMatchObject({ userCode, clientId: 'bbs' });

    if (subject.dump) {
      const everything = await subject.dump(store);
      expect(everything.size).toBeGreaterThan(0);
      for (const [key, value] of everything) {
        expect(key).not.toContain(id);
        expect(value).not.toContain(id);
        expect(key).not.toContain(userCode);
      }
    }
  });

  it('consume marks the record consumed and keeps its expiry', async () => {
    const id = newId();
    const code = adapter('AuthorizationCode');
    await code.upsert(id, { jti: id, kind: 'AuthorizationCode', grantId: newId(), clientId: 'bbs', exp: now() + 60 }, 60);
    expect((await code.find(id))?.consumed).toBeUndefined();

    const before = now();
    await code.consume(id);
    const found = await code.find(id);
    expect(found?.consumed).toBeGreaterThanOrEqual(before);
    expect(found?.jti).toBe(id);
    // A consumed code stays until it expires (replay detection), never longer.
    const ttl = await store.ttl(keys.oidc('AuthorizationCode', digest(id)));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60 + TOLERANCE);

    // A second claim fails (two concurrent redemptions cannot both pass), and so does a
    // claim on a record revoked in the meantime.
    await expect(code.consume(id)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(code.consume(newId())).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('revokeByGrantId removes every record of that grant and only those', async () => {
    const grantId = newId();
    const otherGrant = newId();
    const records = [
      ['AccessToken', newId()],
      ['RefreshToken', newId()],
      ['AuthorizationCode', newId()],
    ] as const;
    for (const [model, id] of records) await adapter(model).upsert(id, { jti: id, kind: model, grantId, exp: now() + 60 }, 60);
    const survivor = newId();
    await adapter('AccessToken').upsert(survivor, { jti: survivor, kind: 'AccessToken', grantId: otherGrant, exp: now() + 60 }, 60);

    await adapter('AccessToken').revokeByGrantId(grantId);

    for (const [model, id] of records) expect(await adapter(model).find(id)).toBeUndefined();
    expect(await store.zRangeByScore(keys.oidcGrantMembers(grantId), -Infinity, Infinity)).toEqual([]);
    expect(await adapter('AccessToken').find(survivor)).toMatchObject({ jti: survivor, grantId: otherGrant });
  });

  it('Session: a uid index written before the copy (the record key) is still followed', async () => {
    const id = newId();
    const uid = newId();
    const session = adapter('Session');
    await session.upsert(id, { jti: id, kind: 'Session', uid, accountId: 'user-1', loginTs: now(), exp: now() + 600 }, 600);
    await store.set(keys.oidcSessionUid(uid), keys.oidc('Session', digest(id)), { ttlSeconds: 600 });
    expect(await session.findByUid(uid)).toMatchObject({ uid, accountId: 'user-1' });
    await session.destroy(id);
    expect(await session.findByUid(uid)).toBeUndefined();
  });

  it('Session: findByUid finds it, destroy removes the record and the uid index', async () => {
    const id = newId();
    const uid = newId();
    const session = adapter('Session');
    await session.upsert(id, { jti: id, kind: 'Session', uid, accountId: 'user-1', loginTs: now(), exp: now() + 600 }, 600);
    expect(hooks.onSession).toHaveBeenCalledWith('user-1', keys.oidc('Session', digest(id)), 600 + TOLERANCE);

    expect(await session.find(id)).toMatchObject({ jti: id, uid, accountId: 'user-1' });
    expect(await session.findByUid(uid)).toMatchObject({ uid, accountId: 'user-1' });
    expect(await session.findByUid(newId())).toBeUndefined();
    // The uid key holds a copy of the record (findByUid is one read), never the session id from the cookie.
    const copy = await store.get(keys.oidcSessionUid(uid));
    expect(copy).toBe(await store.get(keys.oidc('Session', digest(id))));
    expect(copy).not.toContain(id);

    await session.destroy(id);
    expect(await session.find(id)).toBeUndefined();
    expect(await session.findByUid(uid)).toBeUndefined();
    expect(await store.get(keys.oidcSessionUid(uid))).toBeNull();
    expect(hooks.onSessionDestroyed).toHaveBeenCalledWith('user-1', keys.oidc('Session', digest(id)));

    await session.destroy(newId()); // destroying an unknown id is a no-op
  });

  it('Grant: upsert and destroy tell the consent index through the hooks', async () => {
    const id = newId();
    await adapter('Grant').upsert(id, { jti: id, kind: 'Grant', accountId: 'user-2', clientId: 'wiki', exp: now() + 60 }, 60);
    expect(hooks.onGrant).toHaveBeenCalledWith('user-2', 'wiki', id, 60 + TOLERANCE);
    await adapter('Grant').destroy(id);
    expect(await adapter('Grant').find(id)).toBeUndefined();
    expect(hooks.onGrantDestroyed).toHaveBeenCalledWith('user-2', 'wiki', id);
  });

  it('Client records come from the client registry hook, not from the store', async () => {
    expect(await adapter('Client').find('bbs')).toEqual({ client_id: 'bbs' });
    expect(await adapter('Client').find('nope')).toBeUndefined();
  });

  // Expiry itself is the Store's job (its contract waits for a 1 s TTL to lapse); here we
  // check that every key the adapter writes carries expiresIn plus the clock tolerance.
  it('honours expiresIn on the record and on its indexes', async () => {
    const id = newId();
    const grantId = newId();
    const uid = newId();
    await adapter('RefreshToken').upsert(id, { jti: id, kind: 'RefreshToken', grantId, exp: now() + 30 }, 30);
    await adapter('Session').upsert(id, { jti: id, kind: 'Session', uid, exp: now() + 30 }, 30);
    for (const key of [keys.oidc('RefreshToken', digest(id)), keys.oidcGrantMembers(grantId), keys.oidc('Session', digest(id)), keys.oidcSessionUid(uid)]) {
      const ttl = await store.ttl(key);
      expect(ttl).toBeGreaterThan(30);
      expect(ttl).toBeLessThanOrEqual(30 + TOLERANCE);
    }
    // A longer-lived token of the same grant pushes the grant's index out, so revocation still finds it.
    const later = newId();
    await adapter('AccessToken').upsert(later, { jti: later, kind: 'AccessToken', grantId, exp: now() + 300 }, 300);
    expect(await store.ttl(keys.oidcGrantMembers(grantId))).toBeGreaterThan(300);
  });
});
