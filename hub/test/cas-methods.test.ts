/**
 * The CAS-style endpoints (seed 001) asked with a method they do not take answer as the standard
 * endpoints do: 405 with `Allow` and an RFC 6749 JSON error for the program endpoints
 * (`accessToken`, `profile`), and for `authorize` the same JSON to a program or an error page to a
 * browser. Before, each answered the hub's HTML "Page not found" (404), which a CAS client's
 * JSON parser reports as a broken server at a wrong URL (found by a third-party client review:
 * `PUT /oauth2.0/accessToken`, `DELETE /oauth2.0/profile`, `POST /oauth2.0/authorize`).
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

describe('CAS-style endpoints asked with the wrong method', () => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.clients.register({ clientId: 'cas-app', name: 'CAS app', redirectUris: ['https://cas-app.test/cb'], grantTypes: ['authorization_code'], casCompat: true, requirePkce: false });
  });
  afterAll(() => hub.close());

  test.each([
    ['PUT', '/oauth2.0/accessToken', 'GET, POST'],
    ['DELETE', '/oauth2.0/accessToken', 'GET, POST'],
    ['PATCH', '/oauth2.0/profile', 'GET, POST'],
    ['DELETE', '/oauth2.0/profile', 'GET, POST'],
    ['PUT', '/oauth2.0/authorize', 'GET'],
    ['POST', '/oauth2.0/authorize', 'GET'],
    ['PUT', '/OAUTH2.0/ACCESSTOKEN', 'GET, POST'],
  ])('%s %s: 405, Allow: %s, JSON invalid_request, not cached', async (method, path, allow) => {
    const response = await fetch(`${hub.url}${path}`, { method, headers: { accept: 'application/json' } });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe(allow);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toBe(`${method} is not allowed at ${path.toLowerCase()}; use ${allow.replace(', ', ' or ')}`);
  });

  test.each([
    ['/oauth2.0/accessToken', 'GET, POST'],
    ['/oauth2.0/profile', 'GET, POST'],
    ['/oauth2.0/authorize', 'GET'],
  ])('a plain OPTIONS %s answers what is allowed (204, Allow: %s), not 405', async (path, allow) => {
    const response = await fetch(`${hub.url}${path}`, { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.headers.get('allow')).toBe(allow);
  });

  test('a browser sent to /oauth2.0/authorize with a form POST gets an error page (405), not "Page not found"', async () => {
    const response = await fetch(`${hub.url}/oauth2.0/authorize`, {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'response_type=code&client_id=cas-app&redirect_uri=https%3A%2F%2Fcas-app.test%2Fcb',
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).not.toMatch(/Page not found/);
    expect(html).toMatch(/GET/);
  });

  test('the methods they take still work: GET and POST accessToken, GET authorize', async () => {
    const token = await fetch(`${hub.url}/oauth2.0/accessToken`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    expect(token.status).toBe(401);
    expect(await token.json()).toMatchObject({ error: 'invalid_client' });
    const authorize = await fetch(`${hub.url}/oauth2.0/authorize?response_type=code&client_id=cas-app&redirect_uri=https%3A%2F%2Fcas-app.test%2Fcb`, { redirect: 'manual' });
    expect(authorize.status).toBe(302);
    expect(authorize.headers.get('location')).toMatch(/^\/auth\?/);
  });
});
