import { TestBrowser } from '../src/testing/browser.js';
import { digest } from '../src/store/keys.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, postForm, walk } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const ALICE = { login: 'alice', password: 'wonderland-123' };
const DAY = 86_400;

describe('grant lifetime: offline_access added later in a sign-in session', () => {
  let hub: RunningHub;
  let auth: string;
  beforeAll(async () => {
    hub = await startTestHub('redis');
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    const client = await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] });
    auth = basic('rp', client.clientSecret!);
  });
  afterAll(() => hub.close());

  async function code(browser: TestBrowser, scope: string): Promise<Record<string, unknown>> {
    const request = codeRequest('rp', REDIRECT, { scope, ...(scope.includes('offline_access') ? { prompt: 'consent' } : {}) });
    const { callback } = await walk(browser, hub.url, authUrl(hub.url, request.params), ALICE);
    const answer = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: auth });
    expect(answer.status).toBe(200);
    return answer.body;
  }

  test('offline_access asked for later in the same sign-in session: its grant is still kept HUB_CONSENT_TTL (README)', async () => {
    const browser = new TestBrowser();
    await code(browser, 'openid profile');
    const tokens = await code(browser, 'openid offline_access');
    const { keys, store } = hub.services;
    const { grantId, scope } = JSON.parse((await store.get(keys.oidc('RefreshToken', digest(String(tokens.refresh_token)))))!) as { grantId: string; scope: string };
    expect(scope).toContain('offline_access');
    const ttl = await store.ttl(keys.oidc('Grant', digest(grantId)));
    expect(ttl).toBeGreaterThan(180 * DAY - 60); // on main: about 14 days
  });
});
