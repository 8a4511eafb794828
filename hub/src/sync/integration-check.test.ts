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
});
