/**
 * The admin role of an existing user, given and taken in the console and with
 * `users grant-admin|revoke-admin` (an operator review: the only way to make another admin was
 * a new account, and an admin who left could be disabled but never lose the role).
 */
import { randomUUID } from 'node:crypto';
import type { TestBrowser } from '../src/testing/browser.js';
import { cliHarness } from '../src/testing/cli-harness.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';
import { connectRedis } from '../src/store/redis.js';
import { pageWithCsrf } from './support.js';

describe.each(STORE_KINDS)('the admin role in the console on %s', (kind) => {
  let hub: RunningHub;
  let root: TestBrowser;
  let rootId: string;
  let bobId: string;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    rootId = (await hub.services.users.create({ username: 'root', email: 'root@example.test', password: 'root-password-12', roles: ['admin'] })).id;
    bobId = (await hub.services.users.create({ username: 'bob', email: 'bob@example.test', password: 'bob-password-123' })).id;
    root = await signInAtPortal(hub, 'root', 'root-password-12');
  });
  afterAll(() => hub.close());

  test('an admin gives another user the role, which opens the console to them; taking it closes it at their next request, same session', async () => {
    const bob = await signInAtPortal(hub, 'bob', 'bob-password-123');
    expect((await bob.get(`${hub.url}/admin/users`)).status).toBe(403);

    const page = await pageWithCsrf(root, `${hub.url}/admin/users/${bobId}`);
    expect(page.html).toContain('data-testid="grant-admin"');
    expect(page.html).not.toContain('data-testid="revoke-admin"');
    const granted = await root.post(`${hub.url}/admin/users/${bobId}/grant-admin`, { _csrf: page.csrf });
    expect(granted.status).toBe(303);
    expect(granted.headers.get('location')).toBe(`/admin/users/${bobId}?done=admin-granted`);
    expect((await hub.services.users.findById(bobId))!.roles).toEqual(['admin']);
    expect((await bob.get(`${hub.url}/admin/users`)).status).toBe(200);

    const again = await pageWithCsrf(root, `${hub.url}/admin/users/${bobId}`);
    expect(again.html).toContain('data-testid="revoke-admin"');
    const revoked = await root.post(`${hub.url}/admin/users/${bobId}/revoke-admin`, { _csrf: again.csrf });
    expect(revoked.headers.get('location')).toBe(`/admin/users/${bobId}?done=admin-revoked`);
    expect((await hub.services.users.findById(bobId))!.roles).toEqual([]);
    expect((await bob.get(`${hub.url}/admin/users`)).status).toBe(403);

    const entries = await hub.services.audit.search({ event: 'admin.user.role' });
    expect(entries.map((entry) => [entry.actor, entry.subject, entry.detail?.admin])).toEqual(expect.arrayContaining([[rootId, bobId, true], [rootId, bobId, false]]));
  });

  test('without a CSRF token nothing changes; an admin cannot take their own role in the console', async () => {
    expect((await root.post(`${hub.url}/admin/users/${bobId}/grant-admin`, {})).status).toBe(403);
    expect((await hub.services.users.findById(bobId))!.roles).toEqual([]);
    const own = await pageWithCsrf(root, `${hub.url}/admin/users/${rootId}`);
    expect(own.html).not.toContain('data-testid="revoke-admin"');
    for (const target of [rootId, 'root']) {
      const refused = await root.post(`${hub.url}/admin/users/${target}/revoke-admin`, { _csrf: own.csrf });
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('another admin can');
    }
    expect((await hub.services.users.findById(rootId))!.roles).toEqual(['admin']);
  });
});

describe('users grant-admin|revoke-admin', () => {
  const prefix = `test:admin-role:${randomUUID()}:`;
  const { run, cleanUp } = cliHarness({ REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: prefix, HUB_ISSUER: 'http://hub.test' });
  afterAll(cleanUp);

  test('gives and takes the role, says when nothing changed, keeps the last enabled admin, and is audited', async () => {
    expect((await run('users', 'add', '--username', 'ada', '--email', 'ada@example.test', '--password', 'ada-password-123', '--role', 'admin')).code).toBe(0);
    expect((await run('users', 'add', '--username', 'cy', '--email', 'cy@example.test', '--password', 'cy-password-1234')).code).toBe(0);

    const last = await run('users', 'revoke-admin', 'ada');
    expect(last.code).not.toBe(0);
    expect(`${last.out}\n${last.warnings}`).toContain('ada is the only enabled admin');
    expect((await run('users', 'list')).out).toMatch(/ada\s+ada@example.test\s+active\s+\[admin\]/);

    const granted = await run('users', 'grant-admin', 'cy@example.test');
    expect(granted.code).toBe(0);
    expect(granted.out).toContain('cy is an admin now');
    expect((await run('users', 'grant-admin', 'cy')).out).toContain('cy is an admin already: nothing changed');

    const revoked = await run('users', 'revoke-admin', 'ada');
    expect(revoked.code).toBe(0);
    expect(revoked.out).toContain('ada is no longer an admin');
    expect((await run('users', 'revoke-admin', 'ada')).out).toContain('ada is not an admin: nothing changed');

    // A disabled admin does not count: cy, the one enabled admin, keeps the role.
    expect((await run('users', 'grant-admin', 'ada')).code).toBe(0);
    expect((await run('users', 'disable', 'ada')).code).toBe(0);
    expect((await run('users', 'revoke-admin', 'cy')).code).not.toBe(0);

    const unknown = await run('users', 'grant-admin', 'nobody');
    expect(unknown.code).not.toBe(0);
    expect(`${unknown.out}\n${unknown.warnings}`).toContain('No user nobody');

    const client = await connectRedis(TEST_REDIS_URL);
    const raw = await client.zRange(`${prefix}audit:log`, 0, -1);
    await client.quit();
    const roles = raw.map((entry) => JSON.parse(entry) as { event: string; actor?: string; detail?: { username?: string; admin?: boolean } })
      .filter((entry) => entry.event === 'admin.user.role')
      .map((entry) => [entry.actor, entry.detail?.username, entry.detail?.admin]);
    expect(roles).toEqual([['cli', 'cy', true], ['cli', 'ada', false], ['cli', 'ada', true]]);
  });
});
