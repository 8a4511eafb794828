import { TooManyAttemptsError } from '../errors.js';
import { LoginThrottle } from './login-throttle.js';

describe('sign-in throttle (OWASP ASVS 6.3: lockout without a lockout-anyone lever)', () => {
  const make = () => new LoginThrottle({ maxFailuresPerAccount: 3, maxAttemptsPerIp: 1000, windowSeconds: 60, keyPrefix: 't' });

  test('failures from one IP lock the account for that IP only', async () => {
    const throttle = make();
    for (let i = 0; i < 3; i += 1) {
      await throttle.attempt('10.0.0.1', 'user-1');
      await throttle.failed('user-1', '10.0.0.1');
    }
    await expect(throttle.attempt('10.0.0.1', 'user-1')).rejects.toBeInstanceOf(TooManyAttemptsError);
    // The owner, elsewhere, can still sign in.
    await expect(throttle.attempt('10.0.0.2', 'user-1')).resolves.toBeUndefined();
  });

  test('failures from many IPs lock the account everywhere at ten times the limit', async () => {
    const throttle = make();
    for (let i = 0; i < 30; i += 1) {
      await throttle.attempt(`10.1.0.${i}`, 'user-2');
      await throttle.failed('user-2', `10.1.0.${i}`);
    }
    const error = await throttle.attempt('10.9.9.9', 'user-2').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TooManyAttemptsError);
    expect((error as TooManyAttemptsError).retryAfterSeconds).toBeGreaterThan(0);
  });

  test('a success clears the failures from that IP', async () => {
    const throttle = make();
    for (let i = 0; i < 2; i += 1) await throttle.failed('user-3', '10.0.0.3');
    await throttle.succeeded('user-3', '10.0.0.3');
    for (let i = 0; i < 2; i += 1) await throttle.failed('user-3', '10.0.0.3');
    await expect(throttle.attempt('10.0.0.3', 'user-3')).resolves.toBeUndefined();
  });

  test('every attempt counts against the IP', async () => {
    const throttle = new LoginThrottle({ maxFailuresPerAccount: 3, maxAttemptsPerIp: 2, windowSeconds: 60, keyPrefix: 't' });
    await throttle.attempt('10.0.0.4', 'a');
    await throttle.attempt('10.0.0.4', 'b');
    await expect(throttle.attempt('10.0.0.4', 'c')).rejects.toBeInstanceOf(TooManyAttemptsError);
  });
});
