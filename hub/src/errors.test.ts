import { TooManyAttemptsError } from './errors.js';
import { translator } from './i18n/i18n.js';

describe('TooManyAttemptsError', () => {
  test('says the wait it sends as Retry-After, in seconds under a minute and a half, else in whole minutes (a review: "a few minutes" beside 2 s)', () => {
    expect(new TooManyAttemptsError(1).publicMessage).toBe('Too many sign-in attempts. Please wait 1 second and try again.');
    expect(new TooManyAttemptsError(32).publicMessage).toBe('Too many sign-in attempts. Please wait 32 seconds and try again.');
    expect(new TooManyAttemptsError(600).publicMessage).toBe('Too many sign-in attempts. Please wait 10 minutes and try again.');
    const { key, values } = new TooManyAttemptsError(61).i18n!;
    expect(translator('zh-CN')(key, values)).toBe('登录尝试次数过多，请等待 61 秒后再试。');
  });
});
