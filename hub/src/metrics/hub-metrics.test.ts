import { describe, expect, it } from '@jest/globals';
import { routeOf } from './hub-metrics.js';

describe('routeOf (the route label of a request)', () => {
  it.each([
    ['/token', '/token'],
    ['/token?x=1', '/token'],
    ['/TOKEN/Introspection', '/token/introspection'],
    ['/token/introspection/', '/token/introspection'],
    ['/token/revocation?token=abc', '/token/revocation'],
    ['/token/other', '/token'],
    ['/tokens', 'other'],
    ['/me', '/me'],
    ['/metrics', '/metrics'],
    ['/uc/api', '/uc'],
    ['/ucenter/index.php', '/ucenter'],
    ['/.well-known/openid-configuration', '/.well-known'],
    ['/auth/abc', '/auth'],
    ['/', '/'],
    ['/?next=/token', '/'],
    ['', 'other'],
    ['/nowhere', 'other'],
  ])('%s → %s', (url, route) => {
    expect(routeOf(url)).toBe(route);
  });

  it('takes the root for no URL', () => {
    expect(routeOf(undefined)).toBe('/');
  });
});
