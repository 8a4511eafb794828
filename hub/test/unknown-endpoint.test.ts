/**
 * Protocol paths that no endpoint answers get an RFC 6749-style JSON error (405 with Allow for
 * a known endpoint asked with the wrong method, 404 otherwise), never koa's bare
 * `404 text/plain "Not Found"` (found by a review: GET /token, PUT /token, GET
 * /token/introspection, GET /session/end/confirm, GET /.well-known/foo).
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

describe('protocol paths no endpoint answers', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory');
  });
  afterAll(() => hub.close());

  test.each([
    ['GET', '/token', 'POST, OPTIONS'],
    ['PUT', '/token', 'POST, OPTIONS'],
    ['DELETE', '/TOKEN', 'POST, OPTIONS'],
    ['GET', '/token/introspection', 'POST, OPTIONS'],
    ['GET', '/token/revocation', 'POST, OPTIONS'],
    ['POST', '/jwks', 'GET, OPTIONS'],
    ['GET', '/session/end/confirm', 'POST'],
    ['POST', '/.well-known/openid-configuration', 'GET, OPTIONS'],
    // A form POST goes on as a GET (post-as-get.ts); other methods are not offered.
    ['PUT', '/auth', 'GET, POST'],
    ['DELETE', '/session/end', 'GET, POST'],
  ])('%s %s: 405, Allow: %s, JSON invalid_request', async (method, path, allow) => {
    const response = await fetch(`${hub.url}${path}`, { method });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body).toMatchObject({ error: 'invalid_request' });
    // The advice names only methods the endpoint takes.
    expect(body.error_description).not.toMatch(new RegExp(`use .*\\b${method}\\b`));
  });

  test.each(['/auth', '/session/end', '/AUTH'])('a browser\'s form POSTing to %s goes on as a GET of the same endpoint with the form as its query (303; before: 405)', async (path) => {
    const response = await fetch(`${hub.url}${path}?ui_locales=en`, { method: 'POST', redirect: 'manual', headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=x&state=a%20b&state=c' });
    expect(response.status).toBe(303);
    expect(response.headers.get('cache-control')).toBe('no-store');
    // The URL's parameters first, then the form's in their order, a repeated one kept (the endpoint refuses it).
    expect(response.headers.get('location')).toBe(`${path.toLowerCase()}?ui_locales=en&client_id=x&state=a+b&state=c`);
  });

  test.each(['/auth', '/session/end'])('a POST to %s that is not a form gets a 400 page saying what to send', async (path) => {
    const response = await fetch(`${hub.url}${path}`, { method: 'POST', redirect: 'manual', headers: { accept: 'text/html', 'content-type': 'application/json' }, body: '{"client_id":"x"}' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain('application/x-www-form-urlencoded');
  });

  test('a form past 8 KB is refused with a page (413), not sent on as a URL proxies refuse', async () => {
    const response = await fetch(`${hub.url}/auth`, { method: 'POST', redirect: 'manual', headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, body: `client_id=${'x'.repeat(9000)}` });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  });

  test.each([['/token', 'POST, OPTIONS'], ['/me', 'GET, POST, OPTIONS'], ['/jwks', 'GET, OPTIONS']])('a plain OPTIONS %s (no CORS preflight) answers 204 with Allow: %s (before: 405 "OPTIONS is not allowed" beside Allow: …, OPTIONS)', async (path, allow) => {
    const response = await fetch(`${hub.url}${path}`, { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.headers.get('allow')).toBe(allow);
  });

  test.each(['/.well-known/foo', '/token/nothing', '/me/too', '/session/end/elsewhere'])('GET %s: 404 JSON', async (path) => {
    const response = await fetch(`${hub.url}${path}`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });

  test('the endpoints themselves still answer as before', async () => {
    expect((await fetch(`${hub.url}/jwks`)).status).toBe(200);
    expect((await fetch(`${hub.url}/.well-known/openid-configuration`)).status).toBe(200);
    const token = await fetch(`${hub.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    expect(token.status).toBe(401); // no client authentication: invalid_client (RFC 6749 §5.2)
    expect(await token.json()).toMatchObject({ error: 'invalid_client' });
    const preflight = await fetch(`${hub.url}/token`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).not.toBe(405);
  });

  // W3C "A Well-Known URL for Changing Passwords": password managers send a user here to change a
  // saved password; it was a JSON 404 under /.well-known. They trust it only when a path that
  // cannot exist is not 2xx (the spec's probe), which still holds.
  test('GET /.well-known/change-password: 303 to the account page\'s password form; the probe path stays 404', async () => {
    for (const path of ['/.well-known/change-password', '/.WELL-KNOWN/change-password']) {
      const response = await fetch(`${hub.url}${path}`, { redirect: 'manual' });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/account#change-password');
    }
    const probe = await fetch(`${hub.url}/.well-known/resource-that-should-not-exist-whose-status-code-should-not-be-200`);
    expect(probe.status).toBe(404);
  });
});
