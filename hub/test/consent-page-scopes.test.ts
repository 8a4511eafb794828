/**
 * The consent page lists what the site asks for. A site that wants `offline_access` must ask
 * with `prompt=consent` (OIDC Core §11; the hub drops the scope otherwise), and `prompt=consent`
 * asks again for what the user allowed before (OIDC Core §3.1.2.1): nothing is "missing" from
 * the grant then. Before, the page listed only missing scopes, so a trusted site's request for
 * offline access, and any site's second one, showed "RP would like to:" above an empty list (an
 * outside review with openid-client).
 */
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { TestBrowser } from '../src/testing/browser.js';
import { authUrl, basic, codeRequest, postForm, walk } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const PASSWORD = 'looking-glass-42';
const ALICE = { login: 'alice', password: PASSWORD };

function listed(page: string): string[] {
  const list = /would like to:<\/p>\s*<ul[^>]*>([\s\S]*?)<\/ul>/.exec(page)?.[1] ?? '';
  return [...list.matchAll(/<li>([^<]*)<\/li>/g)].map((item) => item[1]!.trim());
}

function consentPage(pages: string[]): string {
  const page = pages.find((html) => /action="\/interaction\/[^"]+\/confirm"/.test(html));
  expect(page).toBeDefined();
  return page!;
}

describe('the consent page lists the scopes asked for (memory store)', () => {
  let hub: RunningHub;
  const auth: Record<string, string> = {};

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', name: 'Alice', password: PASSWORD });
    for (const [clientId, trusted] of [['first-party', true], ['third-party', false]] as const) {
      const client = await hub.services.clients.register({ clientId, trusted, redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] });
      auth[clientId] = basic(clientId, client.clientSecret!);
    }
  });
  afterAll(() => hub.close());

  async function flow(clientId: string, browser: TestBrowser, overrides: Record<string, string>) {
    const request = codeRequest(clientId, REDIRECT, overrides);
    const walked = await walk(browser, hub.url, authUrl(hub.url, request.params), ALICE);
    const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: walked.callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: auth[clientId]! });
    expect(tokens.status).toBe(200);
    return { ...walked, scope: String(tokens.body.scope) };
  }

  test('a trusted site asking for offline access with prompt=consent: the page lists it, and the token has it', async () => {
    const browser = new TestBrowser();
    const plain = await flow('first-party', browser, { scope: 'openid offline_access' });
    expect(plain.sawConsent).toBe(false);
    expect(plain.scope).toBe('openid'); // OIDC Core §11: without prompt=consent, offline_access is dropped
    const asked = await flow('first-party', browser, { scope: 'openid profile offline_access', prompt: 'consent' });
    expect(listed(consentPage(asked.pages))).toEqual(['Know who you are', 'See your name and username', 'Stay connected while you are away']);
    expect(asked.scope.split(' ').sort()).toEqual(['offline_access', 'openid', 'profile']);
  });

  test('a third-party site asking again with prompt=consent: the page lists what it asks, as the first time', async () => {
    const browser = new TestBrowser();
    const first = await flow('third-party', browser, { scope: 'openid email' });
    expect(listed(consentPage(first.pages))).toEqual(['Know who you are', 'See your e-mail address']);
    const again = await flow('third-party', browser, { scope: 'openid email', prompt: 'consent' });
    expect(listed(consentPage(again.pages))).toEqual(['Know who you are', 'See your e-mail address']);
  });
});
