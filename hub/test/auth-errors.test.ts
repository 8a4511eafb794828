/**
 * An authorization request with an unknown client_id or an unregistered redirect_uri: the page
 * and the hub's log name the value that came (a newcomer review: "client is invalid" and a
 * bare request line, with nothing to compare against the registration).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config.js';
import { createHub, type Hub } from '../src/hub.js';
import { captureLogger } from '../src/testing/capture-logger.js';
import { MemoryStore } from '../src/store/memory.js';

describe('authorization errors name what came', () => {
  const { lines, logger } = captureLogger();
  let server: Server;
  let url: string;
  let hub: Hub;
  const store = new MemoryStore();

  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    hub = await createHub(loadConfig({ HUB_ISSUER: url, KEY_PREFIX: `test:${randomUUID()}:` }), store, logger);
    server.on('request', hub.app);
    await hub.services.clients.register({ clientId: 'mysite', name: 'My site', redirectUris: ['http://mysite.test/sso/callback'] });
  });
  afterAll(async () => {
    await hub.stop();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await store.close();
  });

  const auth = (params: Record<string, string>) => fetch(`${url}/auth?${new URLSearchParams({ response_type: 'code', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', ...params })}`, { redirect: 'manual' });

  test('an unknown client_id', async () => {
    const page = await auth({ client_id: 'my-site', redirect_uri: 'http://mysite.test/sso/callback' });
    expect(page.status).toBe(400);
    expect(/data-testid="error-received">([^<]*)<code>([^<]*)</.exec(await page.text())?.slice(1)).toEqual(['client_id received: ', 'my-site']);
    expect(lines).toContainEqual({ level: 'warn', message: 'authorization refused', fields: { error: 'invalid_client', client_id: 'my-site' } });
  });

  test('a redirect_uri the client did not register (escaped on the page)', async () => {
    const page = await auth({ client_id: 'mysite', redirect_uri: 'http://127.0.0.1:4210/sso/callback?<b>' });
    expect(page.status).toBe(400);
    const html = await page.text();
    expect(html).toContain('redirect_uri received: <code>http://127.0.0.1:4210/sso/callback?&lt;b&gt;</code>');
    expect(lines).toContainEqual({ level: 'warn', message: 'authorization refused', fields: { error: 'invalid_redirect_uri', redirect_uri: 'http://127.0.0.1:4210/sso/callback?<b>', client_id: 'mysite' } });
  });
});
