import { switchNextOf } from './switch-next.js';

describe('switchNextOf: where the language switcher goes back to', () => {
  test('a page read by GET comes back to itself, query and all', () => {
    expect(switchNextOf('GET', '/interaction/abc?x=1')).toBe('/interaction/abc?x=1');
    expect(switchNextOf('GET', '/admin/users/42')).toBe('/admin/users/42');
  });

  test.each([
    ['/interaction/Uid_-123/login', '/interaction/Uid_-123'],
    ['/interaction/Uid_-123/two-step', '/interaction/Uid_-123'],
    ['/signup', '/signup'],
    ['/signup/resend', '/signup/resend'],
    ['/password/forgot', '/password/forgot'],
    ['/account/password', '/account'],
    ['/account/consents/wiki/revoke', '/account'],
    ['/account/email/confirm', '/account'],
    ['/account/two-step/enable', '/account/two-step'],
    ['/admin/users', '/admin/users'],
    ['/admin/users/42/disable', '/admin/users/42'],
    ['/admin/clients/bbs/rotate-secret', '/admin/clients/bbs'],
    ['/admin/ucenter/3/test', '/admin/ucenter'],
    ['/admin/deliveries/d1/retry', '/admin/deliveries'],
    ['/admin/invites', '/admin/users'],
  ])('the answer to a form POSTed to %s goes back to %s', (path, page) => {
    expect(switchNextOf('POST', `${path}?lang=ignored`)).toBe(page);
  });

  test.each([['/password/reset'], ['/signup/verify'], ['/interaction/a/b/c'], ['/elsewhere']])(
    'a form whose page needs what the form carried (%s), or an unknown one, goes to the start page',
    (path) => {
      expect(switchNextOf('POST', path)).toBe('/');
    },
  );
});
