/**
 * A per-application limit on UCenter sign-ins: an application reports its user's address itself
 * (`ip` in user/login), so a leaked UC_KEY could give every guess a new address and try one
 * password at each of thousands of accounts (password spraying) with no per-address limit ever
 * reached; only each account's own pool slowed it. The application's failed (and in-flight)
 * password checks now share one count per window (UCENTER_MAX_FAILURES_PER_APP): past it, its
 * sign-ins are answered as UCenter's "too many attempts" (-4; logincheck 0; user/edit -1) before
 * anything is checked or counted against the account, so the limit is never a way to lock an
 * owner out: not at the hub, not at another application.
 */
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { UcClient } from '../src/testing/ucenter-client.js';
import type { UcenterApp } from '../src/ucenter/ucenter-app.js';
import { isSignedIn } from './support.js';

const ALICE = { username: 'alice', email: 'alice@example.com', password: 'wonderland-123' };
const LIMIT = 12;

/** A different documentation address per call, as a leaked key's owner would report them. */
const addressOf = (n: number) => `198.51.${Math.floor(n / 250)}.${(n % 250) + 1}`;

describe.each(STORE_KINDS)('per-application limit of UCenter sign-ins on %s', (kind) => {
  let hub: RunningHub;
  let forum: UcenterApp;
  let other: UcenterApp;
  let leaked: UcClient;
  let otherClient: UcClient;
  let aliceUid: number;

  beforeEach(async () => {
    hub = await startTestHub(kind, { UCENTER_MAX_FAILURES_PER_APP: String(LIMIT) });
    const { apps } = hub.services.ucenter;
    forum = await apps.register({ appId: 7, name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004' });
    other = await apps.register({ name: 'Wiki', type: 'OTHER', url: 'http://wiki.sso.test:5002' });
    aliceUid = (await hub.services.users.create(ALICE)).uid!;
    leaked = new UcClient({ api: `${hub.url}/ucenter`, key: forum.key, appId: forum.appId });
    otherClient = new UcClient({ api: `${hub.url}/ucenter`, key: other.key, appId: other.appId });
  });
  afterEach(() => hub.close());

  /** One guess at another account from another address: the answer's code. */
  const spray = async (client: UcClient, n: number) => (await client.userLogin(`member${n}`, 'Summer2026!', 0, { ip: addressOf(n) }))[0];

  it('a spray across accounts and addresses is cut off at the limit, answered as "too many attempts" (-4)', async () => {
    const answers: string[] = [];
    for (let n = 0; n < LIMIT + 5; n += 1) answers.push((await spray(leaked, n))!);
    expect(answers.slice(0, LIMIT)).toEqual(Array(LIMIT).fill('-1')); // unknown user: checked
    expect(answers.slice(LIMIT)).toEqual(Array(5).fill('-4'));
    // logincheck says 0 (Discuz!: "too many attempts"), and user/edit is refused as the account's own limit refuses it (-1).
    expect(await leaked.call('user', 'logincheck', { username: 'alice', ip: addressOf(999) })).toBe('0');
    const hashBefore = (await hub.services.users.findByUsername('alice'))!.passwordHash;
    expect(await leaked.call('user', 'edit', { username: 'alice', oldpw: ALICE.password, newpw: 'looking-glass-456', email: '', ignoreoldpw: 0, ip: addressOf(998) })).toBe('-1');
    expect((await hub.services.users.findByUsername('alice'))!.passwordHash).toBe(hashBefore);
    const throttled = await hub.services.audit.search({ event: 'login.throttled', client: 'ucenter:7' });
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled[0]!.detail).toMatchObject({ limit: 'application' });
  });

  it('cannot be turned against an account owner: refused guesses count nothing against the account, which signs in elsewhere as before', async () => {
    for (let n = 0; n < LIMIT; n += 1) await spray(leaked, n);
    // Aimed at alice now: every try refused before her password is checked or her pool counted.
    for (let n = 0; n < 20; n += 1) expect((await leaked.userLogin('alice', `guess-${n}`, 0, { ip: addressOf(n) }))[0]).toBe('-4');
    // Her pool is untouched: another application still sees her whole allowance, and she signs in there...
    expect(await otherClient.call('user', 'logincheck', { username: 'alice', ip: addressOf(500) })).toBe('5');
    expect((await otherClient.userLogin('alice', ALICE.password, 0, { ip: addressOf(501) }))[0]).toBe(String(aliceUid));
    // ...and at the hub.
    const browser = new TestBrowser();
    const login = await browser.follow(`${hub.url}/login?next=${encodeURIComponent('/account')}`);
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(login.body)![1]!;
    const answer = await browser.post(`${hub.url}${action}`, { _csrf: inputValue(login.body, '_csrf'), login: ALICE.username, password: ALICE.password });
    await browser.follow(continueUrlOf(await answer.text(), hub.url));
    expect(await isSignedIn(browser, hub.url)).toBe(true);
  });

  it('counts failures only: members signing in give their check back, so a busy forum is not refused for its own sign-ins', async () => {
    for (let n = 0; n < LIMIT - 1; n += 1) expect(await spray(leaked, n)).toBe('-1');
    for (let n = 0; n < 3 * LIMIT; n += 1) expect((await leaked.userLogin('alice', ALICE.password, 0, { ip: addressOf(n) }))[0]).toBe(String(aliceUid));
    expect(await spray(leaked, 100)).toBe('-1'); // the last failure the window takes
    expect(await spray(leaked, 101)).toBe('-4');
  });

  it('one application over its limit leaves the others alone, and an application registered later under its app id starts afresh', async () => {
    for (let n = 0; n < LIMIT + 1; n += 1) await spray(leaked, n);
    expect(await spray(leaked, 200)).toBe('-4');
    expect(await spray(otherClient, 201)).toBe('-1');
    await hub.services.ucenter.apps.remove(7);
    const renewed = await hub.services.ucenter.apps.register({ appId: 7, name: 'New forum', type: 'DISCUZX', url: 'http://new.sso.test:5006' });
    const fresh = new UcClient({ api: `${hub.url}/ucenter`, key: renewed.key, appId: 7 });
    expect(await spray(fresh, 202)).toBe('-1');
  });
});

describe('off unless UCENTER_MAX_FAILURES_PER_APP is set', () => {
  // On, it is a lever: wrong passwords at a forum's own form from a few addresses (each within
  // LOGIN_MAX_ATTEMPTS_PER_IP) would stop every member's sign-in there, key or no key.
  it('a flood of failed sign-ins through one application leaves its members signing in', async () => {
    const hub = await startTestHub('memory', { LOGIN_MAX_ATTEMPTS_PER_IP: '1000' });
    try {
      expect(hub.config.UCENTER_MAX_FAILURES_PER_APP).toBeUndefined();
      const forum = await hub.services.ucenter.apps.register({ appId: 7, name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004' });
      await hub.services.users.create(ALICE);
      const client = new UcClient({ api: `${hub.url}/ucenter`, key: forum.key, appId: forum.appId });
      for (let n = 0; n < 30; n += 1) expect((await client.userLogin(`member${n}`, 'Summer2026!', 0, { ip: addressOf(n) }))[0]).toBe('-1');
      expect(Number((await client.userLogin('alice', ALICE.password, 0, { ip: addressOf(500) }))[0])).toBeGreaterThan(0);
    } finally {
      await hub.close();
    }
  });
});
