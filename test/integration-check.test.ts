import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createSubsiteKit } from '@sso-hub/subsite-kit';
import { startTestHub, type RunningHub } from '../hub/src/testing/test-hub.js';

/** The hub's on-demand check of a subsite's sync integration, against real kit sites over HTTP. */
describe('hub integration check (test sync with act=test)', () => {
  let hub: RunningHub;
  const servers: Server[] = [];

  async function listen(app: express.Express): Promise<string> {
    const server = createServer(app);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Registers a subsite at the hub and runs a kit for it, with the given sync key (or the hub's). */
  async function site(id: string, options: { syncKey?: string; syncPath?: string } = {}) {
    const app = express();
    const url = await listen(app);
    const client = await hub.services.clients.register({
      clientId: id,
      redirectUris: [`${url}/sso/callback`],
      syncLoginUrl: `${url}${options.syncPath ?? '/sso/synclogin'}`,
      syncLogoutUrl: `${url}${options.syncPath ?? '/sso/synclogout'}`,
    });
    const logs: string[] = [];
    const sso = await createSubsiteKit({
      hubUrl: hub.url,
      clientId: id,
      clientSecret: client.clientSecret!,
      redirectUri: `${url}/sso/callback`,
      syncKey: options.syncKey ?? client.sync!.key,
      sessionSecret: 'a-session-secret-for-tests-0123456789abcdef',
      logger: { warn: (line) => logs.push(line) },
    });
    app.use(sso.router);
    return { url, logs };
  }

  beforeAll(async () => { hub = await startTestHub('memory'); });
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await hub.close();
  });

  test('the right key → OK on both endpoints', async () => {
    await site('good');
    const report = await hub.services.integration.check('good');
    expect(report.ok).toBe(true);
    expect(report.checks.map((check) => [check.endpoint, check.status])).toEqual([['synclogin', 'ok'], ['synclogout', 'ok']]);
  });

  test('a subsite configured with the wrong sync key → "wrong key", and the subsite logs why', async () => {
    const { logs } = await site('wrongkey', { syncKey: 'a-sync-key-the-hub-never-issued-0123456789' });
    const report = await hub.services.integration.check('wrongkey');
    expect(report.ok).toBe(false);
    expect(report.checks.map((check) => check.status)).toEqual(['wrong_key', 'wrong_key']);
    expect(logs.join('\n')).toContain('signature does not match the sync key');
  });

  test('sync URLs that the subsite does not serve → "wrong URL (404)"', async () => {
    await site('wrongurl', { syncPath: '/sync-here' });
    const report = await hub.services.integration.check('wrongurl');
    expect(report.checks.map((check) => [check.status, check.httpStatus])).toEqual([['wrong_url', 404], ['wrong_url', 404]]);
  });

  test('nothing listening → "unreachable" with the network error\'s code', async () => {
    const { url } = await site('down');
    const server = servers.pop()!;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const report = await hub.services.integration.check('down');
    expect(report.checks.map((check) => check.status)).toEqual(['unreachable', 'unreachable']);
    expect(report.checks[0]!.detail).toContain('ECONNREFUSED');
    expect(report.checks[0]!.url).toBe(`${url}/sso/synclogin`); // never the code
  });

  test('--base-url: sync URLs on a browser-only host are checked on the server address', async () => {
    const { url } = await site('browserhost');
    await hub.services.clients.update('browserhost', { syncLoginUrl: 'http://bbs.sso.localhost:1/sso/synclogin', syncLogoutUrl: 'http://bbs.sso.localhost:1/sso/synclogout' });
    expect((await hub.services.integration.check('browserhost')).checks[0]!.status).toBe('unreachable');
    expect((await hub.services.integration.check('browserhost', url)).ok).toBe(true);
  });
});
