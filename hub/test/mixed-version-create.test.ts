/**
 * A rolling update from 9a87e18: a hub of that version creates an account by claiming its
 * username (and address), then its uid, then writing the record, with no `user-creating:{id}`
 * marker. A create here of the same name at that moment found the claim naming no record and no
 * marker, took it over as a cut-off create's, and both creates succeeded: two accounts, the name
 * leading to this version's, the older one's account reachable by nobody's username (and its
 * address claim, when that failed, deleted this version's username claim).
 *
 * The older create is written here by hand, write by write, as 9a87e18's #insert does.
 */
import { MemoryStore } from '../src/store/memory.js';
import { ConflictError } from '../src/errors.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

describe('an account created on an older hub while this version creates the same name', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory', {}, new MemoryStore());
  });
  afterAll(() => hub.close());

  test('the older create, still at work (its claim made, its record not yet), keeps the name', async () => {
    const { users, store, keys } = hub.services;
    const oldId = 'b0b0b0b0-0000-4000-8000-000000000001';
    const username = 'racer1';
    // 9a87e18: the username claimed first (SET NX), no marker.
    expect(await store.set(keys.userByName(username), oldId, { onlyIfAbsent: true })).toBe(true);
    // ... then its uid and its record, a few round trips later.
    const olderFinishes = new Promise<void>((resolve) => {
      setTimeout(() => {
        void (async () => {
          const record = { id: oldId, username, email: 'racer1-old@example.test', name: username, passwordHash: `$2y$10$${'x'.repeat(53)}`, disabled: false, roles: [], createdAt: Math.floor(Date.now() / 1000), uid: 900001 };
          await store.set(keys.user(oldId), JSON.stringify(record), { onlyIfAbsent: true });
          await store.setAdd(keys.users(), oldId);
          resolve();
        })();
      }, 30);
    });
    const here = await users
      .importUser({ username, email: 'racer1-new@example.test', name: 'New', passwordHash: `$2y$10$${'y'.repeat(53)}`, roles: [] })
      .then(() => 'made', (error: unknown) => (error instanceof ConflictError ? 'taken' : String(error)));
    await olderFinishes;
    expect(here).toBe('taken');
    expect((await users.findByUsername(username))?.id).toBe(oldId);
    expect(await users.findByEmail('racer1-new@example.test')).toBeUndefined();
  });

  test('a claim an older create left for good (cut off before its record) is still taken over', async () => {
    const { users, store, keys } = hub.services;
    const oldId = 'b0b0b0b0-0000-4000-8000-000000000002';
    await store.set(keys.userByName('racer2'), oldId, { onlyIfAbsent: true });
    const made = await users.importUser({ username: 'racer2', email: 'racer2@example.test', name: 'New', passwordHash: `$2y$10$${'y'.repeat(53)}`, roles: [] });
    expect((await users.findByUsername('racer2'))?.id).toBe(made.id);
  });
});
