import { afterEach, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createClient } from 'redis';
import { KitOptionError, resolveOptions, type SubsiteKitOptions } from './options.js';
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

  it('refuses an ioredis client at start, naming it (a new-developer review: it was accepted, then every sign-in and sync beacon failed as "store claim failed (is Redis down or unreachable?)" with Redis up)', () => {
    // ioredis's shape: a sendCommand of its own, a status string, no isOpen.
    class Redis { status = 'ready'; options = {}; sendCommand(): undefined { return undefined; } get(): undefined { return undefined; } set(): undefined { return undefined; } }
    const redis = new Redis() as unknown as SubsiteKitOptions['redis'];
    expect(() => resolveOptions({ ...valid(), redis })).toThrow(TypeError);
    expect(() => resolveOptions({ ...valid(), redis })).toThrow(/"redis" must be a node-redis client \(from createClient\(\).*\): this one looks like an ioredis client/);
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

  it('clockSkewSeconds past 300 is refused with what to do (a day of skew let expired sync codes and ID tokens through)', () => {
    expect(resolveOptions({ ...valid(), clockSkewSeconds: 300 }).clockSkewSeconds).toBe(300);
    expect(() => resolveOptions({ ...valid(), clockSkewSeconds: 301 })).toThrow(/clockSkewSeconds.*at most 300.*NTP/);
    expect(() => resolveOptions({ ...valid(), clockSkewSeconds: 86_400 })).toThrow(KitOptionError);
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

describe('options: an unknown (misspelled) option is a TypeError naming it and the one it probably meant', () => {
  const saved = { SSO_HUB_URL: process.env.SSO_HUB_URL, SSO_CLIENT_SECRET: process.env.SSO_CLIENT_SECRET };
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it.each([
    ['hubInternalURL', 'http://127.0.0.1:4000', 'hubInternalUrl'],
    ['secureCookie', true, 'secureCookies'],
    ['metric', true, 'metrics'],
    ['sessionSecrets', 'x'.repeat(40), 'sessionSecret'],
  ])('%s (a review: dropped without a word)', async (name, value, meant) => {
    const options = { ...valid(), [name]: value } as SubsiteKitOptions;
    await expect(createSubsiteKit(options)).rejects.toThrow(TypeError);
    await expect(createSubsiteKit(options)).rejects.toThrow(`subsite-kit: option "${name}" is unknown: did you mean "${meant}"?`);
  });

  it('a misspelled required option is not filled in from its SSO_* variable', async () => {
    process.env.SSO_HUB_URL = 'http://hub.test';
    process.env.SSO_CLIENT_SECRET = 'from-the-environment';
    const { hubUrl: _hubUrl, clientSecret: _secret, ...rest } = valid();
    await expect(createSubsiteKit({ ...rest, hubURL: 'http://other.test' } as unknown as SubsiteKitOptions)).rejects.toThrow('option "hubURL" is unknown: did you mean "hubUrl"?');
    await expect(createSubsiteKit({ ...rest, clientSecert: 'typed-here' } as unknown as SubsiteKitOptions)).rejects.toThrow('option "clientSecert" is unknown: did you mean "clientSecret"?');
  });

  it('a nested option of metrics too, before prom-client is loaded', async () => {
    await expect(createSubsiteKit({ ...valid(), metrics: { prefx: 'bbs_' } as never })).rejects.toThrow('option "metrics.prefx" is unknown: did you mean "metrics.prefix"?');
  });

  it.each(['store', 'sessionStore'])('%s (express-session\'s store, passed on): says the kit takes redis instead, not "did you mean sessionSecret"', async (name) => {
    const options = { ...valid(), [name]: {} } as SubsiteKitOptions;
    await expect(createSubsiteKit(options)).rejects.toThrow(TypeError);
    await expect(createSubsiteKit(options)).rejects.toThrow(`subsite-kit: option "${name}" is unknown: the kit keeps its sessions in a store of its own`);
    await expect(createSubsiteKit(options)).rejects.toThrow('pass redis');
  });

  it('a name of Object.prototype (constructor) is an unknown option like any other', async () => {
    await expect(createSubsiteKit({ ...valid(), constructor: 1 } as unknown as SubsiteKitOptions)).rejects.toThrow(/option "constructor" is unknown: the options are hubUrl/);
  });

  it('nothing close: the message lists the options', async () => {
    await expect(createSubsiteKit({ ...valid(), port: 3000 } as SubsiteKitOptions)).rejects.toThrow(/option "port" is unknown: the options are hubUrl, hubInternalUrl, .*afterCallback, onUserDelete, metrics$/);
  });

  it('every option of the README\'s table, and metrics with its nested options, is still accepted', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const table = readme.split(/\n## /).find((part) => part.startsWith('Options'))!;
    const names = [...table.matchAll(/^\| `([A-Za-z]+)[`(]/gm)].map((match) => match[1]!);
    expect(names.length).toBeGreaterThan(20);
    const everything = { ...Object.fromEntries(names.map((name) => [name, undefined])), ...valid(), metrics: false };
    await expect(createSubsiteKit(everything)).resolves.toHaveProperty('router');
    // Nested: metrics' own options pass the check (prom-client is a dev dependency here).
    const kit = await createSubsiteKit({ ...valid(), metrics: { prefix: 'bbs_unknown_options_', registry: undefined } });
    expect(kit.metricsRegistry).toBeDefined();
  });
});

describe('options: no redis under NODE_ENV=production', () => {
  const saved = process.env.NODE_ENV;
  afterEach(() => { process.env.NODE_ENV = saved; });

  it('is said at start, once (express-session says the same of its MemoryStore; the kit passes its own store, which silenced it)', async () => {
    process.env.NODE_ENV = 'production';
    const logs: string[] = [];
    await createSubsiteKit(kitOptions(undefined, { logger: { warn: (line) => logs.push(line) } }));
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('no redis option under NODE_ENV=production');
    expect(logs[0]).toContain('pass redis');
  });

  it('nothing outside production', async () => {
    process.env.NODE_ENV = 'development';
    const logs: string[] = [];
    await createSubsiteKit(kitOptions(undefined, { logger: { warn: (line) => logs.push(line) } }));
    expect(logs).toEqual([]);
  });
});
