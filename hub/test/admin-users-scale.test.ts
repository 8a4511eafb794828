/**
 * The console and the last-admin guards with more users than a page may read. Before, every view
 * of the users page walked every user (100,000 members: 2.5–3 s and 0.8 s of the hub's CPU per
 * view, measured on Redis), and each revocation or deletion of an admin walked the users until it
 * met another enabled admin (on average half of them). Now the users page reads at most
 * USERS_SCAN_LIMIT users and links to the next part, exact names are found through the indexes,
 * and the guards read the admins' set (`users:admins`), walking only where it finds no other admin.
 */
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, testStoreKinds, type RunningHub } from '../src/testing/test-hub.js';
import { USERS_SCAN_LIMIT } from '../src/admin/admin-users.js';
import { ConflictError } from '../src/errors.js';
import { Keys } from '../src/store/keys.js';
import type { Store } from '../src/store/store.js';
import { setAdminRole } from '../src/users/admin-role.js';
import { bootstrapAdmin } from '../src/users/bootstrap-admin.js';
import { LIST_BATCH } from '../src/users/user-repository.js';
import { ADMIN_ROLE } from '../src/users/user.js';

const MEMBERS = USERS_SCAN_LIMIT + 1_500;
const NEEDLE_EVERY = 1_000; // a member whose name holds "Needle": 22 of them, over both parts of the list
const LAST_ID = 'ffffffff-ffff-4fff-bfff-fffffffffff0'; // last in the embedded store's walk

/** The store, counting the records it reads (getMany's keys). */
function counting(store: Store): { store: Store; read: () => number; reset: () => void } {
  let read = 0;
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'getMany') return (keys: string[]) => ((read += keys.length), target.getMany(keys));
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, read: () => read, reset: () => (read = 0) };
}

/** MEMBERS plain records and their ids in the users' set, written in batches (their indexes are not needed: the walk reads records). */
async function fill(store: Store, keys: Keys): Promise<void> {
  const CHUNK = 1_000;
  for (let start = 0; start < MEMBERS; start += CHUNK) {
    const ids: string[] = [];
    const ops = [];
    for (let n = start; n < Math.min(MEMBERS, start + CHUNK); n += 1) {
      const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
      ids.push(id);
      const name = n % NEEDLE_EVERY === 0 ? `Needle ${n}` : `Member ${n}`;
      const user = { id, username: `member${n}`, email: `member${n}@forum.example`, name, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA', disabled: false, roles: [], createdAt: 1_700_000_000, uid: 10_000 + n };
      ops.push({ op: 'set' as const, key: keys.user(id), value: JSON.stringify(user), ttlSeconds: 600 });
    }
    await store.write(ops);
    await Promise.all(ids.map((id) => store.setAdd(keys.users(), id, 600)));
  }
}

async function signedInAdmin(hub: RunningHub, login: string, password: string): Promise<TestBrowser> {
  const admin = new TestBrowser();
  const page = await admin.follow(`${hub.url}/login?next=${encodeURIComponent('/admin')}`);
  const action = /action="(\/interaction\/[^"]+\/login)"/.exec(page.body)![1]!;
  const answer = await admin.post(`${hub.url}${action}`, { _csrf: inputValue(page.body, '_csrf'), login, password });
  await admin.follow(continueUrlOf(await answer.text(), hub.url));
  return admin;
}

const names = (html: string) => [...html.matchAll(/data-testid="user-link">([^<]+)</g)].map((match) => match[1]!);
const nextUrlOf = (html: string) => /href="([^"]+)" data-testid="users-next"/.exec(html)?.[1]?.replaceAll('&amp;', '&');

describe.each(testStoreKinds())('more users than a page reads (%s)', (kind) => {
  let hub: RunningHub;
  let reads: ReturnType<typeof counting>;
  let keys: Keys;
  let admin: TestBrowser;
  const password = 'admin-password-12';
  let ann: { id: string };
  let ben: { id: string };

  beforeAll(async () => {
    const { openTestStore } = await import('../src/testing/test-hub.js');
    reads = counting(await openTestStore(kind));
    hub = await startTestHub(kind, {}, reads.store);
    keys = new Keys(hub.config.KEY_PREFIX);
    await fill(hub.store, keys);
    // ann last in the embedded store's walk: a walk for "another enabled admin" reads every record before her.
    ann = await hub.services.users.create({ id: LAST_ID, username: 'ann', email: 'ann@example.test', password, roles: [ADMIN_ROLE] });
    ben = await hub.services.users.create({ username: 'ben', email: 'ben@example.test', password, roles: [ADMIN_ROLE] });
    await hub.services.users.create({ id: 'ffffffff-ffff-4fff-bfff-fffffffffff1', username: 'far-member', email: 'far@example.test', password });
    admin = await signedInAdmin(hub, 'ann', password);
  }, 120_000);
  afterAll(() => hub.close());

  test('the users page reads at most USERS_SCAN_LIMIT users and links to the next part; a search finds every match over the parts', async () => {
    await admin.get(`${hub.url}/admin/users`);
    reads.reset();
    const first = await admin.get(`${hub.url}/admin/users`);
    const html = await first.text();
    expect(first.status).toBe(200);
    // Before: every record, MEMBERS + 3 of them, for each view.
    expect(reads.read()).toBeLessThanOrEqual(USERS_SCAN_LIMIT + LIST_BATCH + 10);
    expect(html).toContain(`${MEMBERS + 3} users.`); // the count of all users, from the set's size
    expect(html).toContain('data-testid="users-stopped"');
    expect(names(html)).toHaveLength(200);
    expect(names(html)).toEqual([...names(html)].sort((a, b) => a.localeCompare(b)));

    // "needle" over every part: each match once, none missed.
    const found: string[] = [];
    let url: string | undefined = `/admin/users?q=needle`;
    let parts = 0;
    while (url) {
      reads.reset();
      const part = await admin.get(`${hub.url}${url}`);
      const body = await part.text();
      expect(part.status).toBe(200);
      expect(reads.read()).toBeLessThanOrEqual(USERS_SCAN_LIMIT + LIST_BATCH + 10);
      found.push(...names(body));
      url = nextUrlOf(body);
      parts += 1;
      expect(parts).toBeLessThan(10);
    }
    expect(parts).toBeGreaterThanOrEqual(2);
    const needles = Array.from({ length: Math.ceil(MEMBERS / NEEDLE_EVERY) }, (_, i) => `member${i * NEEDLE_EVERY}`);
    expect([...found].sort()).toEqual([...needles].sort());
  }, 60_000);

  test('an exact username, e-mail address or id is listed first wherever the walk would reach it', async () => {
    for (const q of ['far-member', 'far@example.test', 'ffffffff-ffff-4fff-bfff-fffffffffff1']) {
      const page = await admin.get(`${hub.url}/admin/users?q=${encodeURIComponent(q)}`);
      expect(names(await page.text())[0]).toBe('far-member');
    }
  });

  test('a position that is not one the page gave is read as the start, not an error', async () => {
    for (const from of ['>', '-1', '> x', '>abc', '99999999999999999999']) {
      const page = await admin.get(`${hub.url}/admin/users?from=${encodeURIComponent(from)}`);
      expect(page.status).toBe(200);
      // Redis reads from the start; the embedded store's positions are ids, so '>abc' goes on after 'abc'.
      expect(names(await page.text()).length).toBeGreaterThan(0);
    }
  });

  test('the last-admin guard reads the admins, not every user; without the admins\' set it walks once and fills it', async () => {
    const users = hub.services.users;
    reads.reset();
    await setAdminRole(hub.services, ben.id, false, { actor: ann.id });
    // Before: every record up to ann's, the last (the embedded store), or batches of LIST_BATCH until hers (Redis).
    expect(reads.read()).toBeLessThan(20);
    await setAdminRole(hub.services, ben.id, true, { actor: ann.id });

    // A deployment from before the set: no set at all. The answer is the same; the walk puts the admins in it.
    await hub.store.del(keys.admins());
    await setAdminRole(hub.services, ben.id, false, { actor: ann.id });
    expect((await hub.store.setMembers(keys.admins())).sort()).toEqual([ann.id].sort());
    await setAdminRole(hub.services, ben.id, true, { actor: ann.id });
    reads.reset();
    await setAdminRole(hub.services, ben.id, false, { actor: ann.id });
    expect(reads.read()).toBeLessThan(20);

    // The last enabled admin keeps the role, with or without the set, and an id left in the set
    // whose record is no admin any more (a revocation racing a grant) does not count.
    await hub.store.setAdd(keys.admins(), ben.id);
    await expect(setAdminRole(hub.services, ann.id, false, { actor: 'cli' })).rejects.toBeInstanceOf(ConflictError);
    await hub.store.del(keys.admins());
    await expect(setAdminRole(hub.services, ann.id, false, { actor: 'cli' })).rejects.toBeInstanceOf(ConflictError);
    expect((await users.findById(ann.id))?.roles).toContain(ADMIN_ROLE);
    await setAdminRole(hub.services, ben.id, true, { actor: ann.id });
  }, 60_000);

  test('admin bootstrap with an admin there reads the admins, not every user (before: every record, to refuse)', async () => {
    reads.reset();
    await expect(bootstrapAdmin(hub.services.users, { username: 'second-root' })).rejects.toThrow(/An admin already exists \((ann|ben)\); add more with users add --role admin/);
    expect(reads.read()).toBeLessThan(20);
    expect(await hub.services.users.findByLogin('second-root')).toBeUndefined();
  });

  test('a deleted admin leaves the set; a user made an admin by any path is in it', async () => {
    const users = hub.services.users;
    const cat = await users.create({ username: 'cat', email: 'cat@example.test', password, roles: [ADMIN_ROLE] });
    const dan = await users.create({ username: 'dan', email: 'dan@example.test', password });
    await users.update(dan.id, { roles: [ADMIN_ROLE] });
    expect(await hub.store.setMembers(keys.admins())).toEqual(expect.arrayContaining([cat.id, dan.id]));
    await users.delete(cat.id);
    expect(await hub.store.setMembers(keys.admins())).not.toContain(cat.id);
  });
});
