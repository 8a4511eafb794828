import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { makeSite, HTML } from '../test-support/site.js';
import { browserAtHub, startStubHub, type StubHub } from '../test-support/stub-hub.js';

/**
 * The hub changed under a running site (a kit-faults review).
 * - Its discovery changed: an upgrade moved the token endpoint or the JWKS, and the old URLs
 *   answer 404. The kit caches discovery for an hour: before, every sign-in failed with "Sign-in
 *   failed" (502) for up to that hour, until the site was restarted. Now a 404 at a cached
 *   endpoint rereads discovery (at most once per 30 s) and, when the document names another
 *   endpoint, the same request tries once more there.
 * - Its token endpoint answered an HTML page (a 500 of the hub or of a proxy in front of it):
 *   before, the log said "the hub answered 406" (the HTTP client's own refusal of a non-JSON
 *   body) and the visitor got the 502 "Sign-in failed" page instead of the 503 "temporarily
 *   unavailable" one that a 5xx in JSON gives.
 */
let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });
beforeEach(() => { hub.moved = new Set(); hub.tokenFails = false; hub.jwksFails = false; hub.resetCounts(); });

async function signIn(app: Parameters<typeof request.agent>[0]) {
  const agent = request.agent(app);
  const start = await agent.get('/sso/login?next=/private').set(HTML);
  const callback = await browserAtHub(hub, start.headers.location!);
  return { agent, callback };
}

async function siteWithLog() {
  const logs: string[] = [];
  const { app } = await makeSite(hub, { logger: { warn: (line) => logs.push(line) } });
  return { app, logs };
}

describe('the hub moved its token endpoint or JWKS (discovery changed)', () => {
  it('token endpoint and JWKS moved after a sign-in: the next sign-in completes at the new ones, without a restart; the log says discovery was read again', async () => {
    const { app, logs } = await siteWithLog();
    const first = await signIn(app);
    expect((await first.agent.get(first.callback).set(HTML)).status).toBe(302);

    hub.moved = new Set(['/token', '/jwks']);
    hub.resetCounts();
    const second = await signIn(app);
    const res = await second.agent.get(second.callback).set(HTML);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/private');
    expect((await second.agent.get('/')).body.user?.sub).toBe('user-1');
    expect(hub.counts['/v2/token']).toBe(1);
    expect(hub.counts['/.well-known/openid-configuration']).toBe(1);
    expect(logs.join('\n')).toMatch(/discovery was read again after http:\/\/127\.0\.0\.1:\d+\/token failed: token_endpoint is now http:\/\/127\.0\.0\.1:\d+\/v2\/token/);
  });

  it('only the JWKS moved, before its first fetch: the ID token is checked with the keys at the new URL', async () => {
    const { app, logs } = await siteWithLog();
    const { agent, callback } = await signIn(app); // discovery read, no JWKS yet
    hub.moved = new Set(['/jwks']);
    const res = await agent.get(callback).set(HTML);
    expect(res.status).toBe(302);
    expect((await agent.get('/')).body.user?.sub).toBe('user-1');
    expect(hub.counts['/v2/jwks']).toBe(1);
    expect(logs.join('\n')).toMatch(/jwks_uri is now http:\/\/127\.0\.0\.1:\d+\/v2\/jwks/);
  });

  it('a token endpoint that answers 404 and did not move: one extra discovery read in 30 s, not one per sign-in; the page still says sign-in failed', async () => {
    const { app } = await siteWithLog();
    hub.moved = new Set(['/token']);
    const first = await signIn(app); // discovery now names /v2/token …
    hub.moved = new Set(); // … which answers 404 by the time the code is exchanged, and discovery names /token again
    const a = await first.agent.get(first.callback).set(HTML);
    expect(a.status).toBe(302); // reread, /token named again, exchanged there
    hub.moved = new Set(['/token']);
    const second = await signIn(app); // cached discovery still names /token, now 404
    hub.resetCounts();
    const b = await second.agent.get(second.callback).set(HTML);
    expect(b.status).toBe(502);
    expect(b.text).toContain('Sign-in failed');
    expect(hub.counts['/.well-known/openid-configuration'] ?? 0).toBe(0); // within 30 s of the last reread
  });
});

describe('the hub\'s token endpoint answers an HTML page', () => {
  it('a 500 page: the visitor gets the 503 "temporarily unavailable" page (as for a JSON 500), the log names 500 and text/html, not 406', async () => {
    const { app, logs } = await siteWithLog();
    const { agent, callback } = await signIn(app);
    hub.tokenFails = 'html';
    const res = await agent.get(callback).set(HTML);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.text).not.toMatch(/Something went wrong|at .*\.js:\d+/);
    const log = logs.join('\n');
    expect(log).toMatch(/token request http:\/\/127\.0\.0\.1:\d+\/token failed: the hub answered 500 \(not JSON: text\/html\)/);
    expect(log).not.toMatch(/answered 406/);
  });

  it('the JWKS answers a 500 page at the first ID token check: 503 "temporarily unavailable" (it clears by itself), not the 502 "configuration problem" page; the log names the status', async () => {
    const { app, logs } = await siteWithLog();
    const { agent, callback } = await signIn(app);
    hub.jwksFails = true;
    const res = await agent.get(callback).set(HTML);
    expect(res.status).toBe(503);
    expect(res.text).not.toContain('configuration problem');
    expect(logs.join('\n')).toMatch(/JWKS request http:\/\/127\.0\.0\.1:\d+\/jwks failed: the hub answered 500 \(not JSON: text\/html\)/);
  });
});
