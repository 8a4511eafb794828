/**
 * DESIGN "Store down: fail closed with a clear 503, never hang", for a Redis that stalls in the
 * middle of a request (docs/faults.md, `pause-10s`): a portal sign-out confirmation answered 503
 * after 6.2 s. The grant's and session's deletions timed out after 2 s, then two more writes
 * (oidc-provider saving the session on its way out, then one more) each waited out the full
 * deadline. A sign-in and the account page waited two deadlines. Now a request whose store call
 * timed out gives up its later calls at once (store/stall-watch.ts): its 503 comes after one
 * deadline. The redis-server is the test's own, SIGSTOPped as the request sends its first
 * store call (or write), so the request is caught half-way, as the faults run caught it.
 */
import { TestBrowser, attribute, inputValue } from '../src/testing/browser.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { SESSION_STORE_DEADLINE_MS } from '../src/http/portal-session.js';
import { connectRedis, RedisStore } from '../src/store/redis.js';
import type { Store } from '../src/store/store.js';
import { startOwnRedis, type OwnRedis } from '../src/testing/redis-server.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, postForm, walk } from './support.js';
import { expectUnavailableWithinDeadline, timed as timedAnswer, WITHIN_MS } from './store-unavailable.js';

/** Past the old 6.2 s: a request still open by then is a hang. */
const HANG_MS = SESSION_STORE_DEADLINE_MS * 5;

const WRITES = new Set(['set', 'del', 'swap', 'swapAfter', 'write', 'versionedWrite', 'claimBeside', 'take', 'takeMarking', 'setAdd', 'setRemove', 'zAdd', 'zAddMany', 'zAddExpiring', 'zRemove', 'zRemoveByScore', 'zRemoveByRank', 'incr']);

/**
 * The store, SIGSTOPping the server as the next store call (or write) of anyone is made, once
 * armed; with `keyPart`, the next one whose key contains it, and with `method`, of that store method.
 */
function pausingStore(store: RedisStore, redis: OwnRedis): { store: Store; pauseAtNext(kind: 'call' | 'write', keyPart?: string, method?: string): void } {
  let armed: { kind: 'call' | 'write'; keyPart: string | undefined; method: string | undefined } | undefined;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || property === 'close' || property === 'constructor') return value;
      return (...args: unknown[]) => {
        const kindMatches = armed?.kind === 'call' || (armed?.kind === 'write' && WRITES.has(String(property)));
        const key = String(property === 'swapAfter' ? args[1] : args[0]); // swapAfter(ops, key, ...)
        if (kindMatches && (armed!.keyPart === undefined || key.includes(armed!.keyPart)) && (armed!.method === undefined || armed!.method === property)) {
          armed = undefined;
          redis.pause();
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, pauseAtNext: (kind, keyPart, method) => (armed = { kind, keyPart, method }) };
}

function timed(send: (signal: AbortSignal) => Promise<Response>) {
  return timedAnswer(send, HANG_MS);
}

function form(fields: Record<string, string>) {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() };
}

describe('DESIGN store down: a request caught by a stall fails closed after one deadline, not one per store call', () => {
  let redis: OwnRedis;
  let store: RedisStore;
  let pausing: ReturnType<typeof pausingStore>;
  let hub: RunningHub;

  beforeEach(async () => {
    redis = await startOwnRedis();
    store = new RedisStore(await connectRedis(redis.url));
    pausing = pausingStore(store, redis);
    hub = await startTestHub('redis', {}, pausing.store);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: 'alice-password-1' });
  });
  afterEach(async () => {
    // The server and its data are thrown away whole: no key cleanup, no QUIT to a dead server.
    redis.resume();
    store.client.destroy();
    await hub.close();
    await redis.stop();
  });

  async function signOutForm(browser: TestBrowser): Promise<string> {
    const page = await (await browser.get(`${hub.url}/session/end`)).text();
    return /name="xsrf" value="([^"]+)"/.exec(page)![1]!;
  }

  test('portal sign-out (POST /session/end/confirm): 503 within one deadline (was 6.2 s); once Redis is back, the sign-out goes through', async () => {
    const browser = await signInAtPortal(hub, 'alice', 'alice-password-1');
    const xsrf = await signOutForm(browser);
    pausing.pauseAtNext('write'); // after the session was read: its grant's revocation stalls
    const stalled = await timed((signal) => browser.request(`${hub.url}/session/end/confirm`, { ...form({ xsrf, logout: 'yes' }), signal }));
    expectUnavailableWithinDeadline(stalled);
    expect(stalled.html).toContain('temporarily_unavailable'); // the RFC 6749 code, on the page

    redis.resume();
    // At once: the request's mark does not outlive it, and Redis answering clears the stall.
    const fresh = await signOutForm(browser);
    const again = await timed((signal) => browser.request(`${hub.url}/session/end/confirm`, { ...form({ xsrf: fresh, logout: 'yes' }), signal }));
    expect(again.status).toBe(200);
    expect(again.ms).toBeLessThan(1_000);
    expect((await browser.get(`${hub.url}/account`)).status).not.toBe(200); // signed out
  });

  test('sign-in (POST of the sign-in form): 503 within one deadline (was 4.2 s); then the same sign-in goes through', async () => {
    const browser = new TestBrowser();
    const landed = await browser.follow(`${hub.url}/login?next=/account`);
    const action = new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
    const fields = { _csrf: inputValue(landed.body, '_csrf'), login: 'alice', password: 'alice-password-1' };
    pausing.pauseAtNext('write'); // the password was checked: the sign-in's writes stall
    expectUnavailableWithinDeadline(await timed((signal) => browser.request(action, { ...form(fields), signal })));

    redis.resume();
    const retried = await timed(() => signInAtPortal(hub, 'alice', 'alice-password-1').then(async (signedIn) => signedIn.get(`${hub.url}/account`)));
    expect(retried.status).toBe(200);
  });

  test('account page: 503 within one deadline (was 4.1 s); then it shows', async () => {
    const browser = await signInAtPortal(hub, 'alice', 'alice-password-1');
    pausing.pauseAtNext('call'); // the portal session was read: the hub session's read stalls
    expectUnavailableWithinDeadline(await timed((signal) => browser.request(`${hub.url}/account`, { signal })));

    redis.resume();
    const shown = await timed((signal) => browser.request(`${hub.url}/account`, { signal }));
    expect(shown.status).toBe(200);
    expect(shown.ms).toBeLessThan(1_000);
  });

  // The claim's release (and, after a commit that timed out, the release or the replay mark) ran
  // after the answer was made, outside the request's stall mark, and the 503 waited for it.
  test.each([
    ['claim', 'was 4.1 s', undefined],
    ['commit', 'was 6.1 s', 'swapAfter'],
  ])('refresh (POST /token) whose %s write stalls: 503 JSON within one deadline (%s); once Redis is back, the same refresh token rotates and nothing is revoked', async (_what, _before, method) => {
    const redirect = 'http://rp.test/cb';
    const client = await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [redirect] });
    const authorization = basic('rp', client.clientSecret!);
    const request = codeRequest('rp', redirect);
    const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), { login: 'alice', password: 'alice-password-1' });
    const token = (fields: Record<string, string>) => postForm(`${hub.url}/token`, fields, { authorization });
    const tokens = await token({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: redirect });
    expect(tokens.status).toBe(200);
    const userinfo = async (accessToken: unknown) => (await fetch(`${hub.url}/me`, { headers: { authorization: `Bearer ${String(accessToken)}` } })).status;
    const refresh = { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) };

    pausing.pauseAtNext('write', ':oidc:consumed:', method); // the refresh token's claim, or the commit of its answer, stalls
    const started = Date.now();
    const stalled = await token(refresh);
    const ms = Date.now() - started;
    expect(stalled.status).toBe(503);
    expect(stalled.body.error).toBe('temporarily_unavailable');
    expect(stalled.headers.get('retry-after')).toBeTruthy();
    expect(ms).toBeLessThan(WITHIN_MS);

    redis.resume();
    // The retry, at once: the claim's release lands before it (one connection, in order), so it
    // is neither a reuse (which would revoke the chain) nor kept waiting.
    const retried = await token(refresh);
    expect(retried.status).toBe(200);
    expect(retried.body.refresh_token).not.toBe(tokens.body.refresh_token);
    expect(await userinfo(retried.body.access_token)).toBe(200);
    expect(await userinfo(tokens.body.access_token)).toBe(200);
  });
});
