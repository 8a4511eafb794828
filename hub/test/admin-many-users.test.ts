/**
 * The console with a forum's worth of users (an attacker's review: with 300,000 imported members
 * the overview and the users page read every record in one store command, answered 503 after the
 * store's 2 s deadline, and made the sign-in page of everyone else a 503 in those seconds). Users
 * are now walked a batch at a time; no store command reads more than LIST_BATCH records.
 */
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { MemoryStore } from '../src/store/memory.js';
import { legacyHashFrom } from '../src/users/legacy-hash.js';
import { LIST_BATCH } from '../src/users/user-repository.js';
import { pageWithCsrf } from './support.js';

const MEMBERS = 1_250;

class WatchedStore extends MemoryStore {
  largestRead = 0;
  /** Records read (getMany keys) and set walks (setScan calls), to tell a count from a walk. */
  recordsRead = 0;
  scans = 0;
  override async setScan(key: string, cursor: string, count: number): Promise<{ cursor: string; members: string[] }> {
    this.scans += 1;
    return super.setScan(key, cursor, count);
  }
  override async getMany(keys: string[]): Promise<(string | null)[]> {
    this.largestRead = Math.max(this.largestRead, keys.length);
    this.recordsRead += keys.length;
    return super.getMany(keys);
  }
}

describe('admin console with many users', () => {
  let hub: RunningHub;
  let store: WatchedStore;
  let admin: TestBrowser;

  beforeAll(async () => {
    store = new WatchedStore();
    hub = await startTestHub('memory', {}, store);
    await hub.services.users.create({ username: 'root', email: 'root@example.test', password: 'admin-password-1', roles: ['admin'] });
    const hash = legacyHashFrom('0'.repeat(32), 's')!;
    for (let n = 0; n < MEMBERS; n += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => hub.services.users.importUser({ username: `member${String(n + i).padStart(4, '0')}`, email: `member${n + i}@forum.example`, passwordHash: hash, uid: 1000 + n + i })));
    }
    admin = new TestBrowser();
    const login = await admin.follow(`${hub.url}/login?next=${encodeURIComponent('/admin')}`);
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(login.body)![1]!;
    const answer = await admin.post(`${hub.url}${action}`, { _csrf: inputValue(login.body, '_csrf'), login: 'root', password: 'admin-password-1' });
    await admin.follow(continueUrlOf(await answer.text(), hub.url));
  }, 60_000);
  afterAll(() => hub.close());

  test('the overview counts the users with one set-size read, not a walk of their records', async () => {
    await admin.get(`${hub.url}/admin`); // anything the first page reads once (the session, the admin) read already
    store.scans = 0;
    store.recordsRead = 0;
    const overview = await admin.get(`${hub.url}/admin`);
    expect(overview.status).toBe(200);
    expect(await overview.text()).toContain(`<a href="/admin/users">${MEMBERS + 1}</a>`);
    // Before, the count walked every user: ceil(1,251 / LIST_BATCH) scans and 1,251 records read.
    expect(store.scans).toBe(0);
    expect(store.recordsRead).toBeLessThan(50);
  });

  test('more than 200 users: the page says it shows the first 200 and links on to the next 200, to the last (an exploratory review: "267 users." with 200 rows, the rest unreachable but by search)', async () => {
    const seen: string[] = [];
    let url: string | undefined = `${hub.url}/admin/users?q=member`;
    for (let pages = 0; url && pages < 20; pages += 1) {
      const { status, html } = await pageWithCsrf(admin, url);
      expect(status).toBe(200);
      const names = [...html.matchAll(/data-testid="user-link">([^<]+)</g)].map((match) => match[1]!);
      seen.push(...names);
      const more = /data-testid="users-more">([^<]*)<a href="([^"]+)"/.exec(html);
      if (seen.length < MEMBERS) {
        expect(more?.[1]).toContain(`${seen.length - names.length + 1}–${seen.length} of ${MEMBERS}`);
        url = `${hub.url}${more![2]!.replaceAll('&amp;', '&')}`;
      } else {
        expect(more).toBeNull();
        url = undefined;
      }
    }
    expect(seen).toHaveLength(MEMBERS);
    expect(new Set(seen).size).toBe(MEMBERS);
    expect(seen[200]).toBe('member0200');
    expect(seen.at(-1)).toBe(`member${MEMBERS - 1}`);
    // A list that fits on one page says nothing of the kind.
    expect((await pageWithCsrf(admin, `${hub.url}/admin/users?q=member12`)).html).not.toContain('data-testid="users-more"');
  });

  test('the overview counts them and the users page lists the first 200 by name, with no store command reading them all', async () => {
    store.largestRead = 0;
    const overview = await admin.get(`${hub.url}/admin`);
    expect(overview.status).toBe(200);
    expect(await overview.text()).toContain(`<a href="/admin/users">${MEMBERS + 1}</a>`);
    const users = await pageWithCsrf(admin, `${hub.url}/admin/users`);
    expect(users.status).toBe(200);
    expect(users.html).toContain(`${MEMBERS + 1} users.`);
    const names = [...users.html.matchAll(/data-testid="user-link">([^<]+)</g)].map((match) => match[1]);
    expect(names).toHaveLength(200);
    expect(names[0]).toBe('member0000');
    expect(names[199]).toBe('member0199');
    const search = await pageWithCsrf(admin, `${hub.url}/admin/users?q=member12`);
    expect(search.html).toContain('users matching');
    expect([...search.html.matchAll(/data-testid="user-link">([^<]+)</g)].map((match) => match[1])).toEqual(
      [...Array(MEMBERS).keys()].filter((n) => String(n).padStart(4, '0').startsWith('12') || String(n).startsWith('12')).map((n) => `member${String(n).padStart(4, '0')}`).sort(),
    );
    expect(store.largestRead).toBeGreaterThan(0);
    expect(store.largestRead).toBeLessThanOrEqual(LIST_BATCH);
    // The whole list is still there, in the same order, for the CLI.
    const all = await hub.services.users.list();
    expect(all).toHaveLength(MEMBERS + 1);
    expect(all.map((user) => user.username)).toEqual([...all.map((user) => user.username)].sort((a, b) => a.localeCompare(b)));
    expect(store.largestRead).toBeLessThanOrEqual(LIST_BATCH);
  });
});
