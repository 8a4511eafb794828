import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { openTestStore, STORE_KINDS } from '../testing/test-hub.js';
import { Keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory.js';
import { RedisStore } from '../store/redis.js';
import type { Store } from '../store/store.js';
import { ClientRegistry, STALE, syncSigningKey } from './client-registry.js';
import { deleteByPrefix } from '../store/redis-client.js';

describe('client registration rules', () => {
  const base = { clientId: 'app', redirectUris: ['https://app.example/cb'] };

  test('RFC 9700 §2.4: the password grant only for trusted, confidential clients', () => {
    expect(() => ClientRegistry.build({ ...base, grantTypes: ['password'] })).toThrow(ValidationError);
    expect(() => ClientRegistry.build({ ...base, grantTypes: ['password'], trusted: true, tokenEndpointAuthMethod: 'none' })).toThrow(/confidential/);
    expect(ClientRegistry.build({ ...base, grantTypes: ['password'], trusted: true }).grantTypes).toEqual(['password']);
  });

  test("a name with a control or invisible formatting character is refused, as a display name's is (a right-to-left override turned the consent page's sentence around: a review)", () => {
    for (const name of ['Evil\u202Egnp.', 'Zero\u200Bwidth', 'Line\nbreak', 'Isolate\u2066x']) {
      expect(() => ClientRegistry.build({ ...base, name })).toThrow(/formatting characters/);
    }
    expect(ClientRegistry.build({ ...base, name: 'فروشگاه ‌آنلاین 论坛 👩‍💻' }).name).toBe('فروشگاه ‌آنلاین 论坛 👩‍💻');
  });

  test('a name past 100 characters is refused, as a display name or a UCenter application name is (the console kept a 30,000-character one); an edit that does not give the name keeps it', () => {
    expect(() => ClientRegistry.build({ ...base, name: 'x'.repeat(101) })).toThrow(/at most 100 characters/);
    expect(ClientRegistry.build({ ...base, name: `${'论'.repeat(100)} ` }).name).toBe(`${'论'.repeat(100)} `);
    expect(ClientRegistry.build({ ...base, name: '👩‍💻'.repeat(33) }).name).toHaveLength(165);
    const existing = { ...ClientRegistry.build({ ...base, name: 'Kept' }), name: 'y'.repeat(150) };
    expect(ClientRegistry.build({ ...base }, existing).name).toBe('y'.repeat(150));
  });

  test('URLs carrying a user name or password are refused (they would reach logs and errors)', () => {
    expect(() => ClientRegistry.build({ ...base, userdeleteUrl: 'http://user:secret@app.internal/sso/userdelete' })).toThrow(/user name or password/);
    expect(() => ClientRegistry.build({ ...base, redirectUris: ['https://user@app.example/cb'] })).toThrow(ValidationError);
  });

  test('a redirect URI or post-logout URI given twice is kept once, in the order given (it was stored and shown twice)', () => {
    const built = ClientRegistry.build({ ...base, redirectUris: ['https://app.example/cb', 'https://app.example/b', 'https://app.example/cb'], postLogoutRedirectUris: ['https://app.example/out', 'https://app.example/out'] });
    expect(built.redirectUris).toEqual(['https://app.example/cb', 'https://app.example/b']);
    expect(built.postLogoutRedirectUris).toEqual(['https://app.example/out']);
  });

  test('exact redirect URIs only: a fragment is refused', () => {
    expect(() => ClientRegistry.build({ ...base, redirectUris: ['https://app.example/cb#x'] })).toThrow(/fragment/);
    // A bare '#' leaves URL.hash empty; oidc-provider refused the client later, at every request.
    expect(() => ClientRegistry.build({ ...base, redirectUris: ['https://app.example/cb#'] })).toThrow(/fragment/);
    expect(() => ClientRegistry.build({ ...base, postLogoutRedirectUris: ['https://app.example/#'] })).toThrow(/fragment/);
  });

  test('the implicit grant takes https redirect URIs only, not on localhost (oidc-provider\'s rule, checked at registration)', () => {
    const implicit = { ...base, grantTypes: ['implicit' as const, 'authorization_code' as const] };
    expect(() => ClientRegistry.build({ ...implicit, redirectUris: ['http://app.example/cb'] })).toThrow(/implicit grant needs https redirect and post-logout URIs.*http:\/\/app\.example\/cb/);
    expect(() => ClientRegistry.build({ ...implicit, postLogoutRedirectUris: ['http://app.example/'] })).toThrow(/post-logout URIs.*http:\/\/app\.example\//);
    // A malformed one is said as such (a review: a TypeError "Invalid URL" before the URL check).
    expect(() => ClientRegistry.build({ ...implicit, postLogoutRedirectUris: ['not a url'] })).toThrow(ValidationError);
    expect(() => ClientRegistry.build({ ...implicit, redirectUris: ['https://localhost/cb'] })).toThrow(/not on localhost/);
    expect(ClientRegistry.build({ ...implicit, redirectUris: ['https://app.example/cb'] }).grantTypes).toContain('implicit');
  });

  test('re-applying an unchanged client writes nothing (other processes keep their cache)', async () => {
    const store = new MemoryStore();
    const keys = new Keys('t:');
    const registry = new ClientRegistry(store, keys);
    const first = await registry.upsert({ ...base, clientSecret: 'a-client-secret-of-at-least-32-characters' });
    const version = await store.get(keys.clientsVersion());
    const again = await registry.upsert({ ...base, clientSecret: 'a-client-secret-of-at-least-32-characters' });
    // The same but for the secret in clear: only the call that made the secret (or changed it) returns it.
    expect(again).toEqual({ ...first, clientSecret: undefined });
    expect(await store.get(keys.clientsVersion())).toBe(version);
    await registry.upsert({ ...base, name: 'Renamed' });
    expect(Number(await store.get(keys.clientsVersion()))).toBe(Number(version) + 1);
    await store.close();
  });
});

describe('sync keys: who has seen them decides whether a rotation overlaps', () => {
  const base = { clientId: 'site', redirectUris: ['https://site.example/sso/callback'] };
  const syncUrls = { syncLoginUrl: 'https://site.example/sso/synclogin', syncLogoutUrl: 'https://site.example/sso/synclogout' };
  const DAY = 86_400;

  test('a key made for register or for an update that turns sync on is handed to the caller to show; one made by upsert is marked unshown', async () => {
    const registry = new ClientRegistry(new MemoryStore(), new Keys('t:'));
    expect((await registry.register({ ...base, ...syncUrls })).sync!.keyUnshown).toBeUndefined();
    await registry.register({ ...base, clientId: 'later' });
    const before = (await registry.require('later')).sync;
    const gained = await registry.update('later', syncUrls);
    expect(before).toBeUndefined();
    expect(gained.sync!.key).toHaveLength(43);
    expect(gained.sync!.keyUnshown).toBeUndefined();
    const declared = await registry.upsert({ ...base, clientId: 'declared', ...syncUrls });
    expect(declared.sync!.keyUnshown).toBe(true);
    // An unrelated change shows no key, so the mark stays; a key given by the operator has none.
    expect((await registry.update('declared', { name: 'Declared' })).sync!.keyUnshown).toBe(true);
    expect((await registry.upsert({ ...base, clientId: 'given', ...syncUrls, syncKey: 'k'.repeat(32) })).sync!.keyUnshown).toBeUndefined();
    // The hub's start-up seed registers and shows no one what it made.
    expect((await registry.register({ ...base, clientId: 'seeded', ...syncUrls }, { keyShown: false })).sync!.keyUnshown).toBe(true);
    expect((await registry.rotateSyncKey('seeded', DAY)).sync!.previousKey).toBeUndefined();
  });

  test('rotating a key no one saw takes effect at once; rotating a key in use keeps the overlap, and both keys verify', async () => {
    const registry = new ClientRegistry(new MemoryStore(), new Keys('t:'));
    await registry.upsert({ ...base, ...syncUrls });
    const replaced = (await registry.rotateSyncKey('site', DAY)).sync!;
    expect(replaced.previousKey).toBeUndefined();
    expect(replaced.rotatedAt).toBeUndefined();
    expect(replaced.keyUnshown).toBeUndefined();
    expect(syncSigningKey(replaced, DAY)).toBe(replaced.key);

    // The key just shown may be in a subsite now: the next rotation is a normal one.
    const rotated = (await registry.rotateSyncKey('site', DAY)).sync!;
    expect(rotated.previousKey).toBe(replaced.key);
    expect(syncSigningKey(rotated, DAY)).toBe(replaced.key);
    expect(syncSigningKey(rotated, DAY, rotated.rotatedAt! + DAY)).toBe(rotated.key);
  });
});

test('issue 14: a fresh cache answers without a promise (peek, generationOf); after its second it must be checked first', async () => {
  const store = new MemoryStore();
  const registry = new ClientRegistry(store, new Keys('t:'));
  const { generation } = await registry.upsert({ clientId: 'app', redirectUris: ['https://app.example/cb'] });
  const now = Date.now();
  const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
  try {
    await registry.find('app'); // the cache was loaded by the registration, within the second
    expect(registry.peek('app')).toMatchObject({ clientId: 'app' });
    expect(registry.peek('nobody')).toBeUndefined();
    expect(registry.generationOf('app')).toBe(generation); // a value, not a promise
    expect(registry.stampOfRemovedClient('app', generation)).toBe(false); // a known stamp: a value
    const unknown = registry.stampOfRemovedClient('app', 'a-stamp-the-cache-does-not-know');
    expect(unknown).toBeInstanceOf(Promise); // checked past the cache: a store read
    await expect(unknown).resolves.toBe(true);
    clock.mockReturnValue(now + 1_000);
    expect(registry.peek('app')).toBe(STALE);
    const later = registry.generationOf('app');
    expect(later).toBeInstanceOf(Promise);
    expect(await later).toBe(generation);
    expect(registry.peek('app')).toMatchObject({ clientId: 'app' }); // checked again: fresh for another second
  } finally {
    clock.mockRestore();
    await store.close();
  }
});

/** A store that counts the records it reads (a getMany of n keys is n reads). */
function countingStore(inner: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (property === 'get') reads += 1;
        if (['getMany', 'setMembers', 'zRangeByScore', 'zRevRange'].includes(String(property))) reads += (result as unknown[]).length;
        return result;
      };
    },
  });
  return { store, reads: () => reads };
}

describe.each(STORE_KINDS)('issue 14: registering a client reloads only what changed (%s)', (kind) => {
  const prefix = `test:${randomUUID()}:`;
  let keys: Keys;
  let inner: Store;
  let run = 0;

  beforeEach(() => {
    // Each test on its own keys: a test that failed half-way leaves nothing to the next.
    keys = new Keys(`${prefix}${(run += 1)}:`);
  });

  beforeAll(async () => {
    inner = await openTestStore(kind);
  });
  afterAll(async () => {
    if (inner instanceof RedisStore) {
      await deleteByPrefix(inner.client, prefix);
    }
    await inner.close();
  });

  const input = (i: number) => ({ clientId: `site-${i}`, redirectUris: [`https://site-${i}.example/cb`] });

  test('the 1,001st registration reads as many records as the first (no timing: store reads counted)', async () => {
    const { store, reads } = countingStore(inner);
    const registry = new ClientRegistry(store, keys);
    await registry.list();
    let before = reads();
    await registry.register(input(0));
    const first = reads() - before;
    // Ten at a time: enough to overlap checks, gentle on a shared, loaded Redis.
    for (let start = 1; start <= 1_000; start += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => registry.register(input(start + i))));
    }
    before = reads();
    await registry.register(input(1_001));
    const last = reads() - before;
    expect(first).toBeGreaterThan(0);
    expect(last).toBeLessThanOrEqual(first);
    expect((await registry.list()).length).toBe(1_002);
  });

  test('a registration is the read of the existing record and one write that applies itself to the cache, inside the client\'s lock (taken, then given back: client-secret-races.test.ts)', async () => {
    const calls: string[] = [];
    const store = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(String(property));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const registry = new ClientRegistry(store, keys);
    await registry.register(input(0)); // the first one loads the (empty) cache
    for (let i = 1; i <= 20; i += 1) {
      calls.length = 0;
      await registry.upsert(input(i));
      // Read outside the lock first: an upsert that changes nothing (each store check of the portal client) takes none.
      expect(calls).toEqual(['get', 'set', 'get', 'versionedWrite', 'swap']);
    }
    calls.length = 0;
    await registry.update('site-3', { name: 'Three' });
    await registry.remove('site-4');
    // Each reads the record past the cache inside the lock: one a second old could put back a secret rotated since.
    const locked = ['set', 'get', 'versionedWrite', 'swap'];
    expect(calls).toEqual([...locked, ...locked]);
    const listed = await registry.list();
    expect(calls).toEqual([...locked, ...locked]); // the cache was current: nothing read
    expect(listed.map((c) => c.clientId)).toEqual([...Array.from({ length: 21 }, (_, i) => `site-${i}`)].filter((id) => id !== 'site-4').sort((a, b) => a.localeCompare(b)));
    expect(listed.find((c) => c.clientId === 'site-3')?.name).toBe('Three');
    expect(listed).toEqual(await new ClientRegistry(inner, keys).list());
  });

  test('a registration after another process wrote catches up through the changelog at once', async () => {
    const one = new ClientRegistry(inner, keys);
    const two = new ClientRegistry(inner, keys);
    await one.register(input(0));
    await two.register(input(1)); // one's cache is now a version behind
    await one.register(input(2)); // its version is not the next one: it reads the change it missed
    expect((await one.list()).map((c) => c.clientId)).toEqual(['site-0', 'site-1', 'site-2']);
  });

  test('another process sees registrations, updates and removals (only the changed records reloaded)', async () => {
    const { store, reads } = countingStore(inner);
    const writer = new ClientRegistry(inner, keys);
    for (let i = 0; i < 20; i += 1) await writer.register(input(i));
    const reader = new ClientRegistry(store, keys);
    expect(await reader.list()).toHaveLength(20);

    await writer.register(input(5_000));
    await writer.update('site-0', { name: 'Renamed' });
    await writer.remove('site-1');
    const readerFresh = new ClientRegistry(store, keys);
    await readerFresh.list();
    // The first reader catches up with its next check (the cache is checked at most once a second).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const mark = reads();
    const seen = await reader.list();
    expect(reads() - mark).toBeLessThan(20);
    expect(seen.map((c) => c.clientId)).toContain('site-5000');
    expect(seen.map((c) => c.clientId)).not.toContain('site-1');
    expect(seen.find((c) => c.clientId === 'site-0')?.name).toBe('Renamed');
    expect(seen).toEqual(await readerFresh.list());
  });

  test('a changelog that lost entries (trimmed, or written by an older hub) falls back to a full reload', async () => {
    await new ClientRegistry(inner, keys).register(input(0));
    const reader = new ClientRegistry(inner, keys);
    await reader.list();
    const writer = new ClientRegistry(inner, keys);
    await writer.register(input(6_000));
    await inner.del(keys.clientsChanges());
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await reader.list()).map((c) => c.clientId)).toContain('site-6000');
  });

  /** What FLUSHALL or a restart of Redis without persistence does to the registry: its keys gone, the counter with them. */
  async function loseData(ids: string[]): Promise<void> {
    if (inner instanceof RedisStore) await deleteByPrefix(inner.client, keys.prefix);
    else await inner.del(keys.clients(), keys.clientsVersion(), keys.clientsEpoch(), keys.clientsChanges(), ...ids.map((id) => keys.client(id)));
  }

  test('after a data loss, the counter back at a process\'s version with other records: that process serves the records written since (an outside review: its tokens carried a removed generation)', async () => {
    const writer = new ClientRegistry(inner, keys);
    const before = await writer.register(input(0));
    await writer.register(input(1));
    const reader = new ClientRegistry(inner, keys);
    expect(await reader.generationOf('site-0')).toBe(before.generation);
    const version = await inner.get(keys.clientsVersion());

    await loseData(['site-0', 'site-1']);
    // The hubs and the seed write the same ids again: new generations, and the counter back where it was.
    const again = await writer.register(input(0));
    await writer.register(input(1));
    expect(again.generation).not.toBe(before.generation);
    expect(await inner.get(keys.clientsVersion())).toBe(version);

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await reader.generationOf('site-0')).toBe(again.generation);
    expect(await reader.list()).toEqual(await new ClientRegistry(inner, keys).list());
  });

  test('after a data loss, a write whose version follows the cache\'s does not apply itself on top of the records from before', async () => {
    const writer = new ClientRegistry(inner, keys);
    await writer.register(input(0));
    await writer.register(input(1));
    const reader = new ClientRegistry(inner, keys);
    await reader.list();

    await loseData(['site-0', 'site-1']);
    const again = await writer.register(input(0));
    await writer.register(input(1));
    await reader.register(input(2)); // version 3: the one after the reader's 2, in another history

    expect(await reader.generationOf('site-0')).toBe(again.generation);
    expect(await reader.list()).toEqual(await new ClientRegistry(inner, keys).list());
  });

  test('a store from before epochs (none beside the version) keeps working: the first write makes one, and other processes reload once', async () => {
    const writer = new ClientRegistry(inner, keys);
    await writer.register(input(0));
    await inner.del(keys.clientsEpoch()); // as an older hub left the store
    const reader = new ClientRegistry(inner, keys);
    await reader.list();
    await writer.register(input(1));
    expect(await inner.get(keys.clientsEpoch())).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await reader.list()).map((c) => c.clientId)).toEqual(['site-0', 'site-1']);
  });
});
