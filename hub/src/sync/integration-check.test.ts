import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientRegistry } from '../clients/client-registry.js';
import { Keys } from '../store/keys.js';
import { MemoryStore } from '../store/memory.js';
import { IntegrationCheck } from './integration-check.js';

describe('Test sync (the integration check)', () => {
  let server: Server;
  let port: number;
  const hosts: string[] = [];

  beforeAll(async () => {
    // A subsite that verifies nothing and says ok: what is checked here is that the hub reaches it.
    server = createServer((req, res) => {
      hosts.push(req.headers.host ?? '');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"sync":"ok"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('RFC 6761 §6.3: a subsite on a *.localhost name, which browsers reach, is reached (not "unreachable ENOTFOUND")', async () => {
    const store = new MemoryStore();
    const clients = new ClientRegistry(store, new Keys('t:'));
    const site = `http://site1.sso.localhost:${port}`;
    await clients.register({
      clientId: 'site1',
      redirectUris: [`${site}/sso/callback`],
      syncLoginUrl: `${site}/sso/synclogin`,
      syncLogoutUrl: `${site}/sso/synclogout`,
      userdeleteUrl: `${site}/sso/userdelete`,
    });
    const check = new IntegrationCheck(clients, { issuer: 'http://hub.sso.localhost:4000', keyOverlapSeconds: 86_400, timeoutMs: 2_000 });
    const report = await check.check('site1');
    expect(report.checks.map(({ endpoint, status, detail }) => ({ endpoint, status, detail }))).toEqual([
      { endpoint: 'synclogin', status: 'ok', detail: 'the subsite verified the test code' },
      { endpoint: 'synclogout', status: 'ok', detail: 'the subsite verified the test code' },
    ]);
    expect(report.ok).toBe(true);
    expect(hosts).toEqual([`site1.sso.localhost:${port}`, `site1.sso.localhost:${port}`]);
    await store.close();
  });

  test('Mixed Content §4.3: an http sync URL under an https hub is reported, though the server-to-server call works', async () => {
    // Browsers block (or upgrade to https) an http image or script on the hub's https sync
    // page, so the beacons never reach such a subsite; the check said OK since it calls the
    // subsite from the server, where nothing blocks http.
    const store = new MemoryStore();
    const clients = new ClientRegistry(store, new Keys('t:'));
    for (const [clientId, site] of [['plain', 'http://bbs.example.com'], ['loopback', `http://site2.sso.localhost:${port}`]] as const) {
      await clients.register({ clientId, redirectUris: [`${site}/sso/callback`], syncLoginUrl: `${site}/sso/synclogin`, syncLogoutUrl: `${site}/sso/synclogout` });
    }
    const check = new IntegrationCheck(clients, { issuer: 'https://id.example.com', keyOverlapSeconds: 86_400, timeoutMs: 2_000 });
    const before = hosts.length;
    const report = await check.check('plain', `http://127.0.0.1:${port}`);
    expect(report.ok).toBe(false);
    expect(report.checks.map(({ status, reason }) => ({ status, reason }))).toEqual([
      { status: 'wrong_url', reason: 'mixedContent' },
      { status: 'wrong_url', reason: 'mixedContent' },
    ]);
    expect(report.checks[0]!.detail).toContain('https');
    expect(hosts.length).toBe(before); // nothing to learn from calling it
    // http on a loopback name is a secure context's potentially trustworthy origin: browsers load it.
    expect((await check.check('loopback')).ok).toBe(true);
    await store.close();
  });
});
