/**
 * The audit export (`/admin/audit.jsonl`) goes at the reader's pace. Before, every entry was read
 * and written at once whatever the reader took: a reader that paused made the hub read the whole
 * log and hold it in memory (about 100 MB more for a 300,000-entry log), and one that went away
 * still had the whole log read for nobody (4 s of the hub's CPU at that size; a scale review).
 */
import { request } from 'node:http';
import { Keys } from '../src/store/keys.js';
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { countAuditReads } from './support.js';

const ENTRIES = 20_000;
const PADDING = 'x'.repeat(1_000); // about 20 MB in all: more than the socket buffers take

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(['memory', 'redis'] as const)('audit export and a slow reader on %s', (kind) => {
  let hub: RunningHub;
  let cookie: string;
  let reads: ReturnType<typeof countAuditReads>;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: 'root', email: 'root@example.test', password: 'admin-password-1', roles: ['admin'] });
    const keys = new Keys(hub.config.KEY_PREFIX);
    const start = Date.now() - 3_600_000;
    for (let from = 0; from < ENTRIES; from += 5_000) {
      await hub.store.zAddMany(
        keys.auditLog(),
        Array.from({ length: 5_000 }, (_, i) => {
          const at = start + from + i;
          return { score: at, member: JSON.stringify({ id: `e-${from + i}`, at, event: 'admin.client.update', client: 'svc', detail: { note: PADDING } }) };
        }),
      );
    }
    reads = countAuditReads(hub.store);
    const admin = new TestBrowser();
    const login = await admin.follow(`${hub.url}/login?next=${encodeURIComponent('/admin')}`);
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(login.body)![1]!;
    const answer = await admin.post(`${hub.url}${action}`, { _csrf: inputValue(login.body, '_csrf'), login: 'root', password: 'admin-password-1' });
    await admin.follow(continueUrlOf(await answer.text(), hub.url));
    cookie = [...admin.cookies(`${hub.url}/admin`)].map(([name, value]) => `${name}=${value}`).join('; ');
  }, 120_000);
  afterAll(() => hub.close());

  /** Opens the export; `onFirst` gets the response and the request at its first bytes. */
  function open(onFirst: (res: import('node:http').IncomingMessage, req: import('node:http').ClientRequest) => void): void {
    const req = request(`${hub.url}/admin/audit.jsonl?client=svc`, { agent: false, headers: { cookie, 'sec-fetch-mode': 'navigate' } }, (res) => {
      expect(res.statusCode).toBe(200);
      res.once('data', () => onFirst(res, req));
    });
    req.on('error', () => {});
    req.end();
  }

  test('a paused reader: the hub reads on only as it takes them, and then it gets them all', async () => {
    reads.reset();
    let paused!: import('node:http').IncomingMessage;
    await new Promise<void>((resolve) => open((res) => ((paused = res), res.pause(), resolve())));
    await sleep(2_500);
    // Before: all 20,000 read (and held in the hub's memory) within the wait.
    expect(reads.read()).toBeLessThan(ENTRIES / 2);
    // Resumed, it gets every entry, once.
    let text = '';
    paused.setEncoding('utf8');
    paused.on('data', (chunk: string) => (text += chunk));
    paused.resume();
    await new Promise((resolve) => paused.once('end', resolve));
    // The first chunk was taken before the pause: count lines from the ids it ends with.
    const ids = new Set([...text.matchAll(/"id":"(e-\d+)"/g)].map((match) => match[1]));
    expect(ids.has('e-0')).toBe(true);
    expect(ids.size).toBeGreaterThan(ENTRIES - 200);
  }, 60_000);

  test('a reader that goes away: the hub stops reading', async () => {
    reads.reset();
    await new Promise<void>((resolve) => open((res, req) => (res.pause(), req.destroy(), resolve())));
    await sleep(2_500);
    // Before: the whole log was still read, for nobody.
    expect(reads.read()).toBeLessThan(ENTRIES / 2);
  }, 60_000);
});
