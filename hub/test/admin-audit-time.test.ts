/**
 * The audit page's `since` and `until` are read as UTC, the time zone the page shows its times
 * in, whatever the server's: before, a time without an offset was read in the server's zone (on a
 * hub with TZ=Asia/Shanghai, `since=2026-12-07T10:00` searched from 02:00 UTC and showed eight
 * hours of older entries). A value that is not a time is said on the page, not silently dropped.
 */
import { Keys } from '../src/store/keys.js';
import type { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { pageWithCsrf, signedInAdmin } from './support.js';

describe('console audit page: times typed without an offset', () => {
  let hub: RunningHub;
  let admin: TestBrowser;
  // jest gives each file a copy of process.env: the time zone is the real process's, reached
  // through a function of Node's own realm (Buffer is Node's).
  const realEnv = (Buffer.constructor as FunctionConstructor)('return process.env')() as NodeJS.ProcessEnv;
  const zone = realEnv.TZ;
  // Yesterday (UTC), well inside the log's retention.
  const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const noon = Date.parse(`${day}T12:00:00Z`);

  beforeAll(async () => {
    realEnv.TZ = 'Asia/Shanghai'; // Node reads a TZ set at run time
    expect(new Date(Date.UTC(2026, 0, 31, 12)).getHours()).toBe(20);
    hub = await startTestHub('memory');
    // One entry an hour from 00:00 to 23:00 UTC yesterday.
    await hub.store.zAddMany(
      new Keys(hub.config.KEY_PREFIX).auditLog(),
      Array.from({ length: 24 }, (_, h) => {
        const at = noon + (h - 12) * 3_600_000;
        return { score: at, member: JSON.stringify({ id: `h-${h}`, at, event: 'delivery.retry', client: 'svc', subject: `s-${h}` }) };
      }),
    );
    admin = await signedInAdmin(hub);
  }, 60_000);
  afterAll(async () => {
    await hub.close();
    if (zone === undefined) delete realEnv.TZ;
    else realEnv.TZ = zone;
  });

  const subjects = (html: string) => [...html.matchAll(/data-testid="audit-subject"><code>(s-\d+)<\/code>/g)].map((m) => m[1]!);

  test.each(['T10:00', ' 10:00:00', 'T10:00Z', 'T18:00+08:00'])('since=DAY%s starts at 10:00 UTC', async (time) => {
    const { html } = await pageWithCsrf(admin, `${hub.url}/admin/audit?client=svc&since=${encodeURIComponent(day + time)}&until=${encodeURIComponent(`${day}T11:00`)}`);
    expect(subjects(html).sort()).toEqual(['s-10', 's-11']);
    expect(html).not.toContain('data-testid="audit-unread-time"');
  });

  test('a value that is not a time is said', async () => {
    const { html } = await pageWithCsrf(admin, `${hub.url}/admin/audit?client=svc&since=yesterday-ish`);
    expect(html).toContain('data-testid="audit-unread-time"');
    expect(subjects(html)).toHaveLength(24);
  });
});
