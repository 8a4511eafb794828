import { describe, expect, it } from '@jest/globals';
import { createClient } from 'redis';
import { resolveOptions, type SubsiteKitOptions } from './options.js';
import { createSubsiteKit } from './kit.js';
import { kitOptions } from './test-support/site.js';

const valid = (): SubsiteKitOptions => kitOptions(undefined);

describe('options: early TypeErrors naming the bad option', () => {
  const cases: [string, Partial<Record<keyof SubsiteKitOptions, unknown>>, RegExp][] = [
    ['hubUrl missing', { hubUrl: undefined }, /"hubUrl" must be a non-empty string/],
    ['hubUrl not a URL', { hubUrl: 'hub.example' }, /"hubUrl" must be an absolute http\(s\) URL/],
    ['hubUrl not http', { hubUrl: 'ftp://hub.example' }, /"hubUrl" must use http or https/],
    ['hubInternalUrl bad', { hubInternalUrl: 'nope' }, /"hubInternalUrl"/],
    ['clientId empty', { clientId: '' }, /"clientId" must be a non-empty string/],
    ['clientSecret missing', { clientSecret: undefined }, /"clientSecret"/],
    ['redirectUri elsewhere', { redirectUri: 'http://bbs.test/callback' }, /"redirectUri" must have a path ending in \/sso\/callback/],
    ['redirectUri with query', { redirectUri: 'http://bbs.test/sso/callback?x=1' }, /"redirectUri" must not contain a query/],
    ['syncKey too short', { syncKey: 'short' }, /"syncKey" must be at least 32 characters/],
    ['previousSyncKey too short', { previousSyncKey: 'short' }, /"previousSyncKey"/],
    ['sessionSecret too short', { sessionSecret: 'x' }, /"sessionSecret" must be at least 32/],
    ['sessionSecret empty array', { sessionSecret: [] }, /"sessionSecret" must not be an empty array/],
    ['redis not a client', { redis: {} }, /"redis" must be a node-redis client/],
    ['cookiePrefix with ;', { cookiePrefix: 'a;b' }, /"cookiePrefix"/],
    ['scopes without openid', { scopes: ['profile'] }, /"scopes" must include "openid"/],
    ['scopes not strings', { scopes: ['openid', 1] }, /"scopes" must be an array of scope strings/],
    ['crossSite not boolean', { crossSite: 'yes' }, /"crossSite" must be a boolean/],
    ['crossSiteRecheckSeconds negative', { crossSiteRecheckSeconds: -1 }, /"crossSiteRecheckSeconds" must be 0 or a positive integer/],
    ['crossSiteRecheckSeconds fractional', { crossSiteRecheckSeconds: 0.5 }, /"crossSiteRecheckSeconds" must be 0 or a positive integer/],
    ['secureCookies not boolean', { secureCookies: 1 }, /"secureCookies" must be a boolean/],
    ['requestLoginMaxAgeSeconds negative', { requestLoginMaxAgeSeconds: -1 }, /"requestLoginMaxAgeSeconds" must be a positive integer/],
    ['sessionMaxAgeSeconds fractional', { sessionMaxAgeSeconds: 1.5 }, /"sessionMaxAgeSeconds"/],
    ['postLogoutRedirectUri relative', { postLogoutRedirectUri: '/bye' }, /"postLogoutRedirectUri"/],
    ['logger without warn', { logger: {} }, /"logger"/],
  ];
  it.each(cases)('%s', (_name, patch, message) => {
    const options = { ...valid(), ...patch } as SubsiteKitOptions;
    expect(() => resolveOptions(options)).toThrow(TypeError);
    expect(() => resolveOptions(options)).toThrow(message);
  });

  it('createSubsiteKit rejects with the same TypeError', async () => {
    await expect(createSubsiteKit({ ...valid(), clientId: '' })).rejects.toThrow(TypeError);
  });

  it('refuses a node-redis client that was never connected, saying to connect it (a review: every signed-in page was a 503 blaming Redis)', () => {
    const redis = createClient({ url: 'redis://127.0.0.1:6379' }); // not connected: opens no socket
    expect(() => resolveOptions({ ...valid(), redis })).toThrow(TypeError);
    expect(() => resolveOptions({ ...valid(), redis })).toThrow(/"redis" is a client that was never connected: call await redis\.connect\(\) before createSubsiteKit\(\)/);
  });

  it('accepts a client that is open but reconnecting (isOpen, not isReady)', () => {
    const reconnecting = { isOpen: true, isReady: false, sendCommand: () => undefined } as unknown as SubsiteKitOptions['redis'];
    expect(resolveOptions({ ...valid(), redis: reconnecting }).redis).toBe(reconnecting);
  });

  it('rejects a non-object', () => {
    expect(() => resolveOptions(null as unknown as SubsiteKitOptions)).toThrow(TypeError);
  });
});

describe('options: defaults', () => {
  it('fills documented defaults and freezes', () => {
    const { secureCookies: _ignored, logger: _logger, hubInternalUrl: _internal, ...rest } = valid();
    const resolved = resolveOptions(rest);
    expect(resolved.hubInternalUrl).toBe('http://hub.test');
    expect(resolved.scope).toBe('openid profile email');
    expect(resolved.postLogoutRedirectUri).toBe('http://bbs.test/');
    expect(resolved.secureCookies).toBe(false); // http redirectUri
    expect(resolved.cookies).toEqual({ session: 'sso.sid', requestLogin: 'sso.request-login', auth: 'sso.auth', checked: 'sso.checked', remember: 'sso.remember', consent: 'sso.consent-required' });
    expect(resolved.requestLoginMaxAgeSeconds).toBe(2_592_000);
    expect(resolved.sessionMaxAgeSeconds).toBe(86_400);
    expect(resolved.clockSkewSeconds).toBe(30);
    expect(resolved.crossSite).toBe(false);
    expect(resolved.crossSiteRecheckSeconds).toBe(900);
    expect(resolved.basePath).toBe('');
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  it('secure cookies by default on https, trailing slash of hubUrl ignored', () => {
    const resolved = resolveOptions({ ...valid(), secureCookies: undefined, hubUrl: 'https://hub.test/', redirectUri: 'https://bbs.test/forum/sso/callback' });
    expect(resolved.secureCookies).toBe(true);
    expect(resolved.hubUrl).toBe('https://hub.test');
    expect(resolved.issuers).toEqual(['https://hub.test', 'https://hub.test/']);
    expect(resolved.basePath).toBe('/forum');
    // The site's root under its path, as publicPath (a review: '/' of the origin, which a site
    // under /forum does not register, stopped its sign-out at the hub's error page).
    expect(resolved.postLogoutRedirectUri).toBe('https://bbs.test/forum/');
    expect(resolved.publicPath).toBe('/forum/');
  });

  it('cookiePrefix renames every cookie', () => {
    expect(resolveOptions({ ...valid(), cookiePrefix: 'bbs_' }).cookies.requestLogin).toBe('bbs_request-login');
  });
});
