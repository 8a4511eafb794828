/**
 * An authorization request with an unknown client_id or an unregistered redirect_uri: the page
 * and the hub's log name the value that came (a newcomer review: "client is invalid" and a
 * bare request line, with nothing to compare against the registration).
 */
import { captureLogger } from '../src/testing/capture-logger.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

describe('authorization errors name what came', () => {
  const { lines, logger } = captureLogger();
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('memory', {}, undefined, logger);
    await hub.services.clients.register({ clientId: 'mysite', name: 'My site', redirectUris: ['http://mysite.test/sso/callback'] });
  });
  afterAll(() => hub.close());

  const auth = (params: Record<string, string>) => fetch(`${hub.url}/auth?${new URLSearchParams({ response_type: 'code', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', ...params })}`, { redirect: 'manual' });

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

  test("a sentence that parses as a URL is not shown as the received redirect_uri (the hub's page is no place for someone else's message)", async () => {
    const sentence = 'Warning: your account is locked. Call +1 555 0100 or visit evil.example now';
    expect(URL.canParse(sentence)).toBe(true);
    const page = await auth({ client_id: 'mysite', redirect_uri: sentence });
    expect(page.status).toBe(400);
    const html = await page.text();
    expect(html).not.toContain('account is locked');
    expect(html).not.toContain('redirect_uri received');
  });
});
