/**
 * The console's audit page goes on past its 200 entries: a full page links to the older entries
 * (an `until`), and following the links shows every matching entry once. Before, the page showed
 * the newest 200 with no word that there were more and no way on but typing an `until` by hand
 * (an exploratory review of the console, with 700 delivery retries in the log).
 */
import { Keys } from '../src/store/keys.js';
import type { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { pageWithCsrf, signedInAdmin } from './support.js';

const COUNT = 450;

describe('console audit page: older entries', () => {
  let hub: RunningHub;
  let admin: TestBrowser;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    const start = Date.now() - 3_600_000;
    // Three entries a millisecond, so a page's end falls inside a millisecond.
    await hub.store.zAddMany(
      new Keys(hub.config.KEY_PREFIX).auditLog(),
      Array.from({ length: COUNT }, (_, n) => {
        const at = start + Math.floor(n / 3);
        return { score: at, member: JSON.stringify({ id: `e-${n}`, at, event: 'delivery.retry', client: 'svc', subject: `s-${n}` }) };
      }),
    );
    admin = await signedInAdmin(hub);
  }, 60_000);
  afterAll(() => hub.close());

  test('a full page links to the older entries, and the pages show every entry once', async () => {
    const seen: string[] = [];
    let url: string | undefined = '/admin/audit?client=svc';
    for (let pages = 0; url && pages < 10; pages++) {
      const { html } = await pageWithCsrf(admin, `${hub.url}${url}`);
      seen.push(...[...html.matchAll(/data-testid="audit-subject"><code>(s-\d+)<\/code>/g)].map((m) => m[1]!));
      const next = /href="([^"]+)" data-testid="audit-next"/.exec(html);
      url = next?.[1]?.replace(/&amp;/g, '&');
    }
    expect(new Set(seen).size).toBe(COUNT);
    expect(seen).toHaveLength(COUNT);
  });
});
