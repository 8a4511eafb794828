import { describe, expect, it } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { ssoApi, type SsoRequestApi } from './index.js';
import { makeSite } from './test-support/site.js';

/** `ssoApi(req)`: `req.sso` typed as set, for routes behind `sso.router` (README, "Users, tokens and API calls"). */
describe('ssoApi(req)', () => {
  it('is req.sso on a request that went through sso.router; accessToken() of an anonymous visitor is 401 login_required', async () => {
    const { app, sso } = await makeSite(undefined);
    app.get('/api/token', async (req, res, next) => {
      try {
        const api: SsoRequestApi = ssoApi(req); // no `!`, no `?.`: compiles under strict
        expect(api).toBe(req.sso);
        res.json({ token: await api.accessToken() });
      } catch (error) {
        next(error);
      }
    });
    app.use(sso.errorHandler);
    const res = await request(app).get('/api/token').set('Accept', 'application/json');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'login_required' });
  });

  it('throws a clear error on a request that skipped sso.router (req.sso is really absent there)', async () => {
    const app = express();
    app.get('/no-router', (req, res) => {
      expect(req.sso).toBeUndefined();
      expect(() => ssoApi(req)).toThrow('req.sso is not set: this route is not behind sso.router; mount sso.router where redirectUri puts the kit');
      res.json({ ok: true });
    });
    expect((await request(app).get('/no-router')).body).toEqual({ ok: true });
  });
});
