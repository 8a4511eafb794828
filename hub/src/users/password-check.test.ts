import { LoginThrottle } from '../security/login-throttle.js';
import { startTestHub, type RunningHub } from '../testing/test-hub.js';
import { totpCode } from '../testing/totp.js';
import { PasswordCheck, type PasswordCheckDeps, type PasswordCheckRequest } from './password-check.js';
import { PasswordHasher } from './passwords.js';
import type { User } from './user.js';

/**
 * The password sign-in check shared by the portal, the password grant and UCenter's user/login
 * (password-check.ts): each outcome, and what it counted. The callers' answers to each are
 * tested where they are (portal, lockout, password-grant, ucenter, unverified-accounts, busy-sign-in).
 */
describe('PasswordCheck outcomes', () => {
  let hub: RunningHub;
  let deps: PasswordCheckDeps;
  let throttle: LoginThrottle;
  let check: PasswordCheck;
  let keyPrefix = 0;

  beforeAll(async () => {
    // One check at a time and one waiting, so the hasher can be made busy.
    hub = await startTestHub('memory', { ARGON2_CONCURRENCY: '1', ARGON2_QUEUE_LIMIT: '1' });
    await hub.services.users.create({ username: 'alice', email: 'alice@example.test', password: 'alice-password-1' });
  });
  afterAll(() => hub.close());
  beforeEach(() => {
    // A throttle of its own per test (memory), two failures per account before delays.
    keyPrefix += 1;
    throttle = new LoginThrottle({ maxFailuresPerAccount: 2, maxAttemptsPerIp: 1000, windowSeconds: 60, backoffBaseSeconds: 30, backoffMaxSeconds: 240, keyPrefix: `pc${keyPrefix}` });
    const { users, hasher, twoStep } = hub.services;
    deps = { users, hasher, throttle, twoStep, requireVerifiedEmail: false };
    check = new PasswordCheck(deps);
  });

  const alice = async () => (await hub.services.users.findByLogin('alice'))!;
  const request = (user: User | undefined, password: string, more: Partial<PasswordCheckRequest> = {}): PasswordCheckRequest => ({ login: user?.username ?? 'nobody', user, password, ip: '10.0.0.1', via: 'app', ...more });
  /** How many more attempts the account's pool takes now. */
  const left = (account: string) => throttle.attemptsLeft({ ip: '10.0.0.1', account, via: 'app' });

  test('ok: the user, nothing counted against it; two-step read only when asked', async () => {
    const user = await alice();
    expect(await check.check(request(user, 'alice-password-1'))).toEqual({ kind: 'ok', user });
    expect(await check.check(request(user, 'alice-password-1', { twoStep: 'with-success' }))).toEqual({ kind: 'ok', user, secondStep: false });
    expect(await check.check(request(user, 'alice-password-1', { twoStep: 'in-check' }))).toEqual({ kind: 'ok', user, secondStep: false });
    expect(await left(user.id)).toBe(2);
  });

  test('wrong: unknown login, wrong password, disabled account: each a failure, the user (if any) said', async () => {
    const user = await alice();
    expect(await check.check(request(undefined, 'whatever-password'))).toEqual({ kind: 'wrong', reason: 'unknown', user: undefined });
    expect(await left('nobody')).toBe(1);
    expect(await check.check(request(user, 'not-her-password'))).toEqual({ kind: 'wrong', reason: 'password', user });
    expect(await left(user.id)).toBe(1);
    const disabled = { ...user, disabled: true };
    expect(await check.check(request(disabled, 'alice-password-1'))).toEqual({ kind: 'wrong', reason: 'disabled', user: disabled });
    expect(await left(user.id)).toBe(0);
  });

  test('throttled: past the account\'s failures, not checked, with the wait', async () => {
    const user = await alice();
    for (let i = 0; i < 2; i += 1) expect((await check.check(request(user, 'not-her-password'))).kind).toBe('wrong');
    const outcome = await check.check(request(user, 'alice-password-1'));
    expect(outcome).toMatchObject({ kind: 'throttled', retryAfter: 30 });
    // A browser with the account's device cookie is judged by its own failures only.
    expect((await check.check(request(user, 'alice-password-1', { via: 'portal', device: 'device-1' }))).kind).toBe('ok');
  });

  test('busy: too many checks waiting, not counted, with the wait', async () => {
    const user = await alice();
    const { turns } = hub.services.hasher;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = [turns.run(() => gate), turns.run(() => gate)];
    const outcome = await check.check(request(user, 'alice-password-1'));
    release();
    await Promise.all(held);
    expect(outcome.kind).toBe('busy');
    expect(outcome.kind === 'busy' && outcome.retryAfter).toBeGreaterThan(0);
    expect(await left(user.id)).toBe(2);
  });

  test('accept: a condition of the caller\'s that says no is a failure (refused), judged with two-step read in the check', async () => {
    const user = await alice();
    const seen: boolean[] = [];
    const outcome = await check.check(request(user, 'alice-password-1', { twoStep: 'in-check', accept: (on) => (seen.push(on), false) }));
    expect(outcome).toEqual({ kind: 'wrong', reason: 'refused', user });
    expect(seen).toEqual([false]);
    expect(await left(user.id)).toBe(1);
    // Not asked for a wrong password.
    expect((await check.check(request(user, 'not-her-password', { accept: () => seen.push(true) > 0 }))).kind).toBe('wrong');
    expect(seen).toEqual([false]);
  });

  test('two-step on: secondStep true, read beside the success or in the check', async () => {
    const { users, twoStep } = hub.services;
    const bob = await users.create({ username: 'bob', email: 'bob@example.test', password: 'bob-password-12' });
    const { secret } = await twoStep.beginEnrolment(bob.id, 'bob', 'session-1');
    expect(await twoStep.confirmEnrolment(bob.id, 'session-1', totpCode(secret))).toHaveProperty('codes');
    const user = (await users.findByLogin('bob'))!;
    expect(await check.check(request(user, 'bob-password-12', { twoStep: 'with-success' }))).toEqual({ kind: 'ok', user, secondStep: true });
    expect(await check.check(request(user, 'bob-password-12', { twoStep: 'in-check', accept: (on) => on }))).toEqual({ kind: 'ok', user, secondStep: true });
  });

  test('unverified: a self-sign-up whose address is not verified, with HUB_REQUIRE_VERIFIED_EMAIL, after the right password only (a success)', async () => {
    const { users, hasher } = hub.services;
    await users.createSignedUp({ username: 'carol', email: 'carol@example.test', name: 'Carol', passwordHash: await hasher.hash('carol-password-1') });
    const carol = (await users.findByLogin('carol'))!;
    const strict = new PasswordCheck({ ...deps, requireVerifiedEmail: true });
    expect(await strict.check(request(carol, 'carol-password-1'))).toEqual({ kind: 'unverified', user: carol });
    expect(await strict.check(request(carol, 'not-her-password'))).toEqual({ kind: 'wrong', reason: 'password', user: carol });
    // Without the requirement she signs in, and is kept from now on.
    expect((await check.check(request(carol, 'carol-password-1'))).kind).toBe('ok');
  });

  test('gone: an unverified self-sign-up removed between its lookup and its check', async () => {
    const { users, hasher } = hub.services;
    await users.createSignedUp({ username: 'dave', email: 'dave@example.test', name: 'Dave', passwordHash: await hasher.hash('dave-password-12') });
    const dave = (await users.findByLogin('dave'))!;
    expect(await users.removeUnverified(dave.id, () => true)).toHaveProperty('outcome');
    expect(await users.findByLogin('dave')).toBeUndefined();
    expect(await check.check(request(dave, 'dave-password-12'))).toEqual({ kind: 'gone', user: dave });
  });

  test('ok with a hash of another policy: rehashed to the current one', async () => {
    const { users, hasher } = hub.services;
    const erin = await users.create({ username: 'erin', email: 'erin@example.test', password: 'erin-password-12' });
    const before = (await users.findById(erin.id))!;
    // A hasher whose policy differs from the hash's: the hash is out of date for it.
    const stricter = new PasswordHasher({ ...hasher.policy, timeCost: hasher.policy.timeCost + 1 }, { concurrency: 1, queueLimit: 10 });
    expect(stricter.needsRehash(before.passwordHash)).toBe(true);
    const outcome = await new PasswordCheck({ ...deps, hasher: stricter }).check(request(before, 'erin-password-12'));
    expect(outcome.kind).toBe('ok');
    const after = (await users.findById(erin.id))!;
    expect(after.passwordHash).not.toBe(before.passwordHash);
    expect(await hasher.verify(after.passwordHash, 'erin-password-12')).toBe(true);
  });
});
