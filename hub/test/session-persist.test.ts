/**
 * The store fails just as oidc-provider saves the session, after the route has answered (a
 * Redis failover in the middle of a resume). oidc-provider saves a touched session outside
 * its routes' error handling, so the failure reached koa's default handler: a bare 500 (seen
 * in a CI run of sentinel-failover.test.ts). The design says fail closed with a 503 that can
 * be retried: no redirect, no cookie for the session that was not saved, and a "try again"
 * that signs the user in once the store is back.
 */
import { TestBrowser, attribute, inputValue } from '../src/testing/browser.js';
import { continueUrlOf, signInUpToResume } from '../src/testing/flows.js';
import { MemoryStore } from '../src/store/memory.js';
import { faultyStore } from '../src/testing/faulty-store.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const ALICE = { login: 'alice', password: 'wonderland-123' };

describe('the store fails while oidc-provider saves the session (resume)', () => {
  let hub: RunningHub;
  let failSessionWrites = false;

  beforeAll(async () => {
    // Writes that touch an oidc-provider Session record fail as Redis's would while it is down.
    const faulty = faultyStore(new MemoryStore());
    faulty.plan((_method, key) => (failSessionWrites && key.includes(':oidc:Session:') ? 'fail' : 'ok'));
    const store = faulty.store;
    hub = await startTestHub('memory', {}, store);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    await hub.services.clients.register({ clientId: 'first-party', name: 'First Party', redirectUris: [REDIRECT], trusted: true });
  });
  afterAll(async () => {
    await hub.close();
  });

  test('503 with Retry-After, no redirect and no cookie; its "try again" signs in once the store is back', async () => {
    const browser = new TestBrowser();
    const request = codeRequest('first-party', REDIRECT);
    const resume = await signInUpToResume(browser, hub.url, authUrl(hub.url, request.params), ALICE.login, ALICE.password);

    failSessionWrites = true;
    const failed = await browser.get(resume);
    const page = await failed.text();
    expect({ status: failed.status, retryAfter: failed.headers.get('retry-after'), location: failed.headers.get('location'), cookies: failed.headers.getSetCookie() })
      .toEqual({ status: 503, retryAfter: '5', location: null, cookies: [] });
    expect(failed.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page).toContain('temporarily_unavailable');

    // The resume itself cannot be reloaded (oidc-provider consumed its interaction before the
    // save failed): "try again" runs the client's authorization request again, on the hub.
    const retry = attribute(page, /href="([^"]+)" data-testid="error-retry"/);
    expect(retry.startsWith('/auth?')).toBe(true);
    failSessionWrites = false;
    const again = await browser.follow(new URL(retry, hub.url).toString());
    const againAction = new URL(attribute(again.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
    const signedIn = await browser.post(againAction, { _csrf: inputValue(again.body, '_csrf'), login: ALICE.login, password: ALICE.password });
    const retried = await browser.get(continueUrlOf(await signedIn.text(), hub.url));
    expect(retried.status).toBe(303);
    const callback = new URL(retried.headers.get('location')!);
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT);
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(callback.searchParams.get('state')).toBe(request.params.state);
  });
});
