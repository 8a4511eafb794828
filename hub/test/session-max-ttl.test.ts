/**
 * ASVS 5 V7.3.2: a hub sign-in has an absolute maximum lifetime. oidc-provider saves a session
 * with its whole lifetime again at every request that uses it, so a subsite's silent check
 * (`prompt=none`) made more often than `HUB_SESSION_TTL` kept a sign-in alive for good (an
 * audit: with `HUB_SESSION_TTL=20`, silent checks every 8 s still got codes after 48 s).
 * `HUB_SESSION_MAX_TTL` after the sign-in, the session ends however it is used; the idle
 * lifetime stays `HUB_SESSION_TTL` (session-ttl.ts).
 */
import { TestBrowser } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import type Provider from 'oidc-provider';
import { ANONYMOUS_SESSION_TTL, endSessionsAtMaximum, sessionTtl } from '../src/oidc/session-ttl.js';
import { loadConfig, DEFAULT_SESSION_MAX_TTL } from '../src/config.js';
import { authUrl, codeRequest, walk } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const ALICE = { login: 'alice', password: 'wonderland-123' };
const IDLE = 2; // HUB_SESSION_TTL, seconds
const MAX = 12; // HUB_SESSION_MAX_TTL, seconds
/** A session record is stored its lifetime and 5 s more (adapter.ts): an unused one is found that much longer. */
const STORE_SLACK = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(STORE_KINDS)('a hub sign-in kept in use by silent checks (%s)', (kind) => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub(kind, { HUB_SESSION_TTL: String(IDLE), HUB_SESSION_MAX_TTL: String(MAX) });
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: ALICE.password });
    await hub.services.clients.register({ clientId: 'rp', trusted: true, redirectUris: [REDIRECT], grantTypes: ['authorization_code'] });
  });
  afterAll(() => hub.close());

  test('slides while used, and ends HUB_SESSION_MAX_TTL after the sign-in', async () => {
    const browser = new TestBrowser();
    const { callback } = await walk(browser, hub.url, authUrl(hub.url, codeRequest('rp', REDIRECT).params), ALICE);
    expect(callback.searchParams.get('code')).toBeTruthy();
    const signedInAt = Date.now();
    const silent = async () => {
      const answer = await browser.get(authUrl(hub.url, codeRequest('rp', REDIRECT, { prompt: 'none' }).params));
      return new URL(answer.headers.get('location')!);
    };
    // Every 2 s, within the idle lifetime: the session slides past it (and past its record's slack).
    const seen: string[] = [];
    while (Date.now() - signedInAt < (MAX - 3) * 1000) {
      await sleep(2_000);
      const answer = await silent();
      seen.push(answer.searchParams.get('code') ? 'code' : String(answer.searchParams.get('error')));
    }
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen.every((what) => what === 'code')).toBe(true); // used, it outlived HUB_SESSION_TTL
    // Still used every 2 s, but past HUB_SESSION_MAX_TTL since the sign-in (whole seconds): signed out.
    const end = (MAX + 2) * 1000;
    while (Date.now() - signedInAt < end) {
      await sleep(Math.min(2_000, end - (Date.now() - signedInAt) + 10));
      await silent();
    }
    const after = await silent();
    expect(after.searchParams.get('error')).toBe('login_required');
    expect(after.searchParams.get('code')).toBeNull();
  }, 40_000);

  test('an unused sign-in still ends after HUB_SESSION_TTL', async () => {
    const browser = new TestBrowser();
    await walk(browser, hub.url, authUrl(hub.url, codeRequest('rp', REDIRECT).params), ALICE);
    await sleep((IDLE + STORE_SLACK + 1) * 1000);
    const answer = await browser.get(authUrl(hub.url, codeRequest('rp', REDIRECT, { prompt: 'none' }).params));
    expect(new URL(answer.headers.get('location')!).searchParams.get('error')).toBe('login_required');
  }, 15_000);
});

describe('sessionTtl', () => {
  const config = { HUB_SESSION_TTL: 100, HUB_SESSION_MAX_TTL: 1000 };
  const at = (now: number) => sessionTtl(config, () => now);
  test('the idle lifetime, cut at the maximum after the sign-in', () => {
    expect(at(5_000)(undefined, {})).toBe(100); // no sign-in yet
    expect(at(5_000)(undefined, { loginTs: 5_000 })).toBe(100);
    expect(at(5_950)(undefined, { loginTs: 5_000 })).toBe(50);
    expect(at(6_000)(undefined, { loginTs: 5_000 })).toBe(1); // oidc-provider wants a positive lifetime
    expect(at(7_000)(undefined, { loginTs: 5_000 })).toBe(1);
  });
  test('a session nobody signed in to (an anonymous sign-out page\'s) is kept an hour at most, not HUB_SESSION_TTL', () => {
    const long = sessionTtl({ HUB_SESSION_TTL: 43_200, HUB_SESSION_MAX_TTL: 2_592_000 }, () => 5_000);
    expect(long(undefined, {})).toBe(ANONYMOUS_SESSION_TTL);
    expect(long(undefined, { accountId: 'a' })).toBe(43_200); // a signed-in session of an older release, without loginTs
    expect(long(undefined, { accountId: 'a', loginTs: 5_000 })).toBe(43_200);
  });
});

describe('endSessionsAtMaximum', () => {
  test('a session past its maximum is not found by id (the browser) nor by uid (tokens that end with it: refresh, userinfo, introspection)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const old = { loginTs: now - 1_001, accountId: 'a' };
    const recent = { loginTs: now - 10, accountId: 'b' };
    const Session = { find: async (id: string) => (id === 'old' ? old : recent), findByUid: async (uid: string) => (uid === 'old' ? old : recent) };
    endSessionsAtMaximum({ Session } as unknown as Provider, { HUB_SESSION_TTL: 100, HUB_SESSION_MAX_TTL: 1_000 });
    expect(await Session.find('old')).toBeUndefined();
    expect(await Session.findByUid('old')).toBeUndefined();
    expect(await Session.find('recent')).toBe(recent);
    expect(await Session.findByUid('recent')).toBe(recent);
  });
});

describe('HUB_SESSION_MAX_TTL', () => {
  test('30 days unless HUB_SESSION_TTL is longer; never less than HUB_SESSION_TTL', () => {
    expect(DEFAULT_SESSION_MAX_TTL).toBe(30 * 86_400);
    expect(loadConfig({}).HUB_SESSION_MAX_TTL).toBe(30 * 86_400);
    expect(loadConfig({ HUB_SESSION_TTL: String(60 * 86_400) }).HUB_SESSION_MAX_TTL).toBe(60 * 86_400);
    expect(loadConfig({ HUB_SESSION_MAX_TTL: '86400' }).HUB_SESSION_MAX_TTL).toBe(86_400);
    expect(() => loadConfig({ HUB_SESSION_MAX_TTL: '3600' })).toThrow(/HUB_SESSION_MAX_TTL: must be at least HUB_SESSION_TTL \(3600 < 43200\)/);
  });
});
