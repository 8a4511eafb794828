/**
 * Self-service sign-ups that are never verified are removed after HUB_UNVERIFIED_ACCOUNT_DAYS
 * (hub/src/signup/unverified-accounts.ts), on both stores, with the mail received through a
 * real SMTP server and its link followed: the username becomes free, nothing of the account is
 * left in any index, verified and admin-made accounts stay, a verification racing the removal
 * ends one way or the other, and accounts an older release made get the whole period from the
 * upgrade. The sweeper's clock is moved; the records are the hub's own.
 */
import { NotFoundError } from '../src/errors.js';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../src/logger.js';
import { UnverifiedAccounts, type UnverifiedAccountsDeps } from '../src/signup/unverified-accounts.js';
import { connectRedis, RedisStore } from '../src/store/redis.js';
import type { Store } from '../src/store/store.js';
import { inputValue, TestBrowser } from '../src/testing/browser.js';
import { cliHarness } from '../src/testing/cli-harness.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startSmtpCatcher, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { startTestHub, testStoreKinds, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';
import { UcClient } from '../src/testing/ucenter-client.js';
import type { User } from '../src/users/user.js';

const PASSWORD = 'orbit tulip cactus lantern';
const DAY_MS = 86_400_000;

function unique(label: string) {
  const id = randomUUID().slice(0, 8);
  return { username: `${label}-${id}`, email: `${label}-${id}@example.com`, name: `${label} ${id}` };
}

async function signUp(hub: RunningHub, person: Record<string, string>) {
  const browser = new TestBrowser();
  const form = await browser.get(`${hub.url}/signup`);
  const html = await form.text();
  expect(form.status).toBe(200);
  return browser.post(`${hub.url}/signup`, { _csrf: inputValue(html, '_csrf'), password: PASSWORD, confirm: PASSWORD, ...person });
}

function verifyLinkOf(mail: { links: string[] }): string {
  const link = mail.links.find((candidate) => candidate.includes('/signup/verify?token='));
  if (!link) throw new Error('no verification link in the mail');
  return link;
}

/** Opens the link and presses its button: the page's status and HTML. */
async function verifyLink(hub: RunningHub, link: string) {
  const browser = new TestBrowser();
  const page = await browser.get(link);
  const html = await page.text();
  if (page.status !== 200) return { status: page.status, body: html };
  const answer = await browser.post(`${hub.url}/signup/verify`, { _csrf: inputValue(html, '_csrf'), token: inputValue(html, 'token') });
  return { status: answer.status, body: await answer.text() };
}

/** A sweeper over the hub's own services, with its clock at `nowMs`. */
function sweeperAt(hub: RunningHub, nowMs: number, change: Partial<UnverifiedAccountsDeps> = {}): UnverifiedAccounts {
  const s = hub.services;
  return new UnverifiedAccounts({
    store: s.store, keys: s.keys, users: s.users, sessions: s.sessions, grants: s.grants, consents: s.consents, twoStepRecords: s.twoStepRecords, audit: s.audit,
    logger: createLogger('silent'),
    days: hub.config.HUB_UNVERIFIED_ACCOUNT_DAYS,
    now: () => nowMs,
    ...change,
  });
}

/** Every key of a user, read from the store: what must all be gone, or all be there. */
async function footprint(hub: RunningHub, user: Pick<User, 'id' | 'username' | 'email' | 'uid'>) {
  const { store, keys } = hub.services;
  return {
    record: await store.get(keys.user(user.id)),
    byName: await store.get(keys.userByName(user.username)),
    byEmail: await store.get(keys.userByEmail(user.email)),
    byUid: user.uid === undefined ? null : await store.get(keys.userByUid(user.uid)),
    listed: (await store.setMembers(keys.users())).includes(user.id),
    unverified: (await store.zRangeByScore(keys.unverifiedUsers(), 0, Infinity)).includes(user.id),
  };
}

async function expectGone(hub: RunningHub, user: Pick<User, 'id' | 'username' | 'email' | 'uid'>, options: { scan?: boolean } = {}) {
  expect(await footprint(hub, user)).toEqual({ record: null, byName: null, byEmail: null, byUid: null, listed: false, unverified: false });
  expect((await hub.services.users.list()).some((listed) => listed.id === user.id)).toBe(false);
  if (hub.store instanceof RedisStore && options.scan !== false) {
    // Nothing anywhere under the prefix names the account, but the audit log's entries and what
    // expires within a day on its own: its verification links (dead now: no account to verify)
    // and sign-up counters. In real time the first link expired days ago.
    const client = await connectRedis(TEST_REDIS_URL);
    try {
      for await (const found of client.scanIterator({ MATCH: `${hub.config.KEY_PREFIX}*`, COUNT: 500 })) {
        for (const key of found) {
          if (key.includes(':audit:')) continue;
          const ttl = await client.ttl(key);
          if (ttl > 0 && ttl <= 86_400) continue;
          expect(key).not.toContain(user.id);
          const type = await client.type(key);
          const values = type === 'string' ? [(await client.get(key)) ?? ''] : type === 'set' ? await client.sMembers(key) : type === 'zset' ? await client.zRange(key, 0, -1) : [];
          for (const value of values) expect(value).not.toContain(user.id);
        }
      }
    } finally {
      await client.quit();
    }
  }
}

describe.each(testStoreKinds())('unverified sign-ups are removed after HUB_UNVERIFIED_ACCOUNT_DAYS (%s, real SMTP)', (kind) => {
  let catcher: SmtpCatcher;
  let hub: RunningHub;

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    hub = await startTestHub(kind, { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', SIGNUP_MAX_PER_IP: '1000' });
    await hub.services.clients.register({
      clientId: 'bbs', name: 'Forum', redirectUris: ['http://127.0.0.1:9/cb'], userdeleteUrl: 'http://127.0.0.1:9/sso/userdelete', backchannelLogoutUri: 'http://127.0.0.1:9/sso/backchannel',
    });
  });
  afterAll(async () => {
    await hub.close();
    await catcher.close();
  });

  test('an account never verified is removed after 7 days (not before), audited without its address, no subsite told, and its username is free again', async () => {
    const person = unique('squat');
    expect((await signUp(hub, person)).status).toBe(303);
    const link = verifyLinkOf(await catcher.waitFor(person.email));
    const user = (await hub.services.users.findByUsername(person.username))!;
    expect(user.unverifiedSince).toBeGreaterThan(0);
    const start = user.unverifiedSince! * 1000;

    // Six days on, and a second before the seventh ends: kept.
    expect((await sweeperAt(hub, start + 6 * DAY_MS).runOnce()).ran).toBe(true);
    await sweeperAt(hub, start + 7 * DAY_MS - 1000).runOnce();
    expect(await hub.services.users.findByUsername(person.username)).toBeDefined();

    const pass = await sweeperAt(hub, start + 7 * DAY_MS).runOnce();
    expect(pass.removed).toBeGreaterThanOrEqual(1);
    expect(await hub.services.users.findByUsername(person.username)).toBeUndefined();
    await expectGone(hub, user);

    const [entry] = await hub.services.audit.search({ event: 'signup.expired', user: user.id });
    expect(entry).toMatchObject({ actor: 'system', subject: user.id, detail: { username: person.username, days: 7 } });
    expect(JSON.stringify(entry)).not.toContain(person.email);
    // No forced logout: the account never signed in anywhere, no subsite was told anything.
    expect((await hub.services.deliveries.counts()).pending).toBe(0);

    // Its link is dead (the account it was for is gone): the page says so before any button.
    expect((await verifyLink(hub, link)).status).toBe(400);
    // The username is free: someone else signs up with it and verifies.
    const other = { ...unique('owner'), username: person.username };
    expect((await signUp(hub, other)).status).toBe(303);
    const owner = (await hub.services.users.findByUsername(person.username))!;
    expect(owner.id).not.toBe(user.id);
    expect(owner.email).toBe(other.email);
    expect((await verifyLink(hub, verifyLinkOf(await catcher.waitFor(other.email)))).status).toBe(200);
    expect((await hub.services.users.findById(owner.id))?.emailVerified).toBe(true);
  });

  test('the admin console and `users list` show an unverified account and when it will be removed', async () => {
    const person = unique('shown');
    await signUp(hub, person);
    await catcher.waitFor(person.email);
    const user = (await hub.services.users.findByUsername(person.username))!;
    const removeAt = new Date((user.unverifiedSince! + 7 * 86_400) * 1000).toISOString();
    const root = { username: `root-${randomUUID().slice(0, 8)}`, password: 'admin-password-1' };
    await hub.services.users.create({ ...root, email: `${root.username}@example.test`, roles: ['admin'] });
    const admin = await signInAtPortal(hub, root.username, root.password);
    const list = await (await admin.get(`${hub.url}/admin/users?q=${encodeURIComponent(person.username)}`)).text();
    expect(list).toContain('data-testid="user-removal"');
    expect(list).toContain(`datetime="${removeAt}"`);
    const detail = await (await admin.get(`${hub.url}/admin/users/${user.id}`)).text();
    expect(/data-testid="user-status">([\s\S]*?)<\/dd>/.exec(detail)![1]).toContain(`datetime="${removeAt}"`);
    // The admin's own account: no removal shown.
    const own = await (await admin.get(`${hub.url}/admin/users?q=${encodeURIComponent(root.username)}`)).text();
    expect(own).not.toContain('data-testid="user-removal"');
    if (kind === 'redis') {
      const cli = cliHarness({ REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX, HUB_ISSUER: hub.url });
      const listed = await cli.run('users', 'list');
      expect(listed.code).toBe(0);
      expect(listed.out).toMatch(new RegExp(`${person.username} .*unverified, removed ${removeAt.replace(/\./g, '\\.')} unless verified`));
      expect(listed.out).not.toMatch(new RegExp(`${root.username} .*unverified`));
    }
  });

  test('verified accounts and accounts an admin made are never removed; a resend extends nothing', async () => {
    const made = await hub.services.users.create({ username: `made-${randomUUID().slice(0, 8)}`, email: `made-${randomUUID().slice(0, 8)}@example.com`, password: 'made-password-1' });
    const verified = unique('verified');
    await signUp(hub, verified);
    expect((await verifyLink(hub, verifyLinkOf(await catcher.waitFor(verified.email)))).status).toBe(200);
    const verifiedUser = (await hub.services.users.findByUsername(verified.username))!;
    expect(verifiedUser.unverifiedSince).toBeUndefined();

    const waiting = unique('resend');
    await signUp(hub, waiting);
    await catcher.waitFor(waiting.email);
    const waitingUser = (await hub.services.users.findByUsername(waiting.username))!;
    // A resend on day six: a new link, but the account's time runs from its sign-up all the same.
    const resender = new TestBrowser();
    const resendPage = await (await resender.get(`${hub.url}/signup/resend`)).text();
    expect((await resender.post(`${hub.url}/signup/resend`, { _csrf: inputValue(resendPage, '_csrf'), login: waiting.username })).status).toBeLessThan(400);
    expect(await hub.services.audit.search({ event: 'signup.resent', user: waitingUser.id })).toHaveLength(1);
    expect((await hub.services.users.findById(waitingUser.id))?.unverifiedSince).toBe(waitingUser.unverifiedSince);

    // A self-sign-up an admin gave a role to was vouched for: kept as one an admin made.
    const promoted = unique('promoted');
    await signUp(hub, promoted);
    await catcher.waitFor(promoted.email);
    const promotedUser = (await hub.services.users.findByUsername(promoted.username))!;
    await hub.services.users.update(promotedUser.id, { roles: ['admin'] });

    await sweeperAt(hub, Date.now() + 30 * DAY_MS).runOnce();
    expect(await hub.services.users.findById(made.id)).toBeDefined();
    expect(await hub.services.users.findById(promotedUser.id)).toBeDefined();
    const stillVerified = (await footprint(hub, verifiedUser));
    expect(stillVerified).toMatchObject({ byName: verifiedUser.id, byEmail: verifiedUser.id, listed: true, unverified: false });
    expect(await hub.services.users.findById(waitingUser.id)).toBeUndefined();
  });

  test('a new address proven by its link keeps the account: off the removal list, no removal time left on the record', async () => {
    const mover = unique('mover');
    await signUp(hub, mover);
    await catcher.waitFor(mover.email);
    const before = (await hub.services.users.findByUsername(mover.username))!;
    expect((await footprint(hub, before)).unverified).toBe(true);
    const moved = await hub.services.users.changeEmail(before.id, `moved-${mover.email}`, { verified: true });
    expect(moved.emailVerified).toBe(true);
    expect(moved.unverifiedSince).toBeUndefined();
    expect((await hub.services.users.findById(before.id))?.unverifiedSince).toBeUndefined();
    expect((await footprint(hub, moved)).unverified).toBe(false);
    await sweeperAt(hub, Date.now() + 30 * DAY_MS).runOnce();
    expect(await hub.services.users.findById(before.id)).toBeDefined();
  });

  test('an address change confirmed once the removal has marked the account: refused, and the new address is not left claimed by a removed account', async () => {
    const late = unique('late');
    await signUp(hub, late);
    await catcher.waitFor(late.email);
    const user = (await hub.services.users.findByUsername(late.username))!;
    const { store, keys } = hub.services;
    // The removal's first step (removeUnverified's mark), its index releases still to come.
    await store.set(keys.user(user.id), JSON.stringify({ ...user, removing: true }));
    const newAddress = `new-${late.email}`;
    await expect(hub.services.users.changeEmail(user.id, newAddress, { verified: true })).rejects.toThrow(NotFoundError);
    expect(await store.get(keys.userByEmail(newAddress))).toBeNull();
    expect(JSON.parse((await store.get(keys.user(user.id)))!)).toMatchObject({ email: late.email, removing: true });
    await hub.services.users.removeUnverified(user.id, () => true);
    await expectGone(hub, user, { scan: false });
  });

  test('a sign-up replaced in its browser (withdraw) whose removal was cut off after its mark: the same browser sending the form again finishes it', async () => {
    // The store failing inside removeUnverified (after the mark, before the indexes were let go)
    // left the record `removing` with its username taken. The browser's next try was refused
    // (withdraw skipped a record `removing`), so the name stayed taken by a half-removed account
    // until the sweep's due time, HUB_UNVERIFIED_ACCOUNT_DAYS later.
    const person = unique('cutoff');
    await signUp(hub, person);
    await catcher.waitFor(person.email);
    const user = (await hub.services.users.findByUsername(person.username))!;
    const { store, keys } = hub.services;
    await store.set(keys.user(user.id), JSON.stringify({ ...user, removing: true }));
    expect(await sweeperAt(hub, Date.now()).withdraw(user.id, person.username, '127.0.0.1')).toBe(true);
    await expectGone(hub, user, { scan: false });
    expect((await signUp(hub, person)).status).toBe(303);
  });

  test('a verification racing the removal ends verified and whole, or removed and gone: never half of each', async () => {
    const { users } = hub.services;
    const people = await Promise.all(Array.from({ length: 12 }, async () => {
      const person = unique('race');
      await signUp(hub, person);
      await catcher.waitFor(person.email);
      return (await users.findByUsername(person.username))!;
    }));
    const due = (user: User) => user.unverifiedSince! * 1000 <= Date.now() + 8 * DAY_MS;
    // Both at once, one account after the other: one of the two started 0 to 20 ms after the
    // other (a verification takes a few ms on Redis), the verification first for odd accounts,
    // the removal for even ones, so each step of either meets the other somewhere.
    const after = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    const outcomes: { user: User; verified: string; removed: string }[] = [];
    for (const [index, user] of people.entries()) {
      const lag = Math.floor(index / 2) * 4;
      const [verified, removed] = await Promise.all([
        after(index % 2 ? 0 : lag).then(() => users.verifyEmail(user.id, user.email)),
        after(index % 2 ? lag : 0).then(() => users.removeUnverified(user.id, due)),
      ]);
      outcomes.push({ user, verified, removed: removed.outcome });
    }
    // Both endings happened (else this would test one order only).
    expect(new Set(outcomes.map((outcome) => outcome.verified))).toEqual(new Set(['verified', 'no-account']));
    for (const { user, verified, removed } of outcomes) {
      expect([verified, removed].sort()).toEqual(verified === 'verified' ? ['kept', 'verified'] : ['no-account', 'removed']);
      if (verified === 'verified') {
        const footprintNow = await footprint(hub, user);
        expect(footprintNow).toMatchObject({ byName: user.id, byEmail: user.id, byUid: user.id, listed: true, unverified: false });
        expect(JSON.parse(footprintNow.record!)).toMatchObject({ emailVerified: true });
        expect(JSON.parse(footprintNow.record!).removing).toBeUndefined();
      } else {
        await expectGone(hub, user);
      }
    }
  });

  test('the verification claims the address and then the removal wins the record: the claim is given back, the link is dead', async () => {
    const person = unique('between');
    await signUp(hub, person);
    const link = verifyLinkOf(await catcher.waitFor(person.email));
    const user = (await hub.services.users.findByUsername(person.username))!;
    const sweeper = sweeperAt(hub, user.unverifiedSince! * 1000 + 8 * DAY_MS);
    // The whole removal runs right after the verification's SET NX on the address index.
    // Patched on the store under the hub's instrumented one (which reads the method at each call).
    const store: Store = hub.store;
    const set = store.set.bind(store);
    const emailKey = hub.services.keys.userByEmail(person.email);
    let swept = false;
    store.set = async (key, value, options) => {
      const done = await set(key, value, options);
      if (key === emailKey && !swept) {
        swept = true;
        await sweeper.runOnce();
      }
      return done;
    };
    try {
      expect((await verifyLink(hub, link)).status).toBe(400);
    } finally {
      store.set = set;
    }
    expect(swept).toBe(true);
    await expectGone(hub, user);
  });

  test('an admin deleting the account meanwhile: the pass finds nothing and leaves nothing', async () => {
    const person = unique('deleted');
    await signUp(hub, person);
    await catcher.waitFor(person.email);
    const user = (await hub.services.users.findByUsername(person.username))!;
    await hub.services.lifecycle.delete(user.id, { actor: 'cli' });
    expect(await hub.services.users.removeUnverified(user.id, () => true)).toEqual({ outcome: 'gone' });
    await sweeperAt(hub, Date.now() + 8 * DAY_MS).runOnce();
    // (The admin's deletion queued its own notices, which name the account: not scanned for.)
    await expectGone(hub, user, { scan: false });
    expect(await hub.services.audit.search({ event: 'signup.expired', user: user.id })).toEqual([]);
  });

  test('the hub’s own timer (started by main) removes an account whose time is up, and stops', async () => {
    const { store, keys, users } = hub.services;
    const person = unique('timer');
    await signUp(hub, person);
    await catcher.waitFor(person.email);
    const user = (await users.findByUsername(person.username))!;
    // Signed up eight days ago.
    const since = user.unverifiedSince! - 8 * 86_400;
    await store.set(keys.user(user.id), JSON.stringify({ ...user, unverifiedSince: since }));
    await store.zAdd(keys.unverifiedUsers(), since * 1000, user.id);
    hub.unverified.start();
    try {
      for (let waited = 0; waited < 5_000 && (await users.findById(user.id)); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await hub.unverified.stop();
    }
    await expectGone(hub, user);
  });

  test('one process at a time: a second pass while the first holds the lock does nothing', async () => {
    const now = Date.now() + 8 * DAY_MS;
    const [first, second] = await Promise.all([sweeperAt(hub, now).runOnce(), sweeperAt(hub, now).runOnce()]);
    expect([first.ran, second.ran].sort()).toEqual([false, true]);
    // The lock is let go after the pass.
    expect(await hub.services.store.get(hub.services.keys.unverifiedSweepLock())).toBeNull();
  });

  test('upgrade: an unverified account an older release made is listed only when the operator asks, then gets the whole period; one with sign-in records is kept for good', async () => {
    const { store, keys, users } = hub.services;
    /** The record as an older release left it: no `unverifiedSince`, not on the list, made long ago. */
    const older = async (label: string) => {
      const person = unique(label);
      await signUp(hub, person);
      await catcher.waitFor(person.email);
      const user = (await users.findByUsername(person.username))!;
      const { unverifiedSince: _since, ...record } = user;
      await store.set(keys.user(user.id), JSON.stringify({ ...record, createdAt: record.createdAt - 90 * 86_400 }));
      await store.zRemove(keys.unverifiedUsers(), user.id);
      return user;
    };
    // Accounts enough for a walk of several passes.
    for (let i = 0; i < 6; i++) await users.create({ username: `other-${randomUUID().slice(0, 8)}`, email: `other-${randomUUID().slice(0, 8)}@example.com`, password: 'other-password-1' });
    const idle = await older('old-idle');
    const used = await older('old-used');
    // Something only a sign-in makes: a remembered consent.
    await hub.services.consents.remember(used.id, 'bbs', { scope: 'openid', claims: [] });
    await store.del(keys.unverifiedScanned());

    const upgrade = Date.now();
    // The passes after the upgrade (a few accounts each here) walk every account: the used one
    // is marked as signed in, kept for good; the idle one is not listed, though 90 days old (an
    // older release may have let it sign in, see the HUB_REQUIRE_VERIFIED_EMAIL=false tests).
    const walk = sweeperAt(hub, upgrade, { scanBatch: 3 });
    let passes = 0;
    for (let more = true; more && passes < 100; passes += 1) more = (await walk.runOnce()).scanning;
    if (kind === 'memory') expect(passes).toBeGreaterThan(2); // (Redis answers a set this small in one SSCAN)
    expect(await store.get(keys.unverifiedScanned())).toBe('done');
    expect(await users.findById(idle.id)).not.toHaveProperty('unverifiedSince');
    expect(await users.findById(used.id)).toMatchObject({ signedInUnverifiedAt: expect.any(Number) });
    await sweeperAt(hub, upgrade + 400 * DAY_MS).runOnce();
    expect(await users.findById(idle.id)).toBeDefined();

    // The operator asks (`users expire-older-unverified`): the idle one gets the whole period from then.
    if (kind === 'redis') {
      const cli = cliHarness({ REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX, HUB_ISSUER: hub.url });
      const asked = await cli.run('users', 'expire-older-unverified');
      expect(asked.code).toBe(0);
      expect(asked.out).toContain('1 unverified account(s) made by an older release listed: removed in 7 day(s) unless verified first');
      expect(asked.out).toContain('0 with sign-in records kept for good');
      await hub.services.audit.flush();
      expect(await hub.services.audit.search({ event: 'admin.unverified.list-older' })).toEqual([expect.objectContaining({ actor: 'cli', detail: { listed: 1, kept: 0, days: 7 } })]);
    } else {
      expect(await sweeperAt(hub, Date.now(), { scanBatch: 3 }).listOlder()).toEqual({ listed: 1, kept: 0 });
    }
    const since = (await users.findById(idle.id))!.unverifiedSince!;
    expect(since * 1000).toBeGreaterThanOrEqual(upgrade - 1000);
    await sweeperAt(hub, since * 1000 + 6 * DAY_MS).runOnce();
    expect(await users.findById(idle.id)).toBeDefined();
    await sweeperAt(hub, since * 1000 + 7 * DAY_MS + 1000).runOnce();
    await expectGone(hub, idle);
    expect(await users.findById(used.id)).toBeDefined();
    await sweeperAt(hub, upgrade + 400 * DAY_MS).runOnce();
    expect(await users.findById(used.id)).toBeDefined();
  });
});

describe.each(testStoreKinds())('HUB_REQUIRE_VERIFIED_EMAIL=false (%s): an unverified account that signed in is kept', (kind) => {
  let catcher: SmtpCatcher;
  let hub: RunningHub;

  beforeAll(async () => {
    catcher = await startSmtpCatcher();
    hub = await startTestHub(kind, { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', SIGNUP_MAX_PER_IP: '1000', HUB_REQUIRE_VERIFIED_EMAIL: 'false' });
  });
  afterAll(async () => {
    await hub.close();
    await catcher.close();
  });

  test('signed in once: never removed; never signed in: removed', async () => {
    const user = unique('used');
    const idle = unique('idle');
    await signUp(hub, user);
    await signUp(hub, idle);
    await catcher.waitFor(user.email);
    await catcher.waitFor(idle.email);
    await signInAtPortal(hub, user.username, PASSWORD);
    const kept = (await hub.services.users.findByUsername(user.username))!;
    expect(kept).toMatchObject({ emailVerified: false, signedInUnverifiedAt: expect.any(Number) });
    expect(kept.unverifiedSince).toBeUndefined();
    const idleUser = (await hub.services.users.findByUsername(idle.username))!;

    await sweeperAt(hub, Date.now() + 60 * DAY_MS).runOnce();
    expect(await hub.services.users.findById(kept.id)).toBeDefined();
    await expectGone(hub, idleUser);
    // Still signs in.
    await signInAtPortal(hub, user.username, PASSWORD);
  });

  test('turned on later (HUB_REQUIRE_VERIFIED_EMAIL=true): an account an older release let sign in unverified, a forum member through UCenter user/login, is never removed', async () => {
    const { store, keys, users } = hub.services;
    const forum = await hub.services.ucenter.apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004' });
    const client = new UcClient({ api: `${hub.url}/ucenter`, key: forum.key, appId: forum.appId });
    const person = unique('member');
    await signUp(hub, person);
    await catcher.waitFor(person.email);
    // Signed in at the forum (it keeps its own copy of the member, by uid), never at the hub's portal.
    const [uid] = await client.userLogin(person.username, PASSWORD);
    const member = (await users.findByUsername(person.username))!;
    expect(Number(uid)).toBe(member.uid);
    // The record as an older release left it after that sign-in: it wrote neither `unverifiedSince`
    // nor a mark of the sign-in, and UCenter's user/login leaves no session, grant or consent.
    const { unverifiedSince: _since, signedInUnverifiedAt: _signedIn, ...asOlder } = member;
    await store.set(keys.user(member.id), JSON.stringify(asOlder));
    await store.zRemove(keys.unverifiedUsers(), member.id);
    await store.del(keys.unverifiedScanned());

    // The operator restarts the hub with HUB_REQUIRE_VERIFIED_EMAIL=true (the same store and prefix).
    const strict = await startTestHub(kind, { SMTP_URL: catcher.url, HUB_SIGNUP: 'open', KEY_PREFIX: hub.config.KEY_PREFIX }, hub.store);
    try {
      expect(strict.config.HUB_REQUIRE_VERIFIED_EMAIL).toBe(true);
      const now = Date.now();
      for (let more = true, passes = 0; more && passes < 100; passes += 1) more = (await sweeperAt(strict, now).runOnce()).scanning;
      await sweeperAt(strict, now + 8 * DAY_MS).runOnce();
      await sweeperAt(strict, now + 400 * DAY_MS).runOnce();
      // The forum's member is still the hub's: not removed, its username and uid its own.
      expect(await users.findById(member.id)).toBeDefined();
      expect(await footprint(hub, member)).toMatchObject({ byName: member.id, byUid: member.id, listed: true });
      expect(await hub.services.audit.search({ event: 'signup.expired', user: member.id })).toEqual([]);
    } finally {
      await strict.close();
    }
  });

  test('a sign-in racing the removal: once the removal marked the record, the sign-in fails as for an unknown account', async () => {
    const person = unique('late');
    await signUp(hub, person);
    await catcher.waitFor(person.email);
    const user = (await hub.services.users.findByUsername(person.username))!;
    // The removal's first step (its compare-and-set mark) landed; the rest has not yet.
    await hub.services.store.set(hub.services.keys.user(user.id), JSON.stringify({ ...user, removing: true }));
    await expect(signInAtPortal(hub, person.username, PASSWORD)).rejects.toThrow('sign-in failed (401)');
    expect((await hub.services.users.findById(user.id))?.signedInUnverifiedAt).toBeUndefined();
    // The next pass finishes the removal, and nothing of the account is left.
    await sweeperAt(hub, user.unverifiedSince! * 1000 + 7 * DAY_MS).runOnce();
    await expectGone(hub, user);
  });
});
