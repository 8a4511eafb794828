/**
 * A silent check (`prompt=none`) that the store's outage stops goes back to its client's
 * registered redirect URI with `error=temporarily_unavailable` (RFC 6749 §4.1.2.1), as
 * oidc-provider's own errors do; before, it got the hub's 503 page, which stranded the browser
 * of a subsite's behind-the-back check on the hub (an outside fault review). An interactive
 * request keeps the page (the user is at the hub, and it offers to try again), and nothing goes
 * to a redirect URI the client did not register.
 */
import { TestBrowser } from '../src/testing/browser.js';
import { faultyStore } from '../src/testing/faulty-store.js';
import { openTestStore, startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import type { Store } from '../src/store/store.js';
import { authUrl, codeRequest, walk } from './support.js';

const REDIRECT = 'http://rp.test/cb';

describe('a silent check while the store is down (redis)', () => {
  let hub: RunningHub;
  let inner: Store;
  let plan: ReturnType<typeof faultyStore>['plan'];
  let browser: TestBrowser;

  beforeAll(async () => {
    inner = await openTestStore('redis');
    const faulty = faultyStore(inner, { reads: true });
    plan = faulty.plan;
    hub = await startTestHub('redis', {}, faulty.store);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: 'wonderland-123' });
    await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT] });
    browser = new TestBrowser();
    const first = codeRequest('rp', REDIRECT);
    await walk(browser, hub.url, authUrl(hub.url, first.params), { login: 'alice', password: 'wonderland-123' });
  });
  afterEach(() => plan(undefined));
  afterAll(async () => {
    await hub.close();
    await inner.close();
  });

  const down = () => plan(() => 'fail');

  test('prompt=none: back to the redirect URI with temporarily_unavailable, state and iss, no code', async () => {
    down();
    const request = codeRequest('rp', REDIRECT, { prompt: 'none' });
    const answer = await browser.get(authUrl(hub.url, request.params));
    await answer.arrayBuffer();
    expect(answer.status).toBe(303);
    const target = new URL(answer.headers.get('location')!);
    expect(target.origin + target.pathname).toBe(REDIRECT);
    expect(target.searchParams.get('error')).toBe('temporarily_unavailable');
    expect(target.searchParams.get('state')).toBe(request.params.state);
    expect(target.searchParams.get('iss')).toBe(hub.config.HUB_ISSUER);
    expect(target.searchParams.get('code')).toBeNull();
    expect(answer.headers.get('set-cookie')).toBeNull();
    // Back up: the same check signs in silently.
    plan(undefined);
    const again = codeRequest('rp', REDIRECT, { prompt: 'none' });
    const { callback } = await walk(browser, hub.url, authUrl(hub.url, again.params));
    expect(callback.searchParams.get('code')).toBeTruthy();
  });

  test('also once the client cache is older than its second (oidc-provider then finds no client): by the record this process last loaded', async () => {
    down();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const request = codeRequest('rp', REDIRECT, { prompt: 'none' });
    const answer = await browser.get(authUrl(hub.url, request.params));
    await answer.arrayBuffer();
    expect(answer.status).toBe(303);
    expect(new URL(answer.headers.get('location')!).searchParams.get('error')).toBe('temporarily_unavailable');
    // Not to a URI that record does not hold.
    const elsewhere = await browser.get(authUrl(hub.url, codeRequest('rp', 'http://evil.test/cb', { prompt: 'none' }).params));
    await elsewhere.arrayBuffer();
    expect(elsewhere.headers.get('location')).toBeNull();
  });

  test('in the fragment when the response mode says so', async () => {
    down();
    const request = codeRequest('rp', REDIRECT, { prompt: 'none', response_mode: 'fragment' });
    const answer = await browser.get(authUrl(hub.url, request.params));
    await answer.arrayBuffer();
    const target = new URL(answer.headers.get('location')!);
    expect(target.search).toBe('');
    expect(new URLSearchParams(target.hash.slice(1)).get('error')).toBe('temporarily_unavailable');
  });

  test('an interactive request, a form_post check and an unregistered redirect URI keep the 503 page', async () => {
    down();
    // At the same moment a registered one is redirected: what follows is refused for what it is.
    const registered = await browser.get(authUrl(hub.url, codeRequest('rp', REDIRECT, { prompt: 'none' }).params));
    await registered.arrayBuffer();
    expect(registered.status).toBe(303);
    for (const params of [
      codeRequest('rp', REDIRECT).params,
      codeRequest('rp', REDIRECT, { prompt: 'none', response_mode: 'form_post' }).params,
      codeRequest('rp', 'http://evil.test/cb', { prompt: 'none' }).params,
    ]) {
      const answer = await browser.get(authUrl(hub.url, params));
      const html = await answer.text();
      expect(answer.headers.get('location')).toBeNull();
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(html).toContain('<!doctype html>');
    }
  });
});
