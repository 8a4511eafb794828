/**
 * The store stalls just as a sign-in resumes (`GET /auth/:uid`): the resume check
 * (oidc/resume-check.ts) is the first thing that reads the store there, so a Redis pause of a
 * couple of seconds lands on it. Seen in a scale-out review (two hubs behind nginx, redis-server
 * SIGSTOPped for 2.5 s as the browser followed the sync page's continue link): 3 of 3 such resumes
 * got the 503 page with only "Go to sso-hub" (the portal's home, away from the site the person was
 * signing in to), where the README promises the page with "Try again". The check fails before
 * oidc-provider touches the interaction, so the resume itself can be loaded again: its "Try
 * again" is the resume's own URL, and following it once the store is back finishes the sign-in
 * without asking for the password again. On Redis the first store call of a resume is the sign-in
 * start limit's count (security/signin-start-limit.ts, which runs before the resume check): its
 * 503 page had no "Try again" either, for any of the pages it counts (`/auth`, `/auth/:uid`,
 * `/session/end`), although each can be loaded again as it is.
 */
import { TestBrowser, attribute } from '../src/testing/browser.js';
import { signInUpToResume } from '../src/testing/flows.js';
import { MemoryStore } from '../src/store/memory.js';
import { connectRedis, RedisStore } from '../src/store/redis.js';
import { startOwnRedis, type OwnRedis } from '../src/testing/redis-server.js';
import { faultyStore } from '../src/testing/faulty-store.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { authUrl, codeRequest } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const ALICE = { login: 'alice', password: 'wonderland-123' };

describe('the store is down when a sign-in resumes (the resume check)', () => {
  let hub: RunningHub;
  let failInteractionReads = false;

  beforeAll(async () => {
    // Reads of an oidc-provider Interaction record fail as Redis's would while it is down.
    const faulty = faultyStore(new MemoryStore(), { reads: true });
    faulty.plan((method, key) => (failInteractionReads && method === 'get' && key.includes(':oidc:Interaction:') ? 'fail' : 'ok'));
    hub = await startTestHub('memory', {}, faulty.store);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    await hub.services.clients.register({ clientId: 'first-party', name: 'First Party', redirectUris: [REDIRECT], trusted: true });
  });
  afterAll(async () => {
    await hub.close();
  });

  test('503 with Retry-After and a "Try again" that is the resume itself; it signs in once the store is back', async () => {
    const browser = new TestBrowser();
    const request = codeRequest('first-party', REDIRECT);
    const resume = await signInUpToResume(browser, hub.url, authUrl(hub.url, request.params), ALICE.login, ALICE.password);

    failInteractionReads = true;
    const failed = await browser.get(resume);
    const page = await failed.text();
    expect({ status: failed.status, retryAfter: failed.headers.get('retry-after'), location: failed.headers.get('location') })
      .toEqual({ status: 503, retryAfter: '5', location: null });

    const retry = attribute(page, /href="([^"]+)" data-testid="error-retry"/);
    expect(retry).toBe(new URL(resume).pathname);
    failInteractionReads = false;
    const retried = await browser.get(new URL(retry, hub.url).toString());
    expect(retried.status).toBe(303);
    const callback = new URL(retried.headers.get('location')!);
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT);
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(callback.searchParams.get('state')).toBe(request.params.state);
  });
});

describe('Redis paused as a sign-in resumes (the sign-in start limit counts first)', () => {
  let redis: OwnRedis;
  let store: RedisStore;
  let hub: RunningHub;

  beforeAll(async () => {
    redis = await startOwnRedis();
    store = new RedisStore(await connectRedis(redis.url));
    hub = await startTestHub('redis', {}, store);
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    await hub.services.clients.register({ clientId: 'first-party', name: 'First Party', redirectUris: [REDIRECT], trusted: true });
  });
  afterAll(async () => {
    redis.resume();
    store.client.destroy();
    await hub.close();
    await redis.stop();
  });

  test('503 with Retry-After and a "Try again" that is the resume itself; it signs in once Redis answers again', async () => {
    const browser = new TestBrowser();
    const request = codeRequest('first-party', REDIRECT);
    const resume = await signInUpToResume(browser, hub.url, authUrl(hub.url, request.params), ALICE.login, ALICE.password);

    redis.pause();
    let failed: Response;
    try {
      failed = await browser.get(resume);
    } finally {
      redis.resume();
    }
    const page = await failed.text();
    expect({ status: failed.status, retryAfter: failed.headers.get('retry-after'), location: failed.headers.get('location') })
      .toEqual({ status: 503, retryAfter: '5', location: null });
    const retry = attribute(page, /href="([^"]+)" data-testid="error-retry"/);
    expect(retry).toBe(new URL(resume).pathname);

    const retried = await browser.get(new URL(retry, hub.url).toString());
    expect(retried.status).toBe(303);
    const callback = new URL(retried.headers.get('location')!);
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT);
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(callback.searchParams.get('state')).toBe(request.params.state);
  });
});
