import { TestBrowser } from '../src/testing/browser.js';
import { digest } from '../src/store/keys.js';
import { RedisStore } from '../src/store/redis.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, isSignedIn, postForm, walk } from './support.js';
import { scanKeys } from '../src/store/redis-client.js';

const REDIRECT = 'http://rp.test/cb';
const ALICE = { login: 'alice', password: 'wonderland-123' };
const REFRESHES = 300;
const ACCESS_TOKEN_TTL = 1; // seconds: short, so the test sees access tokens expire
const RECORD_TOLERANCE = 5; // seconds a record outlives its expiry (the adapter's CLOCK_TOLERANCE)

/** Issue 9 §7: what one user or one address can make the hub store stays bounded. */
describe.each(STORE_KINDS)('bounded growth (%s)', (kind) => {
  let hub: RunningHub;
  let auth: string;

  beforeAll(async () => {
    hub = await startTestHub(kind, { HUB_ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL) });
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    const client = await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT] });
    auth = basic('rp', client.clientSecret!);
  });
  afterAll(() => hub.close());

  test(`a grant's token index stays small over ${REFRESHES} refreshes`, async () => {
    const request = codeRequest('rp', REDIRECT);
    const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
    const first = await postForm(
      `${hub.url}/token`,
      { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT },
      { authorization: auth },
    );
    let refreshToken = String(first.body.refresh_token);
    const { keys, store } = hub.services;
    const record = JSON.parse((await store.get(keys.oidc('RefreshToken', digest(refreshToken))))!) as { grantId: string };
    const index = keys.oidcGrantMembers(record.grantId);
    for (let i = 0; i < REFRESHES; i += 1) {
      const answer = await postForm(`${hub.url}/token`, { grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization: auth });
      expect(answer.status).toBe(200);
      refreshToken = String(answer.body.refresh_token);
    }
    const during = await store.zRangeByScore(index, -Infinity, Infinity);
    // Once the access tokens issued so far have expired (records are kept 5 s past expiry),
    // the next write trims them: only the latest access and refresh token are left.
    await new Promise((resolve) => setTimeout(resolve, (ACCESS_TOKEN_TTL + RECORD_TOLERANCE + 1) * 1000));
    const last = await postForm(`${hub.url}/token`, { grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization: auth });
    expect(last.status).toBe(200);
    const members = await store.zRangeByScore(index, -Infinity, Infinity);
    expect(members.sort()).toEqual(
      [keys.oidc('RefreshToken', digest(String(last.body.refresh_token))), keys.oidc('AccessToken', digest(String(last.body.access_token)))].sort(),
    );
    // Even before they expire, spent refresh tokens are out: at most one live refresh token.
    expect(during.filter((member) => member.includes(':RefreshToken:'))).toEqual([keys.oidc('RefreshToken', digest(refreshToken))]);
    expect(during.filter((member) => member.includes(':AuthorizationCode:'))).toEqual([]);
  }, 120_000);
});

const LIMIT = 20; // sign-in pages one address may open per window, in this test

describe.each(STORE_KINDS)('anonymous sign-in pages are bounded per address (%s)', (kind) => {
  let hub: RunningHub;

  beforeAll(async () => {
    // Behind a proxy, so the test can speak from other addresses (X-Forwarded-For).
    hub = await startTestHub(kind, { HUB_TRUST_PROXY: 'true', SIGNIN_STARTS_PER_IP: String(LIMIT) });
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT] });
  });
  afterAll(() => hub.close());

  /** Store records a flood could create: oidc-provider interactions and portal sessions. */
  async function records(patterns = ['oidc:Interaction:*', 'portal-sess:*']): Promise<number | undefined> {
    if (!(hub.store instanceof RedisStore)) return undefined;
    let count = 0;
    for (const pattern of patterns) {
      for await (const batch of scanKeys(hub.store.client, `${hub.config.KEY_PREFIX}${pattern}`)) count += batch.length;
    }
    return count;
  }

  test('a flood of GET /login and GET /auth from one address gets 429 past the limit; a person elsewhere signs in', async () => {
    const before = await records();
    const flood = (url: string, accept: string) =>
      fetch(url, { redirect: 'manual', headers: { 'x-forwarded-for': '203.0.113.7', accept } });
    const answers: Response[] = [];
    for (let i = 0; i < LIMIT * 3; i += 1) {
      answers.push(i % 2 ? await flood(`${hub.url}/login`, 'text/html') : await flood(authUrl(hub.url, codeRequest('rp', REDIRECT).params), 'text/html'));
    }
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status !== 429)).toHaveLength(LIMIT);
    const refused = answers.find((answer) => answer.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.text()).toContain('Too many sign-in pages');
    // A client that asks for JSON gets an RFC 6749-style error.
    const json = await flood(`${hub.url}/auth?client_id=rp`, 'application/json');
    expect(json.status).toBe(429);
    expect(await json.json()).toMatchObject({ error: 'temporarily_unavailable' });

    const after = await records();
    if (before !== undefined && after !== undefined) expect(after - before).toBeLessThanOrEqual(LIMIT);

    // Someone at another address is not affected.
    const request = codeRequest('rp', REDIRECT);
    const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
    expect(callback.searchParams.get('code')).toBeTruthy();
  });

  test('silent checks (prompt=none) store nothing and are not counted: strangers at the same address cannot turn a signed-in user\'s check into a "too many" page', async () => {
    // An outside review spent the address's budget with anonymous GET /login, then a signed-in
    // user's subsite check (prompt=none) from the same address got the hub's 429 page.
    const address = '203.0.113.8';
    const from = { 'x-forwarded-for': address, accept: 'text/html' };
    const everything = ['oidc:*', 'portal-sess:*'];
    const before = await records(everything);
    for (let i = 0; i < LIMIT * 2; i += 1) {
      const silent = await fetch(authUrl(hub.url, codeRequest('rp', REDIRECT, { prompt: 'none' }).params), { redirect: 'manual', headers: from });
      expect(silent.status).toBe(303);
      expect(new URL(silent.headers.get('location')!).searchParams.get('error')).toBe('login_required');
    }
    const after = await records(everything);
    if (before !== undefined && after !== undefined) expect(after).toBe(before);
    // The budget is spent by others (sign-in pages), yet the signed-in user's silent check gets its code.
    for (let i = 0; i < LIMIT; i += 1) await (await fetch(`${hub.url}/login`, { redirect: 'manual', headers: from })).text();
    expect((await fetch(`${hub.url}/login`, { redirect: 'manual', headers: from })).status).toBe(429);
    const browser = new TestBrowser();
    await walk(browser, hub.url, authUrl(hub.url, codeRequest('rp', REDIRECT).params), ALICE);
    const check = await browser.get(authUrl(hub.url, codeRequest('rp', REDIRECT, { prompt: 'none' }).params), { 'x-forwarded-for': address });
    expect(check.status).toBe(303);
    expect(new URL(check.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  });
});

describe.each(STORE_KINDS)('pushed authorization requests without HTTP Basic are bounded per address too (%s)', (kind) => {
  let hub: RunningHub;
  let secret: string;
  beforeAll(async () => {
    hub = await startTestHub(kind, { HUB_TRUST_PROXY: 'true', SIGNIN_STARTS_PER_IP: String(LIMIT) });
    await hub.services.clients.register({ clientId: 'spa', redirectUris: [REDIRECT], tokenEndpointAuthMethod: 'none' });
    secret = (await hub.services.clients.register({ clientId: 'server', redirectUris: [REDIRECT] })).clientSecret!;
  });
  afterAll(() => hub.close());

  const push = (client: string, headers: Record<string, string> = {}) =>
    fetch(`${hub.url}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.9', accept: 'application/json', ...headers },
      body: new URLSearchParams({ ...codeRequest(client, REDIRECT).params, client_id: client }).toString(),
    });

  test('a public client\'s pushes from one address get 429 past the limit (each stores a request for a minute); a server with HTTP Basic is not limited', async () => {
    // A review found /request open to anyone naming a public client, at line rate, with no limit.
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 5; i += 1) statuses.push((await push('spa')).status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(LIMIT);
    expect(statuses.slice(LIMIT)).toEqual(Array(5).fill(429));
    const basic = `Basic ${Buffer.from(`server:${secret}`).toString('base64')}`;
    for (let i = 0; i < 5; i += 1) expect((await push('server', { authorization: basic })).status).toBe(201);
  });
});

const DAY = 86_400; // seconds

/**
 * A grant belongs to one sign-in session (README, "Grants: one per sign-in session"). A soak
 * run found every grant kept HUB_CONSENT_TTL (180 days): each sign-in left a grant record and a
 * member of the account's grant index for half a year after its session had expired.
 */
describe.each(STORE_KINDS)('a grant is kept as long as its tokens can be used (%s)', (kind) => {
  let hub: RunningHub;
  let auth: string;
  let legacyAuth: string;
  const noRefreshAuth: Record<string, string> = {};

  beforeAll(async () => {
    // The defaults: sessions 12 h, refresh tokens 14 days, consent 180 days, access tokens 1 h.
    hub = await startTestHub(kind, { HUB_ENABLE_PASSWORD_GRANT: 'true' });
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    const client = await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token', 'password'] });
    auth = basic('rp', client.clientSecret!);
    const legacy = await hub.services.clients.register({ clientId: 'legacy', trusted: true, redirectUris: [REDIRECT], grantTypes: ['password'] });
    legacyAuth = basic('legacy', legacy.clientSecret!);
    for (const [clientId, trusted] of [['noref', true], ['noref-asks', false]] as const) {
      const registered = await hub.services.clients.register({ clientId, trusted, redirectUris: [REDIRECT], grantTypes: ['authorization_code'] });
      noRefreshAuth[clientId] = basic(clientId, registered.clientSecret!);
    }
  });
  afterAll(() => hub.close());

  /** The grant a token was issued under, and the seconds its record and its place in the account's index have left. */
  async function grantOf(model: 'RefreshToken' | 'AccessToken', token: string): Promise<{ ttl: number; indexedFor: number }> {
    const { keys, store } = hub.services;
    const { grantId, accountId } = JSON.parse((await store.get(keys.oidc(model, digest(token))))!) as { grantId: string; accountId: string };
    const ttl = await store.ttl(keys.oidc('Grant', digest(grantId)));
    const index = keys.accountGrants(accountId);
    const [member] = (await store.zRangeByScore(index, -Infinity, Infinity)).filter((entry) => entry.startsWith(`${grantId} `));
    expect(member).toBeDefined();
    // The member's score is its expiry (epoch ms): is it still listed that many seconds from now?
    let indexedFor = 0;
    for (const seconds of [ttl - 60, ttl + 60]) if ((await store.zRangeByScore(index, Date.now() + seconds * 1000, Infinity)).includes(member!)) indexedFor = seconds;
    return { ttl, indexedFor };
  }

  async function signIn(scope: string): Promise<Record<string, unknown>> {
    const request = codeRequest('rp', REDIRECT, { scope, ...(scope.includes('offline_access') ? { prompt: 'consent' } : {}) });
    const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
    const answer = await postForm(
      `${hub.url}/token`,
      { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT },
      { authorization: auth },
    );
    expect(answer.status).toBe(200);
    return answer.body;
  }

  test('a sign-in session\'s grant (no offline_access) goes with its refresh tokens, not after the consent\'s 180 days', async () => {
    const tokens = await signIn('openid profile');
    const { ttl, indexedFor } = await grantOf('RefreshToken', String(tokens.refresh_token));
    // max(HUB_SESSION_TTL, HUB_REFRESH_TOKEN_TTL) and the record's 5 s of tolerance.
    expect(ttl).toBeGreaterThan(14 * DAY - 60);
    expect(ttl).toBeLessThanOrEqual(14 * DAY + 5);
    expect(indexedFor).toBe(ttl - 60); // the index lets go of it with the record
  });

  test('the grant of a client that may not refresh (the portal\'s, a site without refresh_token) goes with the session and its last access token, not 14 days later', async () => {
    // A dos review: every portal sign-in left its grant and a member of the account's grant
    // index for 14 days; one account signing in again and again from one address piled up
    // some 600,000 of them (about 250 MB).
    for (const clientId of ['noref', 'noref-asks']) { // trusted (no consent page) and one that asks (the consent's grant)
      const request = codeRequest(clientId, REDIRECT, { scope: 'openid profile' });
      const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
      const answer = await postForm(
        `${hub.url}/token`,
        { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT },
        { authorization: noRefreshAuth[clientId]! },
      );
      expect(answer.status).toBe(200);
      const { ttl, indexedFor } = await grantOf('AccessToken', String(answer.body.access_token));
      // HUB_SESSION_TTL + HUB_ACCESS_TOKEN_TTL (13 h) and the record's 5 s of tolerance.
      expect(ttl).toBeLessThanOrEqual(13 * 3600 + 5);
      expect(ttl).toBeGreaterThan(13 * 3600 - 60);
      expect(indexedFor).toBe(ttl - 60);
    }
  });

  test('an offline_access grant bounds its refresh tokens\' rotation: HUB_CONSENT_TTL, as before', async () => {
    const tokens = await signIn('openid offline_access');
    const { ttl } = await grantOf('RefreshToken', String(tokens.refresh_token));
    expect(ttl).toBeGreaterThan(180 * DAY - 60);
  });

  test('a password-grant sign-in\'s grant lasts as long as its access token when the client cannot refresh', async () => {
    const answer = await postForm(`${hub.url}/token`, { grant_type: 'password', username: 'alice', password: ALICE.password, scope: 'openid' }, { authorization: legacyAuth });
    expect(answer.status).toBe(200);
    const { ttl } = await grantOf('AccessToken', String(answer.body.access_token));
    expect(ttl).toBeLessThanOrEqual(3600 + 5);
    expect(ttl).toBeGreaterThan(3600 - 60);
    // A client that may refresh keeps its chain as long as before.
    const refreshing = await postForm(`${hub.url}/token`, { grant_type: 'password', username: 'alice', password: ALICE.password, scope: 'openid' }, { authorization: auth });
    expect(refreshing.status).toBe(200);
    expect((await grantOf('AccessToken', String(refreshing.body.access_token))).ttl).toBeGreaterThan(180 * DAY - 60);
  });
});

/**
 * The account → sessions index. A soak run found it a plain set whose members never left when
 * their sessions expired, while each new sign-in pushed the set's expiry out: a regular user's
 * index grew with every sign-in, and "sign out everywhere" read all of it.
 */
describe('an account\'s session index holds its live sessions only (redis)', () => {
  let hub: RunningHub;
  const SESSION_TTL = 1; // seconds; records are kept RECORD_TOLERANCE longer

  beforeAll(async () => {
    hub = await startTestHub('redis', { HUB_SESSION_TTL: String(SESSION_TTL) });
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT] });
  });
  afterAll(() => hub.close());

  /** Every member of every index key of the account, whatever the key's type (a set before, a sorted set now). */
  async function indexed(accountId: string): Promise<string[]> {
    const client = (hub.store as RedisStore).client;
    const members: string[] = [];
    for await (const batch of scanKeys(client, `${hub.config.KEY_PREFIX}account-session*{${accountId}}`)) {
      for (const key of batch) {
        const type = await client.type(key);
        members.push(...(type === 'set' ? await client.sMembers(key) : await client.zRange(key, 0, -1)));
      }
    }
    return members;
  }

  test('sessions that expired leave the index at the next sign-in, while the user\'s other sessions go on', async () => {
    const alice = (await hub.services.users.findByUsername('alice'))!;
    const signIn = () => walk(new TestBrowser(), hub.url, authUrl(hub.url, codeRequest('rp', REDIRECT).params), ALICE);
    const lifetime = (SESSION_TTL + RECORD_TOLERANCE) * 1000;
    for (let i = 0; i < 3; i += 1) await signIn();
    expect(await indexed(alice.id)).toHaveLength(3);
    // Another sign-in before those three expire, then one more after: the user always has a live session.
    await new Promise((resolve) => setTimeout(resolve, lifetime * 0.6));
    await signIn();
    await new Promise((resolve) => setTimeout(resolve, lifetime * 0.6));
    await signIn();
    const members = await indexed(alice.id); // read before list(), which drops what it finds gone
    const live = await hub.services.sessions.list(alice.id);
    expect(live).toHaveLength(2);
    expect(members.sort()).toEqual(live.map(({ key }) => key).sort());
  }, 20_000);

  test('sessions listed in the set of an earlier release are still found and ended, and that set goes', async () => {
    const { keys, sessions, users } = hub.services;
    const alice = (await users.findByUsername('alice'))!;
    await walk(new TestBrowser(), hub.url, authUrl(hub.url, codeRequest('rp', REDIRECT).params), ALICE);
    const [session] = await sessions.list(alice.id);
    // As a hub of the earlier release left it: the session in the plain set only.
    const client = (hub.store as RedisStore).client;
    await client.zRem(keys.accountSessions(alice.id), session!.key);
    await client.sAdd(keys.accountSessionsLegacy(alice.id), session!.key);
    await client.expire(keys.accountSessionsLegacy(alice.id), 60);
    expect((await sessions.list(alice.id)).map(({ key }) => key)).toContain(session!.key);
    expect(await sessions.endAll(alice.id)).toBeGreaterThanOrEqual(1);
    expect(await hub.store.get(session!.key)).toBeNull();
    expect(await indexed(alice.id)).toEqual([]);
  });
});

describe.each(STORE_KINDS)('an account keeps at most HUB_MAX_SESSIONS_PER_ACCOUNT signed-in browsers (%s)', (kind) => {
  // A resource review signed one account in from one address as fast as the sign-in start limit
  // allows: nothing bounded its sessions (400 made a 324 KB account page; 12 h from one address,
  // some 21,600). Past the cap the oldest sign-ins end, as "Sign out" on their rows would.
  const CAP = 3;
  let hub: RunningHub;
  let auth: string;

  beforeAll(async () => {
    hub = await startTestHub(kind, { HUB_MAX_SESSIONS_PER_ACCOUNT: String(CAP) });
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    auth = basic('rp', (await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT] })).clientSecret!);
  });
  afterAll(() => hub.close());

  test('a sign-in past the cap ends the oldest sign-ins, their tokens with them; the newest stay signed in', async () => {
    const alice = (await hub.services.users.findByUsername('alice'))!;
    const browsers: TestBrowser[] = [];
    const refreshTokens: string[] = [];
    for (let i = 0; i < CAP + 2; i += 1) {
      const browser = new TestBrowser();
      const request = codeRequest('rp', REDIRECT);
      const { callback } = await walk(browser, hub.url, authUrl(hub.url, request.params), ALICE);
      const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: auth });
      expect(tokens.status).toBe(200);
      refreshTokens.push(String(tokens.body.refresh_token));
      browsers.push(browser);
      await new Promise((resolve) => setTimeout(resolve, 1_100)); // a second apart: sign-in times are in seconds
    }
    const live = await hub.services.sessions.list(alice.id);
    expect(live).toHaveLength(CAP);
    const signedIn = await Promise.all(browsers.map((browser) => isSignedIn(browser, hub.url)));
    expect(signedIn).toEqual([false, false, true, true, true]);
    // The ended sign-ins' tokens went with them; the others' still refresh.
    const refreshed = await Promise.all(refreshTokens.map((token) => postForm(`${hub.url}/token`, { grant_type: 'refresh_token', refresh_token: token }, { authorization: auth })));
    expect(refreshed.map((answer) => answer.status)).toEqual([400, 400, 200, 200, 200]);
    const entries = await hub.services.audit.page({ event: 'account.sessions.oldest-ended' });
    expect(entries.entries.map((entry) => entry.subject)).toEqual([alice.id, alice.id]);
    // A backlog (an account that piled up sessions on an older hub) ends a bounded number per request.
    expect(await hub.services.lifecycle.endOldestSessions(alice.id, 0, 2)).toBe(2);
    expect(await hub.services.sessions.list(alice.id)).toHaveLength(1);
    expect(await isSignedIn(browsers[4]!, hub.url)).toBe(true); // the newest is the one left
  }, 60_000);
});
