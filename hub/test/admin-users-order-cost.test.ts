/**
 * The console's users page orders by username only the users it shows. Before, it sorted every
 * user of the part it read (up to USERS_SCAN_LIMIT, 20,000) with the username collation to show
 * 200: about 280,000 comparisons, 60 to 100 ms of the event loop per view (a scale review: a
 * health check waited up to 107 ms meanwhile). The collation is counted here: the test counts
 * `Intl.Collator` comparisons made while the page is built.
 */
import type { RunningHub } from '../src/testing/test-hub.js';
import type { TestBrowser } from '../src/testing/browser.js';

const RealCollator = Intl.Collator;
let compared = 0;
// Before the hub's modules load: the users' order is a collator made at import.
Intl.Collator = function (this: unknown, ...args: ConstructorParameters<typeof Intl.Collator>) {
  const collator = new RealCollator(...args);
  const compare = collator.compare.bind(collator);
  return Object.defineProperty(Object.create(collator) as Intl.Collator, 'compare', { value: (a: string, b: string) => ((compared += 1), compare(a, b)) });
} as unknown as typeof Intl.Collator;
Intl.Collator.supportedLocalesOf = RealCollator.supportedLocalesOf;

const { startTestHub } = await import('../src/testing/test-hub.js');
const { USERS_SCAN_LIMIT } = await import('../src/admin/admin-users.js');
const { Keys } = await import('../src/store/keys.js');
const { TestBrowser: Browser, inputValue } = await import('../src/testing/browser.js');
const { continueUrlOf } = await import('../src/testing/flows.js');

const MEMBERS = USERS_SCAN_LIMIT - 100; // one part: the whole list on one page's walk
const order = new RealCollator();
/** The usernames in a scrambled order (the store's walk is in no order of names). */
const usernames = Array.from({ length: MEMBERS }, (_, n) => `member${(n * 7_919) % MEMBERS}`);

describe('users page at USERS_SCAN_LIMIT users', () => {
  let hub: RunningHub;
  let admin: TestBrowser;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.users.create({ username: 'root', email: 'root@example.test', password: 'admin-password-1', roles: ['admin'] });
    const keys = new Keys(hub.config.KEY_PREFIX);
    for (let start = 0; start < MEMBERS; start += 1_000) {
      const ops = [];
      const ids: string[] = [];
      for (let n = start; n < Math.min(MEMBERS, start + 1_000); n += 1) {
        const id = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
        ids.push(id);
        const user = { id, username: usernames[n], email: `${usernames[n]}@forum.example`, name: `Member ${n}`, passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA', disabled: false, roles: [], createdAt: 1_700_000_000, uid: 10_000 + n };
        ops.push({ op: 'set' as const, key: keys.user(id), value: JSON.stringify(user) });
      }
      await hub.store.write(ops);
      await Promise.all(ids.map((id) => hub.store.setAdd(keys.users(), id)));
    }
    admin = new Browser();
    const page = await admin.follow(`${hub.url}/login?next=${encodeURIComponent('/admin')}`);
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(page.body)![1]!;
    const answer = await admin.post(`${hub.url}${action}`, { _csrf: inputValue(page.body, '_csrf'), login: 'root', password: 'admin-password-1' });
    await admin.follow(continueUrlOf(await answer.text(), hub.url));
  }, 120_000);
  afterAll(async () => {
    await hub.close();
    Intl.Collator = RealCollator;
  });

  const listed = (html: string) => [...html.matchAll(/<a href="\/admin\/users\/[^"]+" data-testid="user-link">([^<]+)<\/a>/g)].map((match) => match[1]!);

  test('the first page and the next: the same users in the same order, about one comparison per user', async () => {
    const all = [...usernames, 'root'].sort((a, b) => order.compare(a, b));
    compared = 0;
    const first = await admin.follow(`${hub.url}/admin/users`);
    // Before: a sort of all of them (about 280,000 comparisons at 20,000 users).
    expect(compared).toBeLessThan(3 * MEMBERS);
    expect(listed(first.body)).toEqual(all.slice(0, 200));
    const more = /href="(\/admin\/users\?[^"]*after=[^"]+)"/.exec(first.body)![1]!.replaceAll('&amp;', '&');
    compared = 0;
    const second = await admin.follow(`${hub.url}${more}`);
    expect(compared).toBeLessThan(4 * MEMBERS);
    expect(listed(second.body)).toEqual(all.slice(200, 400));
  }, 60_000);
});
