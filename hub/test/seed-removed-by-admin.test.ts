/**
 * A seed never brings back what an admin removed, also when the file is applied for the first time
 * after the removal: a client registered with `clients add` and removed with `clients remove`, a
 * user added and deleted (CLI, console, the owner's own deletion), a UCenter application removed.
 * Before, `seed:applied` held only what a seed had created or found, so an entry made by hand,
 * removed, and then listed in a seed run (`npm run hub -- seed FILE`, or a hub started with
 * `HUB_SEED_FILE`) was created again: the removed subsite registered again with a new secret,
 * the deleted account back with the file's password (an operator review on a live store).
 */
import { parseSeed, applySeed } from '../src/seed.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const SEED = parseSeed(`
users:
  - username: Gone-User
    email: gone@example.test
    password: seeded-password-long-1
clients:
  - clientId: gone-app
    redirectUris: [http://gone.test/cb]
ucenterApps:
  - appId: 7
    name: Gone forum
    url: http://gone-forum.test
    key: seeded-uc-key-0123456789abcdefghijklmnopqrstuvwxyz
`);

describe('a seed applied after an admin removed its entries by hand', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory');
  }, 60_000);
  afterAll(() => hub.close());

  test('the removed client, user and UCenter application are left removed', async () => {
    const { clients, users, ucenterApps, lifecycle } = hub.services;
    await clients.register({ clientId: 'gone-app', name: 'Gone', redirectUris: ['http://gone.test/cb'] });
    await clients.remove('gone-app');
    const user = await users.create({ username: 'gone-user', email: 'other@example.test', password: 'by-hand-password-long-1' });
    await lifecycle.delete(user.id, { actor: 'cli' });
    await ucenterApps.put({ appId: 7, name: 'Gone forum', url: 'http://gone-forum.test', key: 'by-hand-uc-key-0123456789abcdefghijklmnopqrstuvwxyz' });
    await ucenterApps.remove(7);

    const report = await applySeed(SEED, hub.services);
    expect(report.created).toEqual([]);
    expect(report.skipped.sort()).toEqual(['client:gone-app', 'ucenter:7', 'user:gone-user']);
    expect(await clients.findUncached('gone-app')).toBeUndefined();
    expect(await users.findByLogin('gone-user')).toBeUndefined();
    expect(await ucenterApps.find(7)).toBeUndefined();
  });

  test('entries no admin removed are created as before', async () => {
    const report = await applySeed(parseSeed(`
clients:
  - clientId: new-app
    redirectUris: [http://new.test/cb]
`), hub.services);
    expect(report.created).toEqual(['client:new-app']);
  });
});
