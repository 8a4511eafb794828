/**
 * Downloading the audit log (`/admin/audit.jsonl`) is recorded as the console's other actions are:
 * `admin.audit.export`, the admin and IP, and the filter as typed. The log holds every sign-in's
 * account and IP address; before, a stolen admin session could take it all and leave no trace
 * (a console review).
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { signedInAdmin } from './support.js';

describe('console: the audit export is audited', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory');
  }, 60_000);
  afterAll(() => hub.close());

  test('each download is an admin.audit.export entry with its filter, and nothing secret', async () => {
    const admin = await signedInAdmin(hub);
    const all = await admin.get(`${hub.url}/admin/audit.jsonl`);
    expect(all.status).toBe(200);
    await all.text();
    const filtered = await admin.get(`${hub.url}/admin/audit.jsonl?event=login&user=root&client=svc&since=2026-01-01T00:00&until=not-a-time`);
    expect(filtered.status).toBe(200);
    await filtered.text();
    const root = (await hub.services.users.findByLogin('root'))!;
    const exports = await hub.services.audit.search({ event: 'admin.audit.export' });
    expect(exports).toHaveLength(2);
    // Newest first.
    expect(exports[0]).toMatchObject({ actor: root.id, ip: expect.any(String), detail: { event: 'login', user: 'root', client: 'svc', since: '2026-01-01T00:00:00.000Z' } });
    expect(exports[0]!.detail).not.toHaveProperty('until');
    expect(exports[1]).toMatchObject({ actor: root.id, detail: {} });
    // The page itself (a view) records nothing.
    await (await admin.get(`${hub.url}/admin/audit`)).text();
    expect(await hub.services.audit.search({ event: 'admin.audit.export' })).toHaveLength(2);
  });
});
