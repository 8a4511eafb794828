/**
 * Protocol paths that no endpoint answers get an RFC 6749-style JSON error (405 with Allow for
 * a known endpoint asked with the wrong method, 404 otherwise), never koa's bare
 * `404 text/plain "Not Found"` (found by a review: GET /token, PUT /token, GET
 * /token/introspection, GET /session/end/confirm, GET /.well-known/foo).
 */
import { request } from 'node:http';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

/** A browser's form POST over node:http, taking a long answer header as a browser does (fetch stops at 16 KB). */
function rawPost(url: string, body: string): Promise<{ status: number; location?: string; contentType?: string; cacheControl?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) };
    const req = request(url, { method: 'POST', headers, maxHeaderSize: 1 << 20, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        location: res.headers.location,
        contentType: res.headers['content-type'],
        cacheControl: res.headers['cache-control'],
        body: Buffer.concat(chunks).toString('utf8'),
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

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

  test.each(['/auth', '/session/end', '/AUTH'])('a browser\'s form POSTing to %s goes on as a GET of the same endpoint carrying only the handle of the form, kept in the store (303; before: 405, then the form in the URL)', async (path) => {
    const response = await fetch(`${hub.url}${path}?ui_locales=en`, { method: 'POST', redirect: 'manual', headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=x&state=a%20b&state=c' });
    expect(response.status).toBe(303);
    expect(response.headers.get('cache-control')).toBe('no-store');
    // Nothing of the form in the URL (post-as-get.test.ts follows it).
    expect(response.headers.get('location')).toMatch(new RegExp(`^${path.toLowerCase()}\\?hub-posted-form=[A-Za-z0-9_-]{43}$`));
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
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.text()).toContain('too long');
  });

  // The 8 KB is the form's; its URL was longer wherever a character is sent on percent-encoded
  // (a raw `<` or a Chinese character in the form is 3 or 9 characters in the URL). Such a form
  // was refused with a 413 page (before that, sent on as a 24 KB URL proxies refuse): the form
  // now stays in the store and the URL carries only its handle, so every form within 8 KB goes on.
  test.each(['/auth', '/session/end'])('a form within 8 KB whose URL would be past 8 KB goes on as a short GET (before: a 413 page)', async (path) => {
    for (const body of [`client_id=x&claims=${'<'.repeat(8000)}`, `client_id=x&login_hint=${'中'.repeat(1000)}`]) {
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(8 * 1024);
      const answer = await rawPost(`${hub.url}${path}`, body);
      expect(answer.status).toBe(303);
      expect(answer.cacheControl).toBe('no-store');
      expect(answer.location).toMatch(/^\/[a-z/]+\?hub-posted-form=[A-Za-z0-9_-]{43}$/);
      const followed = await fetch(`${hub.url}${answer.location}`, { redirect: 'manual', headers: { accept: 'text/html' } });
      expect([413, 431, 500]).not.toContain(followed.status);
    }
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
