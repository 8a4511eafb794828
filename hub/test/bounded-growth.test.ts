import { TestBrowser } from '../src/testing/browser.js';
import { digest } from '../src/store/keys.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, postForm, walk } from './support.js';

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
