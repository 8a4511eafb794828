import { randomUUID } from 'node:crypto';
import { Keys } from '../store/keys.js';
import { RedisStore } from '../store/redis.js';
import { deleteByPrefix } from '../store/redis-client.js';
import type { Store } from '../store/store.js';
import { openTestStore, STORE_KINDS } from '../testing/test-hub.js';
import { ConsentIndex } from './consents.js';

const TTL = 3600;

describe.each(STORE_KINDS)('remembered consent (%s)', (kind) => {
  let store: Store;
  let keys: Keys;
  let consents: ConsentIndex;

  beforeAll(async () => {
    store = await openTestStore(kind);
    keys = new Keys(`test:${randomUUID()}:`);
    consents = new ConsentIndex(store, keys);
  });
  afterAll(async () => {
    if (store instanceof RedisStore) await deleteByPrefix(store.client, keys.prefix);
    await store.close();
  });

  test('a withdrawal while a consent is being given takes back what was withdrawn: only the new consent stays', async () => {
    const account = randomUUID();
    await consents.remember(account, 'bbs', { scope: 'openid profile email', claims: ['email'] }, TTL);
    // The user withdraws the site's access on /account while another tab confirms a consent page asking openid only.
    await Promise.all([consents.remember(account, 'bbs', { scope: 'openid', claims: [] }, TTL), consents.forget(account, 'bbs')]);
    const after = await consents.find(account, 'bbs');
    // Either order is fine, but the withdrawn scopes must not come back with the new consent.
    expect(after === null || after.scope === 'openid').toBe(true);
    expect(after?.claims ?? []).toEqual([]);
    // And a consent that stays is listed on the account page, where it can be withdrawn.
    expect((await consents.clientsOf(account)).map(({ clientId }) => clientId)).toEqual(after ? ['bbs'] : []);
  });

  test('a consent given while a withdrawal is unlisting it stays listed (the account page can still withdraw it)', async () => {
    const account = randomUUID();
    await consents.remember(account, 'bbs', { scope: 'openid profile', claims: [] }, TTL);
    // The withdrawal's unlisting is held until a new consent was written and listed in between.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let reached!: () => void;
    const atGate = new Promise<void>((resolve) => { reached = resolve; });
    const slowed = new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (name !== 'setRemove' || typeof value !== 'function') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        return async (...args: unknown[]) => { reached(); await gate; return (value as (...a: unknown[]) => unknown).apply(target, args); };
      },
    });
    const withdrawing = new ConsentIndex(slowed, keys).forget(account, 'bbs');
    await atGate;
    await consents.remember(account, 'bbs', { scope: 'openid', claims: [] }, TTL);
    release();
    await withdrawing;
    expect(await consents.find(account, 'bbs')).toMatchObject({ scope: 'openid' });
    expect((await consents.clientsOf(account)).map(({ clientId }) => clientId)).toEqual(['bbs']);
    expect(await store.ttl(keys.consents(account))).toBeGreaterThan(0);
  });

  test('a consent given again just after a withdrawal stays listed, whatever the order of the two', async () => {
    for (let round = 0; round < 20; round += 1) {
      const account = randomUUID();
      await consents.remember(account, 'bbs', { scope: 'openid profile', claims: [] }, TTL);
      const forgetting = consents.forget(account, 'bbs');
      for (let tick = 0; tick < round % 5; tick += 1) await Promise.resolve();
      await Promise.all([forgetting, consents.remember(account, 'bbs', { scope: 'openid', claims: [] }, TTL)]);
      const after = await consents.find(account, 'bbs');
      expect((await consents.clientsOf(account)).map(({ clientId }) => clientId)).toEqual(after ? ['bbs'] : []);
    }
  });

  test('two consents at once: what both allowed is remembered', async () => {
    const account = randomUUID();
    await consents.remember(account, 'bbs', { scope: 'openid', claims: [] }, TTL);
    await Promise.all([consents.remember(account, 'bbs', { scope: 'openid profile', claims: [] }, TTL), consents.remember(account, 'bbs', { scope: 'openid email', claims: ['email'] }, TTL)]);
    const after = await consents.find(account, 'bbs');
    expect(after?.scope.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
    expect(after?.claims).toEqual(['email']);
  });
});
