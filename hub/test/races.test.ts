import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, postForm, walk } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const ALICE = { login: 'alice', password: 'wonderland-123' };
const CONCURRENCY = 6;
/**
 * What a request that lost the race gets: invalid_grant once the winner is done, or, while the
 * winner's claim is still pending, 503 temporarily_unavailable (it may be a retry of a request
 * that failed after claiming: README "Retrying after a 503 at /token").
 */
const LOSER_ERRORS = ['invalid_grant', 'temporarily_unavailable'];

/**
 * RFC 6749 §4.1.2 and RFC 9700 §4.14.2 under concurrency: oidc-provider checks `consumed`
 * on a read made before it consumes, so only an atomic claim in the store stops two
 * simultaneous redemptions of one code or one refresh token from both succeeding.
 */
describe.each(STORE_KINDS)('RFC 9700 single use under concurrent redemption (%s)', (kind) => {
  let hub: RunningHub;
  let auth: string;

  beforeAll(async () => {
    hub = await startTestHub(kind);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    const client = await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT] });
    auth = basic('rp', client.clientSecret!);
  });
  afterAll(() => hub.close());

  async function freshCode(): Promise<{ code: string; verifier: string }> {
    const request = codeRequest('rp', REDIRECT);
    const { callback } = await walk(new TestBrowser(), hub.url, authUrl(hub.url, request.params), ALICE);
    return { code: callback.searchParams.get('code')!, verifier: request.verifier };
  }

  test('an authorization code redeemed concurrently succeeds exactly once', async () => {
    const { code, verifier } = await freshCode();
    const answers = await Promise.all(
      Array.from({ length: CONCURRENCY }, () =>
        postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT }, { authorization: auth }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 200)) expect(LOSER_ERRORS).toContain(answer.body.error);
  });

  test('a refresh token redeemed concurrently rotates exactly once', async () => {
    const { code, verifier } = await freshCode();
    const first = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT }, { authorization: auth });
    const refreshToken = String(first.body.refresh_token);
    const answers = await Promise.all(
      Array.from({ length: CONCURRENCY }, () => postForm(`${hub.url}/token`, { grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization: auth })),
    );
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    for (const answer of answers.filter((a) => a.status !== 200)) expect(LOSER_ERRORS).toContain(answer.body.error);
  });
});
