import { TooManyAttemptsError } from '../errors.js';
import { LoginThrottle, type AdmittedAttempt, type SignInAttempt } from './login-throttle.js';

const OPTIONS = { maxFailuresPerAccount: 3, maxAttemptsPerIp: 1000, windowSeconds: 60, backoffBaseSeconds: 30, backoffMaxSeconds: 240, keyPrefix: 't' };
const make = (overrides: Partial<typeof OPTIONS> = {}) => new LoginThrottle({ ...OPTIONS, ...overrides });

const portal = (ip: string, account: string, device?: string): SignInAttempt => ({ ip, account, via: 'portal', ...(device ? { device } : {}) });
const grant = (ip: string, account: string): SignInAttempt => ({ ip, account, via: 'app' });
const settings = (ip: string, account: string): SignInAttempt => ({ ip, account, via: 'session' });

/** `times` wrong passwords, one after another; an attempt the throttle refuses is never checked, so it counts as no failure. */
async function fail(throttle: LoginThrottle, attempt: SignInAttempt, times: number) {
  for (let i = 0; i < times; i += 1) {
    const admitted = await throttle.attempt(attempt).catch(() => undefined);
    if (admitted) await throttle.failed(admitted);
  }
}

/** The wait an attempt is refused with; undefined when it is let through (and then given back unchecked). */
async function waitOf(throttle: LoginThrottle, attempt: SignInAttempt): Promise<number | undefined> {
  const answer = await throttle.attempt(attempt).catch((caught: unknown) => caught);
  if (!(answer instanceof Error)) {
    await throttle.release(answer as AdmittedAttempt);
    return undefined;
  }
  expect(answer).toBeInstanceOf(TooManyAttemptsError);
  return (answer as TooManyAttemptsError).retryAfterSeconds;
}

describe('sign-in throttle (OWASP device cookies; ASVS 5 V6.3: no lockout-anyone lever)', () => {
  test('delays double from the threshold on, up to the maximum; none before', () => {
    const throttle = make();
    expect([1, 2, 3, 4, 5, 6, 7, 8, 40].map((n) => throttle.delaySeconds(n))).toEqual([0, 0, 30, 60, 120, 240, 240, 240, 240]);
  });

  test('untrusted browsers share one pool per account: failures from many IPs slow every unknown browser, for a while', async () => {
    const throttle = make();
    for (let i = 0; i < 3; i += 1) await fail(throttle, portal(`10.1.0.${i}`, 'user-1'), 1);
    const wait = await waitOf(throttle, portal('10.9.9.9', 'user-1'));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(30); // the first delay, not a 15-minute lock
  });

  test('a browser with the account\'s device cookie is not slowed by anybody else\'s failures', async () => {
    const throttle = make();
    for (let i = 0; i < 11; i += 1) await fail(throttle, portal(`10.2.0.${i}`, 'user-2'), 5);
    await expect(throttle.attempt(portal('10.2.0.1', 'user-2', 'device-a'))).resolves.toBeDefined();
    // ... and not by another device's failures either.
    await fail(throttle, portal('10.2.0.1', 'user-2', 'device-b'), 3);
    expect(await waitOf(throttle, portal('10.2.0.1', 'user-2', 'device-b'))).toBeGreaterThan(0);
    await expect(throttle.attempt(portal('10.2.0.1', 'user-2', 'device-a'))).resolves.toBeDefined();
  });

  test('a known device\'s own failures count against it, and its success clears them', async () => {
    const throttle = make();
    const device = portal('10.3.0.1', 'user-3', 'device-c');
    await fail(throttle, device, 2);
    await throttle.succeeded(await throttle.attempt(device));
    await fail(throttle, device, 2);
    const third = await throttle.attempt(device);
    await throttle.failed(third);
    expect(await waitOf(throttle, device)).toBeGreaterThan(0);
  });

  test('applications (password grant, UCenter) share the account\'s untrusted pool: an address they report does not buy more guesses', async () => {
    const throttle = make();
    // One guesser, a new address on every try (an application passes on what its visitor sends).
    for (let i = 0; i < 3; i += 1) await fail(throttle, grant(`10.4.0.${i}`, 'user-4'), 1);
    expect(await waitOf(throttle, grant('10.4.0.200', 'user-4'))).toBe(30);
    // ... and the same pool as browsers without a device cookie; a known browser stays free.
    expect(await waitOf(throttle, portal('10.4.1.1', 'user-4'))).toBeGreaterThan(0);
    await expect(throttle.attempt(portal('10.4.1.1', 'user-4', 'device-d'))).resolves.toBeDefined();
  });

  test('a signed-in user proving the password on the account pages is judged per account and IP', async () => {
    const throttle = make();
    await fail(throttle, portal('10.4.2.1', 'user-6'), 4);
    // Someone else's failures do not block the owner's settings ...
    await expect(throttle.attempt(settings('10.4.2.9', 'user-6'))).resolves.toBeDefined();
    // ... while guesses from a stolen session slow that session's address, and feed the account's pool.
    await fail(throttle, settings('10.4.3.1', 'user-7'), 3);
    expect(await waitOf(throttle, settings('10.4.3.1', 'user-7'))).toBe(30);
    expect(await waitOf(throttle, portal('10.4.3.2', 'user-7'))).toBeGreaterThan(0);
  });

  test('the account-and-address pool counts an IPv6 client by its /64: a stolen session gets no fresh pool per address it picks', async () => {
    const throttle = make();
    // A review: 14 wrong current passwords from one /64, each from another address, were all checked.
    for (let i = 1; i <= 3; i += 1) await fail(throttle, settings(`2001:db8:1:2::${i}`, 'user-64'), 1);
    expect(await waitOf(throttle, settings('2001:db8:1:2:ffff::9', 'user-64'))).toBe(30);
    // Another network is another pool (the owner elsewhere is not slowed by it).
    await expect(throttle.attempt(settings('2001:db8:1:3::1', 'user-64'))).resolves.toBeDefined();
  });

  test('each failure after a wait is over makes the next wait twice as long', async () => {
    const throttle = make({ backoffBaseSeconds: 1 });
    const attempt = portal('10.5.0.1', 'user-5');
    await fail(throttle, attempt, 3);
    expect(await waitOf(throttle, attempt)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await fail(throttle, attempt, 1);
    expect(await waitOf(throttle, attempt)).toBe(2);
  });

  test('attempts in flight count: a burst of concurrent guesses gets the threshold and one more, the rest are refused', async () => {
    const throttle = make();
    const burst = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => throttle.attempt(portal(`10.7.0.${i}`, 'user-8'))));
    const admitted = burst.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    expect(admitted).toHaveLength(OPTIONS.maxFailuresPerAccount + 1);
    for (const result of burst) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(TooManyAttemptsError);
    // Refused attempts took no count: the pool's delay is the one its checked failures call for.
    await Promise.all(admitted.map((one) => throttle.failed(one)));
    expect(await waitOf(throttle, portal('10.7.1.1', 'user-8'))).toBe(60); // 4 failures: the second delay
  });

  test('past the threshold one attempt at a time is checked, and its success lifts the delay it claimed', async () => {
    const throttle = make({ backoffBaseSeconds: 1 });
    await fail(throttle, portal('10.8.0.1', 'user-9'), 3);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the first delay, over
    const [first, second] = await Promise.allSettled([throttle.attempt(portal('10.8.0.2', 'user-9')), throttle.attempt(portal('10.8.0.3', 'user-9'))]);
    expect(first.status).toBe('fulfilled');
    expect(second.status).toBe('rejected');
    // The owner, in a new browser, had the right password: the next one is not held up by it.
    await throttle.succeeded((first as PromiseFulfilledResult<AdmittedAttempt>).value);
    await expect(throttle.attempt(portal('10.8.0.4', 'user-9'))).resolves.toMatchObject({ claimed: true });
  });

  test('the account key ignores case and spaces', async () => {
    const throttle = make();
    await fail(throttle, portal('10.6.0.1', 'Ghost '), 3);
    expect(await waitOf(throttle, portal('10.6.0.2', 'ghost'))).toBeGreaterThan(0);
  });

  test('every attempt counts against the IP, except from a browser with the account\'s device cookie', async () => {
    const throttle = make({ maxAttemptsPerIp: 2 });
    await throttle.attempt(portal('10.0.0.4', 'a'));
    await throttle.attempt(grant('10.0.0.4', 'b'));
    await expect(throttle.attempt(portal('10.0.0.4', 'c'))).rejects.toBeInstanceOf(TooManyAttemptsError);
    // Whoever else is behind that address (a NAT, a proxy), a known browser still signs in.
    await expect(throttle.attempt(portal('10.0.0.4', 'd', 'device-e'))).resolves.toBeDefined();
  });

  test('a success gives its point back to the IP: many people signing in behind one NAT are never refused, guessers still are', async () => {
    // Before, successes counted too: the 51st colleague signing in from an office's address in a
    // window was refused (no device cookie yet on a new browser), whatever their password.
    const throttle = make({ maxAttemptsPerIp: 3 });
    for (let i = 0; i < 10; i += 1) {
      const colleague = i % 2 === 0 ? portal('10.0.0.5', `staff-${i}`) : grant('10.0.0.5', `staff-${i}`);
      await throttle.succeeded(await throttle.attempt(colleague));
    }
    // Failures (and attempts still in flight) keep counting: three and the address is refused.
    for (let i = 0; i < 3; i += 1) await throttle.failed(await throttle.attempt(portal('10.0.0.5', `victim-${i}`)));
    await expect(throttle.attempt(portal('10.0.0.5', 'staff-0'))).rejects.toBeInstanceOf(TooManyAttemptsError);
    // A known browser's success gives nothing back (it took nothing).
    const known = make({ maxAttemptsPerIp: 1 });
    await known.succeeded(await known.attempt(portal('10.0.0.6', 'a', 'device-a')));
    await known.attempt(portal('10.0.0.6', 'b'));
    await expect(known.attempt(portal('10.0.0.6', 'c'))).rejects.toBeInstanceOf(TooManyAttemptsError);
  });
});
