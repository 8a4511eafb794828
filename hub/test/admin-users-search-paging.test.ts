/**
 * A search whose words are also an account's exact name (a console review with 301 "bob"s): the
 * exact account heads the first page, and the pages after it go on by username without it.
 * Before, "bob" came again on the second page in its place among the rest (302 rows for 301
 * matches) and that page said "Showing 200–301", the 200th row counted twice.
 */
import { TestBrowser } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { legacyHashFrom } from '../src/users/legacy-hash.js';
import { pageWithCsrf } from './support.js';

const OTHERS = 300;

describe('admin users search over several pages', () => {
  let hub: RunningHub;
  let admin: TestBrowser;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.users.create({ username: 'root', email: 'root@example.test', password: 'admin-password-1', roles: ['admin'] });
    const hash = legacyHashFrom('0'.repeat(32), 's')!;
    await hub.services.users.importUser({ username: 'bob', email: 'bob@example.test', name: '鲍勃', passwordHash: hash, uid: 5 });
    for (let n = 0; n < OTHERS; n += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => hub.services.users.importUser({ username: `aabob${String(n + i).padStart(3, '0')}`, email: `m${n + i}@forum.example`, name: `张三${n + i}`, passwordHash: hash, uid: 1000 + n + i })));
    }
    admin = await signInAtPortal(hub, 'root', 'admin-password-1', new TestBrowser(), '/admin');
  }, 60_000);
  afterAll(() => hub.close());

  const names = (html: string) => [...html.matchAll(/data-testid="user-link">([^<]+)</g)].map((match) => match[1]!);

  test.each(['bob', 'bob@example.test'])('searching %s: the exact account first, then every other match once, with ranges that add up', async (q) => {
    const seen: string[] = [];
    const ranges: string[] = [];
    let url: string | undefined = `${hub.url}/admin/users?q=${encodeURIComponent(q)}`;
    for (let pages = 0; url && pages < 5; pages += 1) {
      const { status, html } = await pageWithCsrf(admin, url);
      expect(status).toBe(200);
      seen.push(...names(html));
      ranges.push(/data-testid="users-more">Showing ([^ ]+) of/.exec(html)?.[1] ?? '');
      const more = /href="([^"]+)" data-testid="users-more-link"/.exec(html)?.[1];
      url = more ? `${hub.url}${more.replaceAll('&amp;', '&')}` : undefined;
    }
    const expected = q === 'bob' ? OTHERS + 1 : 1;
    expect(seen[0]).toBe('bob');
    expect(seen.filter((name) => name === 'bob')).toHaveLength(1);
    expect(seen).toHaveLength(expected);
    if (q === 'bob') expect(ranges).toEqual(['1–200', `201–${OTHERS + 1}`]);
  });

  test('a page past the last one (an old link, an edited `after`) says so and links to the first page; before, an empty table under "302 users." and nothing else', async () => {
    for (const [url, first] of [['/admin/users?after=zzz', '/admin/users'], ['/admin/users?q=bob&after=zzz', '/admin/users?q=bob']] as const) {
      const { status, html } = await pageWithCsrf(admin, `${hub.url}${url}`);
      expect(status).toBe(200);
      expect(names(html)).toEqual([]);
      expect(html).toMatch(/data-testid="users-past-end">No users here come after “zzz” by username/);
      expect(html).toContain(`<a href="${first.replace('&', '&amp;')}" data-testid="users-first">Back to the first page</a>`);
    }
    // In zh-CN too, and a search with no match at all is no page past the end.
    admin.cookies(hub.url).set('lang', 'zh-CN');
    const zh = await pageWithCsrf(admin, `${hub.url}/admin/users?after=zzz`);
    admin.cookies(hub.url).delete('lang');
    expect(zh.html).toContain('这里没有排在“zzz”之后的用户');
    expect(zh.html).toContain('回到第一页');
    expect((await pageWithCsrf(admin, `${hub.url}/admin/users?q=nobody-at-all&after=zzz`)).html).not.toContain('users-past-end');
  });
});
