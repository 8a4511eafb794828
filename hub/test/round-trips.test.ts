import { jest } from '@jest/globals';
import { inputValue, TestBrowser } from '../src/testing/browser.js';
import { recordRoundTrips } from '../src/testing/round-trips.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, postForm, walk, type JsonAnswer } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const ALICE = { login: 'alice', password: 'wonderland-123' };

/** Round trips that are not the request's own: the audit log's shared write (batched, see audit-log.test.ts) and the client cache's once-a-second check. */
const SHARED = /ZADD \S*audit:(log|tokens)|MGET \S*clients:version/;

/**
 * Redis round trips per protocol request (a MULTI, a pipeline or a script is one), counted
 * through node-redis's diagnostics channels: a count, not a timing, so it holds on a loaded
 * machine. Bounds are the hub's (docs/performance.md, "Round trips"); before they were
 * 2 / 14 / 14 / 5 / 6 (then 1 / 9 / 9 / 4 / 5 until a token's session, account and grant were read ahead in one round trip), and plain oidc-provider with a one-key-per-record adapter needs
 * 1 / 9 / – / 5 / 6.
 */
describe('Redis round trips per protocol request', () => {
  let hub: RunningHub;
  let auth: string;

  beforeAll(async () => {
    // The process's own periodic store check (keys, cookie keys, its portal client) stays out of the counted windows.
    hub = await startTestHub('redis', { HUB_STORE_CHECK_MS: '60000', HUB_KEY_ACTIVATION_DELAY_MS: '200000' });
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    const client = await hub.services.clients.register({
      clientId: 'rp', trusted: true, redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
    });
    auth = basic('rp', client.clientSecret!);
    // Warm up: the client cache, the signing keys and the account are loaded once per process.
    await tokensByCode();
    await clientCredentials();
  });
  afterAll(async () => {
    await hub.close();
  });

  const clientCredentials = () => postForm(`${hub.url}/token`, { grant_type: 'client_credentials' }, { authorization: auth });

  async function signedInCode(): Promise<{ code: string; verifier: string }> {
    const request = codeRequest('rp', REDIRECT);
    const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
    return { code: callback.searchParams.get('code')!, verifier: request.verifier };
  }

  const redeem = ({ code, verifier }: { code: string; verifier: string }) =>
    postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, { authorization: auth });

  async function tokensByCode(): Promise<JsonAnswer> {
    const answer = await redeem(await signedInCode());
    expect(answer.status).toBe(200);
    return answer;
  }

  /** The request's own round trips, each named by command and first key. */
  async function own(work: () => Promise<JsonAnswer>): Promise<string[]> {
    return (await ownWithWaits(work)).trips;
  }

  /** {@link own}, and how many times the request waited on the store (commands sent side by side share a wait). */
  async function ownWithWaits(work: () => Promise<JsonAnswer>): Promise<{ trips: string[]; waits: number }> {
    await hub.services.audit.flush();
    // The client cache's version check (once a second, whichever request comes then) is an MGET,
    // and node-redis's tracing shows an MGET's keys as `?`: told apart here by the store call
    // that makes it. On a slow machine it fell inside a counted sign-in now and then (17, bound 16).
    const { store, keys } = hub.services;
    const getMany = store.getMany.bind(store);
    let versionChecks = 0;
    const spy = jest.spyOn(store, 'getMany').mockImplementation((names: string[]) => {
      if (names.includes(keys.clientsVersion())) versionChecks += 1;
      return getMany(names);
    });
    try {
      // The audit log's write is sent by its own timer (the request never awaits it): not one of the request's waits.
      const { result, trips, waits } = await recordRoundTrips(work, SHARED);
      expect(result.status).toBe(200);
      const own = trips.filter((trip) => !SHARED.test(trip));
      for (let i = 0; i < versionChecks; i += 1) {
        const at = own.lastIndexOf('MGET ?');
        if (at >= 0) own.splice(at, 1);
      }
      return { trips: own, waits };
    } finally {
      spy.mockRestore();
    }
  }

  function expectAtMost(trips: string[], bound: number): void {
    if (trips.length > bound) throw new Error(`${trips.length} round trips, bound ${bound}:\n${trips.join('\n')}`);
  }

  test('client_credentials: 1 (the token), was 2', async () => {
    expectAtMost(await own(clientCredentials), 1);
  });

  test('refresh_token with rotation: 7, was 14 (9 before the read-ahead; a token issued here is read with its leads, one less, and the answer is marked delivered by compare-and-set, one more; the two token writes now ride in the commit\'s pipeline, still counted apart here)', async () => {
    const { body } = await tokensByCode();
    expectAtMost(await own(() => postForm(`${hub.url}/token`, { grant_type: 'refresh_token', refresh_token: body.refresh_token as string }, { authorization: auth })), 7);
  });

  // The new refresh token and access token are written in the round trip that commits the answer
  // (redemption.ts, Store.swapAfter): one wait for the three, not one each. The waits: the token
  // read with its leads, the claim, the tokens with the commit, and the mark that the answer went
  // out (after the answer; the audit log's shared write may add one).
  test('refresh_token and authorization_code: the tokens issued go with the commit (4 waits; 6 when each was written alone)', async () => {
    const { body } = await tokensByCode();
    const refreshed = await ownWithWaits(() => postForm(`${hub.url}/token`, { grant_type: 'refresh_token', refresh_token: body.refresh_token as string }, { authorization: auth }));
    const code = await signedInCode();
    const redeemed = await ownWithWaits(() => redeem(code));
    for (const { trips, waits } of [refreshed, redeemed]) {
      if (waits > 4) throw new Error(`${waits} waits, bound 4:\n${trips.join('\n')}`);
    }
  });

  test('authorization_code: 7, was 14 (9 before the read-ahead; as refresh)', async () => {
    const code = await signedInCode();
    expectAtMost(await own(() => redeem(code)), 7);
  });

  test('userinfo: 1 (a token issued here: the token, its session, account and grant together), was 5 (4 before the read-ahead, 2 before its leads were remembered)', async () => {
    const { body } = await tokensByCode();
    expectAtMost(await own(async () => {
      const response = await fetch(`${hub.url}/me`, { headers: { authorization: `Bearer ${body.access_token as string}` } });
      const claims = (await response.json()) as Record<string, unknown>;
      expect(claims).toMatchObject({ preferred_username: ALICE.login }); // the user's claims, not an error
      return { status: response.status, headers: response.headers, body: claims };
    }), 1);
  });

  test('introspection: 1 (a token issued here: the token, its session and grant together, not looked up as the other kinds), was 6 (5 before the read-ahead, 4 before its leads were remembered)', async () => {
    const { body } = await tokensByCode();
    expectAtMost(await own(async () => {
      const answer = await postForm(`${hub.url}/token/introspection`, { token: body.access_token as string }, { authorization: auth });
      // Found (oidc-provider answers 200 `active: false` for a token it did not find).
      expect(answer.body).toMatchObject({ active: true, client_id: 'rp', sub: expect.any(String) });
      return answer;
    }), 1);
  });

  /** A portal sign-in POST (password check, session, sync page) with `login`, its own round trips and waits. */
  async function signInPost(login: string): Promise<{ trips: string[]; waits: number }> {
    const browser = new TestBrowser();
    const { response, body } = await browser.follow(`${hub.url}/login`);
    expect(response.status).toBe(200);
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(body)![1]!;
    const form = { _csrf: inputValue(body, '_csrf'), login, password: ALICE.password };
    return ownWithWaits(async () => {
      const answer = await browser.post(`${hub.url}${action}`, form);
      const html = await answer.text();
      expect(html).toContain('data-testid="sync-title"');
      return { status: answer.status, headers: answer.headers, body: {} };
    });
  }

  // 15 until the throttle counted attempts in flight (a burst of concurrent guesses got every guess
  // checked): the account's count taken when the attempt comes in, and given back with the success.
  // 17 in 7 until the user was looked up in one script (Store.getIndexed: the name index, then the record).
  test('portal sign-in POST (password check, session, sync page): 16 commands in 6 waits (17 in 7 before the user lookup was one script; 13 waits before that; 15 commands before attempts in flight were counted; the per-IP point and the account\'s count given back with the success)', async () => {
    const { trips, waits } = await signInPost(ALICE.login);
    expectAtMost(trips, 16);
    // Waits on the store, commands sent side by side counted once: 6, was 13. The session; the
    // interaction with the user (name index and record in one script); the throttle's count; its
    // give-back with the two-step setting; the audit entry, the old session's removal, the
    // interaction's result and the sync page's reads; the new session.
    if (waits > 6) throw new Error(`${waits} waits on the store, bound 6:\n${trips.join('\n')}`);
  });

  // By e-mail address the lookup was three GETs one after another (the name index, empty; the
  // address index; the record): 18 commands in 8 waits. Now one script, as by name.
  test('portal sign-in POST by e-mail address: as by username, 16 commands in 6 waits (18 in 8 before)', async () => {
    const { trips, waits } = await signInPost('Alice@Example.test');
    expectAtMost(trips, 16);
    if (waits > 6) throw new Error(`${waits} waits on the store, bound 6:\n${trips.join('\n')}`);
  });
});
