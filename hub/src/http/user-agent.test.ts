import { checkedDescription, describeUserAgent, MAX_USER_AGENT_LENGTH } from './user-agent.js';

describe('describeUserAgent: a short, safe description of the browser', () => {
  test.each([
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', { browser: 'Firefox', version: '128', os: 'Linux' }],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', { browser: 'Chrome', version: '131', os: 'Windows' }],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86', { browser: 'Edge', version: '131', os: 'Windows' }],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1', { browser: 'Safari', version: '17', os: 'iOS' }],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15', { browser: 'Safari', version: '18', os: 'macOS' }],
    ['Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36', { browser: 'Samsung Internet', version: '26', os: 'Android' }],
    ['Mozilla/5.0 (Linux; Android 13; V2055A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64', { browser: 'WeChat', version: '8', os: 'Android' }],
    // Headless Chromium (Playwright's, the e2e suite's): found by the e2e run, not by this list.
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.33 Safari/537.36', { browser: 'Chrome', version: '131', os: 'Linux' }],
    ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', { browser: 'Chrome', version: '131', os: 'ChromeOS' }],
    ['Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1', { browser: 'Chrome', version: '131', os: 'iPadOS' }],
  ])('%s', (ua, expected) => {
    expect(describeUserAgent(ua)).toEqual(expected);
  });

  test('nothing known, no header, or markup: nothing of the header is kept', () => {
    expect(describeUserAgent(undefined)).toEqual({});
    expect(describeUserAgent('curl/8.5.0')).toEqual({});
    expect(describeUserAgent('<script>alert(1)</script> Firefox/<b>1</b>')).toEqual({});
    expect(describeUserAgent('Firefox/123456789')).toEqual({ browser: 'Firefox', version: '1234' });
  });

  test('a huge header is cut before it is read, and read in linear time', () => {
    const started = Date.now();
    const huge = `${'Version/1.1.1.1 '.repeat(50_000)}Safari/ Firefox/99`;
    expect(describeUserAgent(huge)).toEqual({});
    expect(Date.now() - started).toBeLessThan(200);
    expect(describeUserAgent(`${'x'.repeat(MAX_USER_AGENT_LENGTH)}Firefox/99`)).toEqual({});
  });

  test('a stored description is kept only as this module makes it', () => {
    expect(checkedDescription({ browser: 'Firefox', version: '128', os: 'Linux' })).toEqual({ browser: 'Firefox', version: '128', os: 'Linux' });
    expect(checkedDescription({ browser: '<img src=x>', version: '1', os: 'Plan 9' })).toEqual({});
    expect(checkedDescription({ browser: 'Chrome', version: '12345' })).toEqual({ browser: 'Chrome' });
    expect(checkedDescription('Firefox')).toEqual({});
    expect(checkedDescription(null)).toEqual({});
  });
});
