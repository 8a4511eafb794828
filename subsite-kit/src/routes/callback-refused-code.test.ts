import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { makeSite, HTML, setCookies } from '../test-support/site.js';
import { makeSyncCode, syncPath } from '../test-support/sync-codes.js';
import { browserAtHub, startStubHub, type StubHub } from '../test-support/stub-hub.js';

/**
 * A callback whose `state` is this browser's but whose code the hub refuses at the token
 * endpoint (`invalid_grant`: the code expired, was used already, or was altered in the URL) is a
 * bad answer, not a broken site: 400 and a page that says to sign in again. Before, the kit
 * answered 502 "could not complete the sign-in with the sign-in service (token request:
 * invalid_grant). The site's administrator has been told." (an outside review's bad-input
 * sweep: `/sso/callback?code=<altered>&state=<live>&iss=…`).
 */
let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

async function answerAt() {
  const logs: string[] = [];
  const { app } = await makeSite(hub, { logger: { warn: (line) => logs.push(line) } });
  const agent = request.agent(app);
  const start = await agent.get('/sso/login?next=/private').set(HTML);
  const callback = await browserAtHub(hub, start.headers.location!);
  return { agent, callback, logs };
}

function withCode(path: string, code: string): string {
  const url = new URL(path, 'http://bbs.test');
  url.searchParams.set('code', code);
  return `${url.pathname}${url.search}`;
}

describe('GET /sso/callback: a code the hub refuses (invalid_grant)', () => {
  it.each([
    ['altered', (code: string) => `${code}x`],
    ['made up', () => 'abc'],
    ['huge', () => 'A'.repeat(3000)],
  ])('a code %s → 400 page "sign in again", no redirect, not signed in; the log still names invalid_grant', async (_name, alter) => {
    const { agent, callback, logs } = await answerAt();
    const code = new URL(callback, 'http://bbs.test').searchParams.get('code')!;
    const res = await agent.get(withCode(callback, alter(code))).set(HTML);
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('Sign-in failed');
    expect(res.text).toContain('expired or was already used');
    expect(res.text).not.toContain('administrator has been told');
    expect((await agent.get('/')).body.user).toBeNull();
    expect(logs.join('\n')).toMatch(/token request .*\/token failed: the hub answered 400 invalid_grant/);
  });

  it('a silent check\'s code refused (tabs checking at once after a sign-in at an older hub): back to the page, no error page, Request-Login cleared', async () => {
    const logs: string[] = [];
    const { app } = await makeSite(hub, { logger: { warn: (line) => logs.push(line) } });
    const agent = request.agent(app);
    await agent.get(syncPath('synclogin', await makeSyncCode()));
    const lazy = await agent.get('/forum?page=2').set(HTML);
    const callback = await browserAtHub(hub, lazy.headers.location!);
    const code = new URL(callback, 'http://bbs.test').searchParams.get('code')!;
    const res = await agent.get(withCode(callback, `${code}x`)).set(HTML);
    expect([res.status, res.headers.location]).toEqual([302, '/forum?page=2']);
    expect(setCookies(res)['sso.request-login']).toMatch(/^sso\.request-login=;.*Expires=Thu, 01 Jan 1970/);
    expect((await agent.get('/forum').set(HTML)).status).toBe(200); // cleared: no loop through the hub
    expect(logs.join('\n')).toMatch(/silent sign-in check at \/sso\/callback: token request .* invalid_grant/);
  });

  it('the right code still signs in', async () => {
    const { agent, callback } = await answerAt();
    const res = await agent.get(callback).set(HTML);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/private');
  });
});

/**
 * An `error` that is no error code (RFC 6749 §4.1.2.1's codes, and OpenID Connect's, are lower
 * case with underscores) did not come from the hub: someone typed it into the URL. Before, it was
 * a 502 whose page said "The sign-in service answered with an error: <the text>", any sentence of
 * 64 characters shown as the hub's word (an outside review's bad-input sweep).
 */
describe('GET /sso/callback: an error parameter that is no error code', () => {
  function withError(path: string, error: string | string[]): string {
    const url = new URL(path, 'http://bbs.test');
    url.searchParams.delete('code');
    for (const value of [error].flat()) url.searchParams.append('error', value);
    return `${url.pathname}${url.search}`;
  }

  it.each([
    ['a sentence', 'Account locked. Call +1-555-0100 now'],
    ['markup', '<b>x</b>'],
    ['empty', ''],
    ['repeated', ['server_error', 'access_denied']],
  ])('%s → 400, the text not shown, not signed in', async (_name, error) => {
    const { agent, callback, logs } = await answerAt();
    const res = await agent.get(withError(callback, error)).set(HTML);
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('Sign-in failed');
    expect(res.text).not.toContain('answered with an error');
    expect(res.text).not.toContain('555-0100');
    expect((await agent.get('/')).body.user).toBeNull();
    expect(logs.join('\n')).toContain('not an error code');
  });

  it('an error code the hub sends is still shown (502: the hub refused)', async () => {
    const { agent, callback } = await answerAt();
    const res = await agent.get(withError(callback, 'invalid_scope')).set(HTML);
    expect(res.status).toBe(502);
    expect(res.text).toContain('The sign-in service answered with an error: invalid_scope.');
  });
});
