import { runCli } from '../src/cli.js';
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';
import { basic, postForm } from './support.js';

const clientCredentials = (hub: RunningHub, clientId: string, secret: string) =>
  postForm(`${hub.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic(clientId, secret) });

const SERVICE = { grantTypes: ['client_credentials' as const] };

/**
 * Rotating a client secret from the CLI and the console: at once (a leaked secret, as before), or
 * with an overlap during which the previous secret still works, ended early on request. Before,
 * every rotation stopped the old secret at once, and each subsite's token requests failed until it
 * was reconfigured.
 */
describe('client secret rotation with overlap: CLI and console (redis)', () => {
  let hub: RunningHub;
  const run = async (...argv: string[]) => {
    const lines: string[] = [];
    const code = await runCli(argv, { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX }, (line) => lines.push(line), (line) => lines.push(line));
    return { code, out: lines.join('\n') };
  };

  beforeAll(async () => {
    hub = await startTestHub('redis');
  });
  afterAll(() => hub.close());

  describe('clients rotate-secret (CLI)', () => {
    test('--overlap takes whole seconds above 0; refused otherwise with the reason, and nothing changes', async () => {
      const { clientSecret } = await hub.services.clients.register({ clientId: 'cli-rot', ...SERVICE });
      for (const bad of ['0', '-5', '1.5', 'abc', '', '1e3', '60s', '2592001', '9999999999']) {
        const refused = await run('clients', 'rotate-secret', 'cli-rot', `--overlap=${bad}`);
        expect(refused.code).not.toBe(0);
        expect(refused.out).toMatch(/--overlap takes a whole number of seconds above 0/);
      }
      expect((await clientCredentials(hub, 'cli-rot', clientSecret!)).status).toBe(200);
      const both = await run('clients', 'rotate-secret', 'cli-rot', '--overlap', '60', '--end-overlap');
      expect(both.out).toMatch(/--end-overlap and --overlap contradict each other/);
    });

    test('default: the old secret stops now; --overlap: until when; show says it; --end-overlap stops it; audited with the end', async () => {
      const { clientSecret: first } = await hub.services.clients.register({ clientId: 'cli-flow', ...SERVICE });
      const now = await run('clients', 'rotate-secret', 'cli-flow');
      expect(now.code).toBe(0);
      const second = /new client secret \(shown once\): (\S+)/.exec(now.out)![1]!;
      expect(now.out).toMatch(/the previous secret stopped working now/);
      expect(now.out).not.toContain(first!);

      const overlapped = await run('clients', 'rotate-secret', 'cli-flow', '--overlap', '3600');
      expect(overlapped.code).toBe(0);
      const third = /new client secret \(shown once\): (\S+)/.exec(overlapped.out)![1]!;
      const until = new Date((await hub.services.clients.findUncached('cli-flow'))!.previousSecret!.validUntil * 1000).toISOString();
      expect(overlapped.out).toContain(`the previous secret stays valid until ${until} (3600 s)`);
      const shown = await run('clients', 'show', 'cli-flow');
      expect(shown.out).toContain(`previous secret valid until ${until}`);
      expect(shown.out).toMatch(/secret: stored as a digest/);
      for (const secret of [second, third]) expect(shown.out).not.toContain(secret);

      const again = await run('clients', 'rotate-secret', 'cli-flow', '--overlap', '60');
      expect(again.out).toContain(`the secret replaced by the rotation before (valid until ${until}) stopped now`);

      const ended = await run('clients', 'rotate-secret', 'cli-flow', '--end-overlap');
      expect(ended.code).toBe(0);
      expect(ended.out).toMatch(/cli-flow: the previous secret stopped now/);
      expect((await run('clients', 'show', 'cli-flow')).out).not.toMatch(/previous secret valid until/);
      expect((await run('clients', 'rotate-secret', 'cli-flow', '--end-overlap')).out).toMatch(/no previous secret still valid/);
      expect((await run('clients', 'rotate-secret', 'cli-flow', '--end-overlap')).code).not.toBe(0);

      const audited = await hub.services.audit.search({ client: 'cli-flow' });
      expect(audited.filter((entry) => entry.event === 'admin.client.rotate-secret').map((entry) => entry.detail?.overlapEnds ?? null)).toEqual([expect.any(String), until, null]);
      expect(audited.some((entry) => entry.event === 'admin.client.end-secret-overlap')).toBe(true);
    });
  });

  describe('the console\'s rotate', () => {
    let admin: TestBrowser;
    const page = async (url: string) => {
      const response = await admin.get(url);
      const html = await response.text();
      return { status: response.status, html, csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '' };
    };

    beforeAll(async () => {
      await hub.services.users.create({ username: 'root', email: 'root@example.test', password: 'admin-password-1', roles: ['admin'] });
      admin = new TestBrowser();
      const login = await admin.follow(`${hub.url}/login?next=${encodeURIComponent('/admin')}`);
      const action = /action="(\/interaction\/[^"]+\/login)"/.exec(login.body)![1]!;
      const answer = await admin.post(`${hub.url}${action}`, { _csrf: inputValue(login.body, '_csrf'), login: 'root', password: 'admin-password-1' });
      await admin.follow(continueUrlOf(await answer.text(), hub.url));
    });

    test('with an overlap: the page says until when, the client page offers to stop it, which ends it; a bad overlap is refused in the page', async () => {
      const { clientSecret: old } = await hub.services.clients.register({ clientId: 'console-rot', ...SERVICE });
      const { csrf, html } = await page(`${hub.url}/admin/clients/console-rot`);
      expect(html).toContain('name="overlap"');
      expect(html).not.toContain('data-testid="secret-overlap"');

      const bad = await admin.post(`${hub.url}/admin/clients/console-rot/rotate-secret`, { _csrf: csrf, overlap: '-1' });
      expect(bad.status).toBe(400);
      expect(await bad.text()).toMatch(/data-testid="form-error"[^>]*>[^<]*The overlap is a whole number of seconds/);
      // An attacker's review had 317 years accepted: at most 30 days.
      const forever = await admin.post(`${hub.url}/admin/clients/console-rot/rotate-secret`, { _csrf: csrf, overlap: '9999999999' });
      expect(forever.status).toBe(400);
      expect(await forever.text()).toMatch(/at most 2592000 \(30 days\)/);
      expect((await clientCredentials(hub, 'console-rot', old!)).status).toBe(200);
      // CSRF-protected as every console form.
      expect((await admin.post(`${hub.url}/admin/clients/console-rot/rotate-secret`, { overlap: '600' })).status).toBe(403);
      expect((await admin.post(`${hub.url}/admin/clients/console-rot/end-secret-overlap`, {})).status).toBe(403);

      const rotated = await (await admin.post(`${hub.url}/admin/clients/console-rot/rotate-secret`, { _csrf: csrf, overlap: '600' })).text();
      const secret = /data-testid="client-secret">([^<]+)</.exec(rotated)![1]!;
      expect(rotated).toContain('data-testid="previous-secret-until"');
      expect(rotated).not.toContain('data-testid="old-secret-stopped"');
      expect(rotated).not.toContain(old!);
      expect((await clientCredentials(hub, 'console-rot', old!)).status).toBe(200);
      expect((await clientCredentials(hub, 'console-rot', secret)).status).toBe(200);

      const during = await page(`${hub.url}/admin/clients/console-rot`);
      expect(during.html).toContain('data-testid="secret-overlap"');
      expect(during.html).toContain('data-testid="end-secret-overlap"');
      expect(during.html).not.toContain(secret);
      const ended = await admin.post(`${hub.url}/admin/clients/console-rot/end-secret-overlap`, { _csrf: during.csrf });
      expect(ended.status).toBe(303);
      expect(ended.headers.get('location')).toBe('/admin/clients/console-rot?done=secret-overlap-ended');
      expect((await clientCredentials(hub, 'console-rot', old!)).status).toBe(401);
      expect((await clientCredentials(hub, 'console-rot', secret)).status).toBe(200);
      expect((await page(`${hub.url}/admin/clients/console-rot`)).html).not.toContain('data-testid="secret-overlap"');
      const events = (await hub.services.audit.search({ client: 'console-rot' })).map((entry) => [entry.event, entry.detail?.overlapEnds !== undefined]);
      expect(events).toEqual(expect.arrayContaining([['admin.client.rotate-secret', true], ['admin.client.end-secret-overlap', false]]));
    });
  });
});
