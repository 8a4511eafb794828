/**
 * The console's audit page with a long log: a search bounded by `until` starts there (the store's
 * score range), and a filter that matches nothing stops after AUDIT_SCAN_LIMIT entries, says so
 * and links to the same search from there on. Before, either read the whole log per page view
 * (1 to 2 s at 200,000 entries).
 */
import { AUDIT_SCAN_LIMIT } from '../src/audit/audit-log.js';
import { Keys } from '../src/store/keys.js';
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { countAuditReads, pageWithCsrf } from './support.js';

const FLOOD = AUDIT_SCAN_LIMIT + 5_000;

describe.each(['memory', 'redis'] as const)('console audit page with a long log on %s', (kind) => {
  let hub: RunningHub;
  let admin: TestBrowser;
  let reads: ReturnType<typeof countAuditReads>;
  const start = Date.now() - 3_600_000; // an hour ago: the flood is older than anything the test does

  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: 'root', email: 'root@example.test', password: 'admin-password-1', roles: ['admin'] });
    const keys = new Keys(hub.config.KEY_PREFIX);
    // Two entries a millisecond, so the scan limit falls inside a millisecond.
    for (let from = 0; from < FLOOD; from += 5_000) {
      await hub.store.zAddMany(
        keys.auditTokens(),
        Array.from({ length: 5_000 }, (_, i) => {
          const n = from + i;
          const at = start + Math.floor(n / 2);
          return { score: at, member: JSON.stringify({ id: `flood-${n}`, at, event: 'token.issued', client: 'svc' }) };
        }),
      );
    }
    reads = countAuditReads(hub.store);
    admin = new TestBrowser();
    const login = await admin.follow(`${hub.url}/login?next=${encodeURIComponent('/admin')}`);
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(login.body)![1]!;
    const answer = await admin.post(`${hub.url}${action}`, { _csrf: inputValue(login.body, '_csrf'), login: 'root', password: 'admin-password-1' });
    await admin.follow(continueUrlOf(await answer.text(), hub.url));
  }, 120_000);
  afterAll(() => hub.close());

  const shown = (html: string) => [...html.matchAll(/data-testid="audit-entry" data-event="([^"]*)"/g)].length;

  test('an `until` reads from there on, not the newer entries first', async () => {
    const until = new Date(start + 99).toISOString(); // the 200 oldest entries are at or before it
    reads.reset();
    const { html } = await pageWithCsrf(admin, `${hub.url}/admin/audit?until=${encodeURIComponent(until)}&client=svc`);
    expect(shown(html)).toBe(200);
    expect(html).not.toContain('data-testid="audit-stopped"');
    // Before: every entry newer than `until` was read (25,000 of the flood) to be skipped.
    expect(reads.read()).toBeLessThan(1_000);
  });

  test('a filter that matches nothing stops at the scan limit, says so, and goes on from there', async () => {
    reads.reset();
    const first = await pageWithCsrf(admin, `${hub.url}/admin/audit?client=nothing-here`);
    expect(shown(first.html)).toBe(0);
    expect(first.html).toContain('data-testid="audit-stopped"');
    // The limit, and the rest of the millisecond it fell in (two entries a millisecond here).
    expect(Number(/after examining (\d+) entries/.exec(first.html)?.[1])).toBeGreaterThanOrEqual(AUDIT_SCAN_LIMIT);
    expect(Number(/after examining (\d+) entries/.exec(first.html)?.[1])).toBeLessThanOrEqual(AUDIT_SCAN_LIMIT + 1);
    // Before: the whole log (25,000 and more) was read.
    expect(reads.read()).toBeLessThan(AUDIT_SCAN_LIMIT + 2_000);
    const older = /data-testid="audit-older" href="([^"]+)"|href="([^"]+)" data-testid="audit-older"/.exec(first.html)!;
    const olderUrl = (older[1] ?? older[2]!).replace(/&amp;/g, '&');
    expect(olderUrl).toMatch(/^\/admin\/audit\?client=nothing-here&until=/);
    reads.reset();
    const second = await pageWithCsrf(admin, `${hub.url}${olderUrl}`);
    expect(shown(second.html)).toBe(0);
    expect(second.html).not.toContain('data-testid="audit-stopped"');
    expect(reads.read()).toBeLessThan(FLOOD - AUDIT_SCAN_LIMIT + 1_000);
  });
});
