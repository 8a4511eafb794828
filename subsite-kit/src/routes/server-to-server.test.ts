import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { JWTPayload } from 'jose';
import { makeSite, HTML } from '../test-support/site.js';
import { makeSyncCode, syncPath } from '../test-support/sync-codes.js';
import { browserAtHub, startStubHub, HUB_URL, CLIENT_ID, type StubHub } from '../test-support/stub-hub.js';
import { BACKCHANNEL_LOGOUT_EVENT } from '../hub-token.js';
import type { Express } from 'express';

let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

const now = () => Math.floor(Date.now() / 1000);

/** Two browsers signed in as user-1 (hub sids s-A and s-B) and one as user-2. */
async function threeBrowsers() {
  const site = await makeSite(hub);
  const signIn = async (sub: string, sid: string) => {
    hub.user = { sub };
    hub.sid = sid;
    const agent = request.agent(site.app);
    await agent.get(syncPath('synclogin', await makeSyncCode({ sid })));
    await agent.get(await browserAtHub(hub, (await agent.get('/').set(HTML)).headers.location!));
    expect((await agent.get('/')).body.user).toMatchObject({ sub });
    return agent;
  };
  return { ...site, a: await signIn('user-1', 's-A'), b: await signIn('user-1', 's-B'), c: await signIn('user-2', 's-C') };
}

const userOf = async (agent: request.Agent) => (await agent.get('/')).body.user as { sub: string } | null;

function claims(extra: JWTPayload = {}): JWTPayload {
  return { iss: HUB_URL, aud: CLIENT_ID, iat: now(), exp: now() + 120, jti: randomUUID(), ...extra };
}

describe('POST /sso/userdelete (hub-signed userdelete+jwt)', () => {
  it('valid Bearer token ends every session of the user, and only theirs', async () => {
    const { app, a, b, c } = await threeBrowsers();
    const token = await hub.sign(claims({ sub: 'user-1' }), 'userdelete+jwt');
    const res = await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sessions_ended: 2 });
    expect(await userOf(a)).toBeNull();
    expect(await userOf(b)).toBeNull();
    expect(await userOf(c)).toMatchObject({ sub: 'user-2' });
  });

  it('a disable or reset that reached the site late ends the sessions of before it, not those signed in since (an outside review)', async () => {
    const { app, a, b, c } = await threeBrowsers();
    const notice = (reason: string, at: number) => hub.sign(claims({ sub: 'user-1', events: { 'urn:sso-hub:event:userdelete': { reason, at } } }), 'userdelete+jwt');
    // Disabled an hour ago (the site was down); the user, enabled again, signed in since.
    const late = await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${await notice('disabled', now() - 3_600)}`);
    expect([late.status, late.body]).toEqual([200, { sessions_ended: 0 }]);
    expect(await userOf(a)).toMatchObject({ sub: 'user-1' });
    expect(await userOf(b)).toMatchObject({ sub: 'user-1' });
    // A reset just now: these sessions are from before it.
    const fresh = await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${await notice('password-reset', now())}`);
    expect(fresh.body).toEqual({ sessions_ended: 2 });
    expect(await userOf(a)).toBeNull();
    expect(await userOf(b)).toBeNull();
    expect(await userOf(c)).toMatchObject({ sub: 'user-2' });
  });

  it("a site whose clock runs ahead of the hub's still ends the sessions of before the event (the token's iat lines the clocks up)", async () => {
    // The hub's clock is two minutes behind this site's: its ID tokens say so, and it disabled the
    // user just now, by its clock.
    hub.idTokenOverrides = { iat: now() - 121 };
    const { app, a, b } = await threeBrowsers();
    hub.idTokenOverrides = {};
    const hubNow = now() - 120;
    const token = await hub.sign(claims({ sub: 'user-1', iat: hubNow, exp: hubNow + 300, events: { 'urn:sso-hub:event:userdelete': { reason: 'disabled', at: hubNow } } }), 'userdelete+jwt');
    expect((await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${token}`)).body).toEqual({ sessions_ended: 2 });
    expect(await userOf(a)).toBeNull();
    expect(await userOf(b)).toBeNull();
  });

  it('a deletion ends every session whenever it arrives', async () => {
    const { app, a, b } = await threeBrowsers();
    const token = await hub.sign(claims({ sub: 'user-1', events: { 'urn:sso-hub:event:userdelete': { reason: 'deleted', at: now() - 3_600 } } }), 'userdelete+jwt');
    expect((await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${token}`)).body).toEqual({ sessions_ended: 2 });
    expect(await userOf(a)).toBeNull();
    expect(await userOf(b)).toBeNull();
  });

  it('accepts the token as a form field and as a JSON field', async () => {
    const { app } = await makeSite(hub);
    const form = await request(app).post('/sso/userdelete').type('form').send({ token: await hub.sign(claims({ sub: 'x' }), 'userdelete+jwt') });
    expect(form.status).toBe(200);
    const json = await request(app).post('/sso/userdelete').send({ token: await hub.sign(claims({ sub: 'x' }), 'userdelete+jwt') });
    expect(json.status).toBe(200);
  });

  it('unknown user → 2xx (idempotent)', async () => {
    const { app } = await makeSite(hub);
    const res = await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${await hub.sign(claims({ sub: 'never-seen' }), 'userdelete+jwt')}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sessions_ended: 0 });
  });

  it('sso.endAllSessionsOf(sub) does the same from code', async () => {
    const { sso, a, c } = await threeBrowsers();
    expect(await sso.endAllSessionsOf('user-1')).toBe(2);
    expect(await userOf(a)).toBeNull();
    expect(await userOf(c)).not.toBeNull();
  });

  const bad: [string, () => Promise<string>][] = [
    ['forged (key not in the hub JWKS)', () => hub.sign(claims({ sub: 'user-1' }), 'userdelete+jwt', hub.foreignKey)],
    ['wrong audience', () => hub.sign(claims({ sub: 'user-1', aud: 'wiki' }), 'userdelete+jwt')],
    ['wrong issuer', () => hub.sign(claims({ sub: 'user-1', iss: 'http://evil.test' }), 'userdelete+jwt')],
    ['wrong typ (a logout token)', () => hub.sign(claims({ sub: 'user-1' }), 'logout+jwt')],
    ['no typ', () => hub.sign(claims({ sub: 'user-1' }), undefined)],
    ['no sub', () => hub.sign(claims(), 'userdelete+jwt')],
    ['no jti', () => hub.sign(claims({ sub: 'user-1', jti: undefined }), 'userdelete+jwt')],
    ['garbage', async () => 'not.a.jwt'],
  ];
  it.each(bad)('rejects %s with 401 invalid_token and ends nothing', async (_name, make) => {
    const { app, a } = await threeBrowsers();
    const res = await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${await make()}`);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
    expect(typeof res.body.error_description).toBe('string');
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts/);
    expect(await userOf(a)).toMatchObject({ sub: 'user-1' });
  });

  // The hub signs a fresh token (iat, exp, jti) for every attempt: one refused only for its times
  // means this site's clock is apart from the hub's. A soak run (this site 45 s behind): the 401
  // failed the hub's notice for good, and the disabled user stayed signed in here afterwards. A
  // 503 is retried by the hub's queue until the clocks agree.
  const mistimed: [string, () => Promise<string>][] = [
    ['issued in the future (this clock behind)', () => hub.sign(claims({ sub: 'user-1', iat: now() + 300, exp: now() + 420 }), 'userdelete+jwt')],
    ['expired (this clock ahead)', () => hub.sign(claims({ sub: 'user-1', iat: now() - 600, exp: now() - 480 }), 'userdelete+jwt')],
  ];
  it.each(mistimed)('a token refused only for its times (%s): 503 temporarily_unavailable, which the hub retries; nothing ended, nothing spent', async (_name, make) => {
    const { app, a } = await threeBrowsers();
    const res = await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${await make()}`);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'temporarily_unavailable' });
    expect(await userOf(a)).toMatchObject({ sub: 'user-1' });
    // The hub's next attempt, once the clocks agree, ends the sessions.
    const retried = await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${await hub.sign(claims({ sub: 'user-1' }), 'userdelete+jwt')}`);
    expect(retried.body).toEqual({ sessions_ended: 2 });
  });

  // Only a userdelete token is the hub's notice to retry: another kind of hub token with this
  // site's audience (a logout token, one without typ such as an ID token) that has expired is
  // not a notice at all, and is refused as such (401), not answered "try again" (503). Its typ
  // used to be read only after the times, so any expired hub token got the 503.
  const expiredOtherKinds: [string, string | undefined][] = [['a logout token', 'logout+jwt'], ['a token without typ (an ID token)', undefined]];
  it.each(expiredOtherKinds)('an expired token of another kind (%s): 401 invalid_token, not 503', async (_name, typ) => {
    const { app, a } = await threeBrowsers();
    const res = await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${await hub.sign(claims({ sub: 'user-1', iat: now() - 600, exp: now() - 480 }), typ)}`);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_token' });
    expect(await userOf(a)).toMatchObject({ sub: 'user-1' });
  });

  it('rejects a replayed token', async () => {
    const { app } = await makeSite(hub);
    const token = await hub.sign(claims({ sub: 'user-1' }), 'userdelete+jwt');
    expect((await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const replay = await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${token}`);
    expect(replay.status).toBe(401);
    expect(replay.body.error_description).toMatch(/already used/);
  });

  it('missing token → 400 invalid_request; malformed Authorization → 400', async () => {
    const { app } = await makeSite(hub);
    expect((await request(app).post('/sso/userdelete')).body).toMatchObject({ error: 'invalid_request' });
    expect((await request(app).post('/sso/userdelete').set('Authorization', 'Basic abc')).status).toBe(400);
  });

  it('a token sent both as a Bearer token and as a body field → 400 invalid_request, no session ended (RFC 6750 §3.1)', async () => {
    const { app, a, b } = await threeBrowsers();
    const token = await hub.sign(claims({ sub: 'user-1' }), 'userdelete+jwt');
    const res = await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${token}`).send({ token });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request' });
    expect(await userOf(a)).toMatchObject({ sub: 'user-1' });
    // Refused before it was used: the same token, sent once, still works.
    expect((await request(app).post('/sso/userdelete').set('Authorization', `Bearer ${token}`)).body).toEqual({ sessions_ended: 2 });
    expect(await userOf(b)).toBeNull();
  });

  it('needs no browser session or CSRF header', async () => {
    const { app } = await makeSite(hub);
    const res = await request(app).post('/sso/userdelete').set('Sec-Fetch-Site', 'cross-site')
      .set('Authorization', `Bearer ${await hub.sign(claims({ sub: 'u' }), 'userdelete+jwt')}`);
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

describe('POST /sso/backchannel-logout (OIDC Back-Channel Logout 1.0)', () => {
  const events = { [BACKCHANNEL_LOGOUT_EVENT]: {} };
  const post = (app: Express, token: string) => request(app).post('/sso/backchannel-logout').type('form').send({ logout_token: token });

  it('sid: ends the sessions of that hub session only', async () => {
    const { app, a, b, c } = await threeBrowsers();
    const res = await post(app, await hub.sign(claims({ sub: 'user-1', sid: 's-A', events }), 'logout+jwt'));
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await userOf(a)).toBeNull();
    expect(await userOf(b)).toMatchObject({ sub: 'user-1' });
    expect(await userOf(c)).toMatchObject({ sub: 'user-2' });
  });

  it('sub only: ends every session of the user', async () => {
    const { app, a, b, c } = await threeBrowsers();
    expect((await post(app, await hub.sign(claims({ sub: 'user-1', events }), 'logout+jwt'))).status).toBe(200);
    expect(await userOf(a)).toBeNull();
    expect(await userOf(b)).toBeNull();
    expect(await userOf(c)).not.toBeNull();
  });

  it('accepts a token without typ (1.0 tokens need not carry logout+jwt)', async () => {
    const { app } = await makeSite(hub);
    expect((await post(app, await hub.sign(claims({ sid: 'x', events }), undefined))).status).toBe(200);
  });

  const bad: [string, () => Promise<string>][] = [
    ['forged', () => hub.sign(claims({ sid: 's-A', events }), 'logout+jwt', hub.foreignKey)],
    ['wrong audience', () => hub.sign(claims({ sid: 's-A', events, aud: 'wiki' }), 'logout+jwt')],
    ['no events', () => hub.sign(claims({ sid: 's-A' }), 'logout+jwt')],
    ['wrong event', () => hub.sign(claims({ sid: 's-A', events: { 'http://other/event': {} } }), 'logout+jwt')],
    ['a nonce (an ID token)', () => hub.sign(claims({ sid: 's-A', events, nonce: 'n' }), 'logout+jwt')],
    ['neither sub nor sid', () => hub.sign(claims({ events }), 'logout+jwt')],
    ['a userdelete token', () => hub.sign(claims({ sub: 'user-1', sid: 's-A', events }), 'userdelete+jwt')],
  ];
  it.each(bad)('rejects %s with 400 and ends nothing', async (_name, make) => {
    const { app, a } = await threeBrowsers();
    const res = await post(app, await make());
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_token');
    expect(await userOf(a)).toMatchObject({ sub: 'user-1' });
  });

  it('an expired token (the hub signs a fresh one for every attempt: the clocks are apart) → 503, retried by the hub, and ends nothing (routes/forced-logout-retry.test.ts)', async () => {
    const { app, a } = await threeBrowsers();
    const res = await post(app, await hub.sign(claims({ sid: 's-A', events, iat: now() - 600, exp: now() - 300 }), 'logout+jwt'));
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('temporarily_unavailable');
    expect(await userOf(a)).toMatchObject({ sub: 'user-1' });
  });

  it('rejects a replayed logout token', async () => {
    const { app } = await makeSite(hub);
    const token = await hub.sign(claims({ sid: 's-Z', events }), 'logout+jwt');
    expect((await post(app, token)).status).toBe(200);
    expect((await post(app, token)).status).toBe(400);
  });

  it('missing logout_token → 400 invalid_request', async () => {
    const { app } = await makeSite(hub);
    const res = await request(app).post('/sso/backchannel-logout').type('form').send({});
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });
});
