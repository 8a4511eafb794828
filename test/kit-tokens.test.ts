import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createSubsiteKit } from '@sso-hub/subsite-kit';
import { TestBrowser } from '../hub/src/testing/browser.js';
import { continueUrlOf, signInAt } from '../hub/src/testing/flows.js';
import { startTestHub, type RunningHub } from '../hub/src/testing/test-hub.js';

/** req.sso.accessToken() and req.sso.userinfo() against the real hub (refresh rotation, invalid_grant). */
describe('kit access tokens against the real hub', () => {
  let hub: RunningHub;
  let server: Server;
  let site: string;
  const logs: string[] = [];

  beforeAll(async () => {
    hub = await startTestHub('redis');
    await hub.services.users.create({ username: 'tina', email: 'tina@example.test', name: 'Tina', password: 'token-test-password-1' });
    const app = express();
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    site = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = await hub.services.clients.register({
      clientId: 'api-site',
      trusted: true,
      grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris: [`${site}/sso/callback`],
    });
    const sso = await createSubsiteKit({
      hubUrl: hub.url,
      clientId: 'api-site',
      clientSecret: client.clientSecret!,
      redirectUri: `${site}/sso/callback`,
      syncKey: 'sync-key-not-used-in-this-test-0123456789',
      sessionSecret: 'a-session-secret-for-tests-0123456789abcdef',
      logger: { warn: (line) => logs.push(line) },
    });
    app.use(sso.router);
    app.get('/private', sso.requireLogin, (req, res) => { res.type('html').send(`private ${req.user!.sub}`); });
    // `force` asks for a token valid for longer than any token lives: always a refresh.
    app.get('/api/token', async (req, res) => {
      res.json({ token: await req.sso!.accessToken(req.query.force ? { refreshBeforeSeconds: 10 ** 9 } : {}) });
    });
    app.get('/api/me', async (req, res) => { res.json(await req.sso!.userinfo()); });
    app.use(sso.errorHandler);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await hub.close();
  });

  async function signedIn(): Promise<TestBrowser> {
    const browser = new TestBrowser();
    const hosts = [new URL(site).host, new URL(hub.url).host];
    const start = await browser.follow(`${site}/private`, hosts);
    const { body } = await signInAt(browser, hub.url, start.url, 'tina', 'token-test-password-1');
    const done = await browser.follow(continueUrlOf(body, hub.url), hosts);
    expect(done.body).toMatch(/^private /);
    return browser;
  }

  async function json(browser: TestBrowser, path: string) {
    const response = await browser.get(`${site}${path}`, { accept: 'application/json' });
    return { status: response.status, body: response.status === 200 ? (await response.json()) as Record<string, unknown> : await response.text() };
  }

  test('accessToken() returns the session\'s token while it is fresh; userinfo() answers for the user', async () => {
    const browser = await signedIn();
    const first = await json(browser, '/api/token');
    const again = await json(browser, '/api/token');
    expect(first.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const me = await json(browser, '/api/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: 'tina@example.test', name: 'Tina' });
  });

  test('about to expire → refreshed with the refresh token; the rotated refresh token works the next time', async () => {
    const browser = await signedIn();
    const original = (await json(browser, '/api/token')).body as { token: string };
    const refreshed = await json(browser, '/api/token?force=1');
    expect(refreshed.status).toBe(200);
    expect((refreshed.body as { token: string }).token).not.toBe(original.token);
    const second = await json(browser, '/api/token?force=1');
    expect(second.status).toBe(200);
    expect((second.body as { token: string }).token).not.toBe((refreshed.body as { token: string }).token);
    // The new token is good at the hub.
    expect((await json(browser, '/api/me')).status).toBe(200);
  });

  test('the hub revoked the grant (user disabled) → invalid_grant: signed out here, 401', async () => {
    const browser = await signedIn();
    await hub.services.lifecycle.disable('tina');
    try {
      const refused = await json(browser, '/api/token?force=1');
      expect(refused.status).toBe(401);
      expect(logs.join('\n')).toMatch(/refresh token refused, signing the user out locally: refresh request .* invalid_grant/);
      // The local session is over: the protected page sends the browser to the hub again.
      const page = await browser.get(`${site}/private`, { accept: 'text/html' });
      expect(page.status).toBe(302);
    } finally {
      await hub.services.lifecycle.enable('tina');
    }
  });
});
