import { afterEach, describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { ENVIRONMENT_VARIABLES, resolveOptionsWithEnvironment } from './environment.js';
import { createSubsiteKit } from './kit.js';

const silent = { warn: () => undefined };

/** The six required options, as a subsite's deployment would set them. */
const REQUIRED_ENV = {
  SSO_HUB_URL: 'https://id.example.test',
  SSO_CLIENT_ID: 'bbs',
  SSO_CLIENT_SECRET: 'a-client-secret-from-the-environment',
  SSO_REDIRECT_URI: 'https://bbs.example.test/sso/callback',
  SSO_SYNC_KEY: 'a-sync-key-from-the-environment-0123456789',
  SSO_SESSION_SECRET: 'a-session-secret-from-the-environment-0123',
};

describe('options from the environment (SSO_* variables, as express-openid-connect reads its own)', () => {
  it('reads every required option from its variable', () => {
    const resolved = resolveOptionsWithEnvironment({ logger: silent }, REQUIRED_ENV);
    expect(resolved.hubUrl).toBe('https://id.example.test');
    expect(resolved.hubInternalUrl).toBe('https://id.example.test');
    expect(resolved.clientId).toBe('bbs');
    expect(resolved.clientSecret).toBe('a-client-secret-from-the-environment');
    expect(resolved.redirectUri).toBe('https://bbs.example.test/sso/callback');
    expect(resolved.sessionSecret).toBe('a-session-secret-from-the-environment-0123');
    expect(resolved.secureCookies).toBe(true);
  });

  it('reads the optional ones, with lists, booleans and numbers parsed', () => {
    const resolved = resolveOptionsWithEnvironment({}, {
      ...REQUIRED_ENV,
      SSO_HUB_INTERNAL_URL: 'http://127.0.0.1:4000',
      SSO_PREVIOUS_SYNC_KEY: 'the-previous-sync-key-0123456789abcdef',
      SSO_SESSION_SECRET: 'new-session-secret-0123456789abcdefghij, old-session-secret-0123456789abcdefghij',
      SSO_REDIS_PREFIX: 'bbs:',
      SSO_COOKIE_PREFIX: 'bbs_',
      SSO_CROSS_SITE: 'true',
      SSO_SCOPES: 'openid profile',
      SSO_POST_LOGOUT_REDIRECT_URI: 'https://bbs.example.test/bye',
      SSO_SECURE_COOKIES: 'false',
      SSO_REQUEST_LOGIN_MAX_AGE_SECONDS: '600',
      SSO_SESSION_MAX_AGE_SECONDS: '3600',
      SSO_CLOCK_SKEW_SECONDS: '5',
      SSO_HUB_TIMEOUT_MS: '2000',
      SSO_CROSS_SITE_RECHECK_SECONDS: '0',
    });
    expect(resolved.hubInternalUrl).toBe('http://127.0.0.1:4000');
    expect(resolved.syncKeys).toHaveLength(2);
    expect(resolved.sessionSecret).toEqual(['new-session-secret-0123456789abcdefghij', 'old-session-secret-0123456789abcdefghij']);
    expect(resolved.redisPrefix).toBe('bbs:');
    expect(resolved.cookies.session).toBe('bbs_sid');
    expect(resolved.crossSite).toBe(true);
    expect(resolved.scope).toBe('openid profile');
    expect(resolved.postLogoutRedirectUri).toBe('https://bbs.example.test/bye');
    expect(resolved.secureCookies).toBe(false);
    expect(resolved.requestLoginMaxAgeSeconds).toBe(600);
    expect(resolved.sessionMaxAgeSeconds).toBe(3600);
    expect(resolved.clockSkewSeconds).toBe(5);
    expect(resolved.hubTimeoutMs).toBe(2000);
    expect(resolved.crossSiteRecheckSeconds).toBe(0); // 0 turns the re-check off
  });

  it('explicit options win over the environment', () => {
    const resolved = resolveOptionsWithEnvironment({ clientId: 'wiki', hubUrl: 'https://hub.example.test', crossSite: false }, { ...REQUIRED_ENV, SSO_CROSS_SITE: 'true' });
    expect(resolved.clientId).toBe('wiki');
    expect(resolved.hubUrl).toBe('https://hub.example.test');
    expect(resolved.crossSite).toBe(false);
    // An option passed as undefined is left out, so its variable still counts.
    expect(resolveOptionsWithEnvironment({ clientId: undefined }, REQUIRED_ENV).clientId).toBe('bbs');
  });

  it.each(Object.entries(REQUIRED_ENV))('missing %s: a TypeError naming the option and the variable', (variable) => {
    const env: Record<string, string> = { ...REQUIRED_ENV };
    delete env[variable];
    const option = Object.entries(ENVIRONMENT_VARIABLES).find(([, name]) => name === variable)![0];
    const attempt = () => resolveOptionsWithEnvironment({}, env);
    expect(attempt).toThrow(TypeError);
    expect(attempt).toThrow(`subsite-kit: option "${option}" is required: pass it to createSubsiteKit() or set the environment variable ${variable}`);
  });

  it('an empty variable counts as missing', () => {
    expect(() => resolveOptionsWithEnvironment({}, { ...REQUIRED_ENV, SSO_CLIENT_SECRET: ' ' })).toThrow(/"clientSecret" is required.*SSO_CLIENT_SECRET/);
  });

  it.each([
    ['SSO_SYNC_KEY', 'short', /option "syncKey" must be at least 32 characters long \(read from the environment variable SSO_SYNC_KEY\)/],
    ['SSO_HUB_URL', 'id.example.test', /option "hubUrl" must be an absolute http\(s\) URL.*\(read from the environment variable SSO_HUB_URL\)/],
    ['SSO_CROSS_SITE', 'maybe', /option "crossSite" must be a boolean: the environment variable SSO_CROSS_SITE must be true or false/],
    ['SSO_HUB_TIMEOUT_MS', '5s', /option "hubTimeoutMs" must be a positive integer: the environment variable SSO_HUB_TIMEOUT_MS is "5s"/],
    ['SSO_SCOPES', 'profile email', /option "scopes" must include "openid" \(read from the environment variable SSO_SCOPES\)/],
  ])('a bad %s names the option and the variable', (variable, value, message) => {
    const attempt = () => resolveOptionsWithEnvironment({}, { ...REQUIRED_ENV, [variable]: value });
    expect(attempt).toThrow(TypeError);
    expect(attempt).toThrow(message);
  });

  it('a bad explicit option is reported as before, without blaming the environment', () => {
    expect(() => resolveOptionsWithEnvironment({ syncKey: 'short' }, REQUIRED_ENV)).toThrow(/^subsite-kit: option "syncKey" must be at least 32 characters long$/);
  });

  describe('createSubsiteKit()', () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const name of Object.keys(REQUIRED_ENV)) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    });

    it('with no arguments builds a working kit from process.env', async () => {
      Object.assign(process.env, REQUIRED_ENV, { SSO_REDIRECT_URI: 'http://bbs.example.test/sso/callback' });
      const sso = await createSubsiteKit();
      const app = express().use(sso.router).get('/private', sso.requireLogin, (_req, res) => { res.send('private'); });
      const answer = await request(app).get('/private').set('accept', 'text/html').set('sec-fetch-mode', 'navigate');
      expect(answer.status).toBe(302);
      expect(answer.headers.location).toBe('/sso/login?next=%2Fprivate');
    });

    it('rejects with a TypeError naming the option and the variable when one is missing', async () => {
      Object.assign(process.env, REQUIRED_ENV);
      delete process.env.SSO_SESSION_SECRET;
      await expect(createSubsiteKit({ logger: silent })).rejects.toThrow('option "sessionSecret" is required: pass it to createSubsiteKit() or set the environment variable SSO_SESSION_SECRET');
    });
  });
});
