import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import providerStorage from 'oidc-provider/lib/helpers/als.js';
import { Keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory.js';
import { connectRedis, RedisStore } from '../store/redis.js';
import type { Store } from '../store/store.js';
import { createFindAccount } from './account.js';
import { createAdapterFactory } from './adapter.js';
import { ReadAhead } from './read-ahead.js';
import { UserRepository } from '../users/user-repository.js';
import { scanKeys } from '../store/redis-client.js';
import type { PasswordHasher } from '../users/passwords.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:read-ahead:${randomUUID()}:`;
const keys = new Keys(prefix);
const newId = (): string => randomBytes(32).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);

/** Runs `work` as oidc-provider runs a request's middleware: inside its context, on `route`. */
function inRequest<T>(route: string, work: () => Promise<T>): Promise<T> {
  return providerStorage.run({ oidc: { route } }, work);
}

/** Every store read, by method and keys. */
function countReads(store: Store): string[] {
  const reads: string[] = [];
  const get = store.get.bind(store);
  const getMany = store.getMany.bind(store);
  jest.spyOn(store, 'get').mockImplementation((key) => {
    reads.push(`get ${key.slice(prefix.length)}`);
    return get(key);
  });
  jest.spyOn(store, 'getMany').mockImplementation((many) => {
    reads.push(`getMany ${many.map((key) => key.slice(prefix.length)).join(' ')}`);
    return getMany(many);
  });
  return reads;
}

const subjects: [string, () => Promise<Store>][] = [
  ['MemoryStore', async () => new MemoryStore()],
  ['RedisStore', async () => new RedisStore(await connectRedis(REDIS_URL))],
];

describe.each(subjects)('reading ahead what a token leads to: %s', (_name, open) => {
  let store: Store;

  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    if (store instanceof RedisStore) {
      const found: string[] = [];
      for await (const batch of scanKeys(store.client, `${prefix}*`)) found.push(...batch);
      if (found.length > 0) await store.del(...found);
    }
    await store.close();
  });

  /** A user, a session (by uid), a grant and an access token bound to the session, stored as the hub stores them. */
  async function signedIn(adapter: (model: string) => InstanceType<ReturnType<typeof createAdapterFactory>>) {
    const accountId = randomUUID();
    const uid = newId();
    const grantId = newId();
    const tokenId = newId();
    const sessionId = newId();
    await store.set(keys.user(accountId), JSON.stringify({ id: accountId, username: `u${accountId.slice(0, 8)}`, email: `${accountId}@example.test`, createdAt: now() }));
    await adapter('Session').upsert(sessionId, { uid, accountId, exp: now() + 600, authorizations: { bbs: { grantId } } } as AdapterPayload, 600);
    await adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId, clientId: 'bbs', exp: now() + 600, openid: { scope: 'openid' } } as AdapterPayload, 600);
    await adapter('AccessToken').upsert(tokenId, { jti: tokenId, kind: 'AccessToken', accountId, clientId: 'bbs', grantId, sessionUid: uid, expiresWithSession: true, scope: 'openid', exp: now() + 60 } as AdapterPayload, 60);
    return { accountId, uid, grantId, tokenId, sessionId };
  }

  function setUp() {
    const users = new UserRepository(store, keys, {} as PasswordHasher);
    const readAhead = new ReadAhead(store, keys, (accountId) => users.recordKey(accountId));
    const Adapter = createAdapterFactory(store, keys, { findClient: async () => ({ client_id: 'bbs' }) as AdapterPayload }, { readAhead });
    return { readAhead, adapter: (model: string) => new Adapter(model), findAccount: createFindAccount(users, readAhead) };
  }

  /** oidc-provider's reads of a userinfo request, in its order: token, session binding, account, grant. */
  function userinfo(hub: ReturnType<typeof setUp>, ids: Awaited<ReturnType<typeof signedIn>>) {
    return inRequest('userinfo', async () => {
      const token = await hub.adapter('AccessToken').find(ids.tokenId);
      const ctx = providerStorage.getStore() as object;
      const session = await hub.adapter('Session').findByUid!(ids.uid);
      const account = await hub.findAccount(ctx as never, ids.accountId);
      const grant = await hub.adapter('Grant').find(ids.grantId);
      return { token, session, account, grant };
    });
  }

  it('userinfo with a token this process issued: the token, its session, account and grant in one read (four reads before)', async () => {
    const hub = setUp();
    const ids = await signedIn(hub.adapter);
    const reads = countReads(store);
    const found = await userinfo(hub, ids);
    jest.restoreAllMocks();
    expect(found.token).toMatchObject({ accountId: ids.accountId, grantId: ids.grantId });
    expect(found.session).toMatchObject({ uid: ids.uid, accountId: ids.accountId });
    expect(found.account?.accountId).toBe(ids.accountId);
    expect(found.grant).toMatchObject({ accountId: ids.accountId, clientId: 'bbs', jti: ids.grantId });
    expect(reads).toEqual([expect.stringMatching(new RegExp(`^getMany oidc:AccessToken:\\S+ oidc:session-uid:\\S+ user:\\{${ids.accountId}\\} oidc:Grant:\\S+$`))]);
  });

  it('userinfo with a token another process issued: the token, then the three in one read; the token\'s next request: one read', async () => {
    const ids = await signedIn(setUp().adapter);
    const here = setUp(); // another hub process (or this one after a restart): it never saw the token
    const reads = countReads(store);
    const first = await userinfo(here, ids);
    const firstReads = reads.splice(0);
    const second = await userinfo(here, ids);
    jest.restoreAllMocks();
    for (const found of [first, second]) {
      expect(found.token).toMatchObject({ accountId: ids.accountId, grantId: ids.grantId });
      expect(found.session).toMatchObject({ uid: ids.uid });
      expect(found.account?.accountId).toBe(ids.accountId);
      expect(found.grant).toMatchObject({ jti: ids.grantId });
    }
    expect(firstReads).toEqual([
      expect.stringMatching(/^get oidc:AccessToken:\S+$/),
      expect.stringMatching(new RegExp(`^getMany oidc:session-uid:\\S+ user:\\{${ids.accountId}\\} oidc:Grant:\\S+$`)),
    ]);
    expect(reads).toEqual([expect.stringMatching(/^getMany oidc:AccessToken:\S+ oidc:session-uid:\S+ user:\S+ oidc:Grant:\S+$/)]);
  });

  it('what is read with a known token is the store\'s value of the moment: a grant changed since is read as changed, a revoked token is gone', async () => {
    const hub = setUp();
    const ids = await signedIn(hub.adapter);
    await userinfo(hub, ids);
    await hub.adapter('Grant').upsert(ids.grantId, { jti: ids.grantId, kind: 'Grant', accountId: ids.accountId, clientId: 'bbs', exp: now() + 600, openid: { scope: 'openid email' } } as AdapterPayload, 600);
    const again = await userinfo(hub, ids);
    expect(again.grant).toMatchObject({ openid: { scope: 'openid email' } });
    await hub.adapter('AccessToken').destroy(ids.tokenId);
    const gone = await inRequest('userinfo', () => hub.adapter('AccessToken').find(ids.tokenId));
    expect(gone).toBeUndefined();
  });

  /** oidc-provider's lookups of an introspected token with no hint: each kind side by side. */
  function introspect(hub: ReturnType<typeof setUp>, tokenId: string) {
    return inRequest('introspection', () => Promise.all(['AccessToken', 'ClientCredentials', 'RefreshToken'].map((model) => hub.adapter(model).find(tokenId))));
  }

  it('introspection reads the session and grant ahead, not the account, and a known token is not looked up as another kind; outside a request nothing is read ahead', async () => {
    const issuer = setUp();
    const { tokenId } = await signedIn(issuer.adapter);
    let reads = countReads(store);
    const [asAccessToken, asClientCredentials, asRefreshToken] = await introspect(issuer, tokenId);
    jest.restoreAllMocks();
    expect(asAccessToken).toMatchObject({ jti: tokenId });
    expect(asClientCredentials).toBeUndefined();
    expect(asRefreshToken).toBeUndefined();
    expect(reads).toEqual([expect.stringMatching(/^getMany oidc:AccessToken:\S+ oidc:session-uid:\S+ oidc:Grant:\S+$/)]);

    // In another process: each kind is looked up, then the session and grant; the next time, one read.
    const here = setUp();
    reads = countReads(store);
    expect((await introspect(here, tokenId))[0]).toMatchObject({ jti: tokenId });
    const firstReads = reads.splice(0);
    expect((await introspect(here, tokenId))[0]).toMatchObject({ jti: tokenId });
    jest.restoreAllMocks();
    expect(firstReads).toHaveLength(4);
    expect(firstReads).toContainEqual(expect.stringMatching(/^getMany oidc:session-uid:\S+ oidc:Grant:\S+$/));
    expect(reads).toEqual([expect.stringMatching(/^getMany oidc:AccessToken:\S+ oidc:session-uid:\S+ oidc:Grant:\S+$/)]);

    reads = countReads(store);
    await setUp().adapter('AccessToken').find(tokenId);
    await inRequest('authorization', () => setUp().adapter('AccessToken').find(tokenId));
    jest.restoreAllMocks();
    expect(reads.every((read) => read.startsWith('get oidc:AccessToken:'))).toBe(true);
  });

  it('a client_credentials token, once introspected, is not looked up as an access or refresh token again', async () => {
    const hub = setUp();
    const tokenId = newId();
    await hub.adapter('ClientCredentials').upsert(tokenId, { jti: tokenId, kind: 'ClientCredentials', clientId: 'bbs', scope: 'api', exp: now() + 60 } as AdapterPayload, 60);
    let reads = countReads(store);
    expect((await introspect(hub, tokenId))[1]).toMatchObject({ jti: tokenId });
    jest.restoreAllMocks();
    expect(reads).toHaveLength(3); // issued tokens of this kind are not remembered: each kind is looked up
    reads = countReads(store);
    const [asAccessToken, asClientCredentials, asRefreshToken] = await introspect(hub, tokenId);
    jest.restoreAllMocks();
    expect(asClientCredentials).toMatchObject({ jti: tokenId });
    expect(asAccessToken).toBeUndefined();
    expect(asRefreshToken).toBeUndefined();
    expect(reads).toEqual([expect.stringMatching(/^get oidc:ClientCredentials:\S+$/)]);
  });

  it('a value read ahead is handed out once: the second read of the key goes to the store', async () => {
    const { adapter } = setUp();
    const { grantId, tokenId } = await signedIn(adapter);
    const reads = countReads(store);
    await inRequest('userinfo', async () => {
      await adapter('AccessToken').find(tokenId);
      await adapter('Grant').find(grantId);
      await adapter('Grant').find(grantId);
    });
    jest.restoreAllMocks();
    expect(reads.filter((read) => read.startsWith('get oidc:Grant:'))).toHaveLength(1);
  });

  // The request's own write wins over what it read ahead: a read after the write sees the write.
  it('a grant or session the request writes after reading ahead is read back as written', async () => {
    const { adapter } = setUp();
    const { uid, grantId, tokenId, accountId, sessionId } = await signedIn(adapter);
    const { grant, session } = await inRequest('token', async () => {
      await adapter('AccessToken').find(tokenId);
      await adapter('Grant').upsert(grantId, { jti: grantId, kind: 'Grant', accountId, clientId: 'bbs', exp: now() + 600, openid: { scope: 'openid email' } } as AdapterPayload, 600);
      await adapter('Session').upsert(sessionId, { uid, accountId, exp: now() + 600, authorizations: {}, marker: 'rewritten' } as AdapterPayload, 600);
      return { grant: await adapter('Grant').find(grantId), session: await adapter('Session').findByUid!(uid) };
    });
    expect(grant).toMatchObject({ openid: { scope: 'openid email' } });
    expect(session).toMatchObject({ marker: 'rewritten' });
  });

  it('a grant the request destroys after reading ahead is gone for it', async () => {
    const { adapter } = setUp();
    const { grantId, tokenId } = await signedIn(adapter);
    const grant = await inRequest('token', async () => {
      await adapter('AccessToken').find(tokenId);
      await adapter('Grant').destroy(grantId);
      return adapter('Grant').find(grantId);
    });
    expect(grant).toBeUndefined();
  });

  it('a session the request ends after reading ahead is gone for it', async () => {
    const { adapter } = setUp();
    const { uid, tokenId, sessionId } = await signedIn(adapter);
    const session = await inRequest('token', async () => {
      await adapter('AccessToken').find(tokenId);
      await adapter('Session').destroy(sessionId);
      return adapter('Session').findByUid!(uid);
    });
    expect(session).toBeUndefined();
  });

  it('an expired token leads to no read ahead; one known here is read with its leads in one round trip, as when valid', async () => {
    const issuer = setUp();
    const { accountId, grantId, uid } = await signedIn(issuer.adapter);
    const expired = newId();
    await issuer.adapter('AccessToken').upsert(expired, { jti: expired, kind: 'AccessToken', accountId, clientId: 'bbs', grantId, sessionUid: uid, expiresWithSession: true, scope: 'openid', exp: now() - 1 } as AdapterPayload, 60);
    let reads = countReads(store);
    await inRequest('userinfo', () => setUp().adapter('AccessToken').find(expired));
    jest.restoreAllMocks();
    expect(reads).toEqual([expect.stringMatching(/^get oidc:AccessToken:/)]);
    reads = countReads(store);
    await inRequest('userinfo', () => issuer.adapter('AccessToken').find(expired));
    jest.restoreAllMocks();
    expect(reads).toEqual([expect.stringMatching(/^getMany oidc:AccessToken:\S+ oidc:session-uid:\S+ user:\S+ oidc:Grant:\S+$/)]);
  });

  it('a failed read ahead fails the reads that take it, and one nobody takes is no unhandled rejection', async () => {
    const ids = await signedIn(setUp().adapter);
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const outage = new Error('store down');
      jest.spyOn(store, 'getMany').mockRejectedValue(outage);
      const here = setUp(); // the token is new to it: read alone, then the three together
      await expect(inRequest('userinfo', async () => {
        await here.adapter('AccessToken').find(ids.tokenId);
        return here.adapter('Grant').find(ids.grantId);
      })).rejects.toBe(outage);
      // The request fails before anything takes what it read ahead.
      await inRequest('userinfo', () => setUp().adapter('AccessToken').find(ids.tokenId));
      // A token known here is read with the three: the failure is the token's own read's.
      const issuer = setUp();
      jest.restoreAllMocks();
      const known = await signedIn(issuer.adapter);
      jest.spyOn(store, 'getMany').mockRejectedValue(outage);
      await expect(inRequest('userinfo', () => issuer.adapter('AccessToken').find(known.tokenId))).rejects.toBe(outage);
      jest.restoreAllMocks();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      jest.restoreAllMocks();
      process.off('unhandledRejection', unhandled);
    }
  });

  it('two requests read ahead apart: one request does not take what another read', async () => {
    const { adapter } = setUp();
    const { grantId, tokenId } = await signedIn(adapter);
    const reads = countReads(store);
    await inRequest('userinfo', () => adapter('AccessToken').find(tokenId));
    await inRequest('userinfo', () => adapter('Grant').find(grantId));
    jest.restoreAllMocks();
    expect(reads.filter((read) => read.startsWith('get oidc:Grant:'))).toHaveLength(1);
  });
});
