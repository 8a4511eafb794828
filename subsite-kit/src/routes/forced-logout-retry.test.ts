import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import type { JWTPayload } from 'jose';
import { makeSite, HTML } from '../test-support/site.js';
import { makeSyncCode, syncPath } from '../test-support/sync-codes.js';
import { browserAtHub, startStubHub, HUB_URL, CLIENT_ID, type StubHub } from '../test-support/stub-hub.js';
import { BACKCHANNEL_LOGOUT_EVENT } from '../hub-token.js';

/**
 * A forced logout the kit cannot accept only for now must be answered so that the hub's queue
 * retries it (a 503), never with a 4xx, which the queue takes as final (a kit-faults review):
 * - the hub's clock 2 minutes ahead of this server's (or 3 behind): a back-channel logout token
 *   was refused 400, and the user stayed signed in here (userdelete already answered 503);
 * - the hub rotated its signing key a moment after this site read its JWKS (jose reads it again
 *   for an unknown key at most once in 30 s): back-channel logout 400 and userdelete 401.
 * Nothing is ended by the refused token, and the fresh token of the queue's retry is accepted.
 */
let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

const now = () => Math.floor(Date.now() / 1000);
const events = { [BACKCHANNEL_LOGOUT_EVENT]: {} };
const hubClaims = (offset: number, extra: JWTPayload): JWTPayload => ({ iss: HUB_URL, aud: CLIENT_ID, iat: now() + offset, exp: now() + offset + 120, jti: randomUUID(), ...extra });
const backchannel = (app: Express, token: string) => request(app).post('/sso/backchannel-logout').type('form').send({ logout_token: token });
const userdelete = (app: Express, token: string) => request(app).post('/sso/userdelete').set('Authorization', `Bearer ${token}`);

async function signedInSite() {
  const logs: string[] = [];
  const { app } = await makeSite(hub, { logger: { warn: (line) => logs.push(line) } });
  hub.user = { sub: 'user-1' };
  hub.sid = 's-A';
  const agent = request.agent(app);
  await agent.get(syncPath('synclogin', await makeSyncCode({ sid: 's-A' })));
  await agent.get(await browserAtHub(hub, (await agent.get('/').set(HTML)).headers.location!)); // reads the JWKS
  expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  return { app, agent, logs };
}

describe('back-channel logout while the hub\'s clock is off', () => {
  it.each([
    ['2 minutes ahead', 120],
    ['3 minutes behind', -180],
  ])('hub clock %s: 503 with the reason logged, the session kept; the retry once the clocks agree signs the user out', async (_name, offset) => {
    const { app, agent, logs } = await signedInSite();
    const refused = await backchannel(app, await hub.sign(hubClaims(offset, { sid: 's-A', events }), 'logout+jwt'));
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('temporarily_unavailable');
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
    expect(logs.join('\n')).toMatch(/clocks in sync/);
    const retried = await backchannel(app, await hub.sign(hubClaims(0, { sid: 's-A', events }), 'logout+jwt'));
    expect(retried.status).toBe(200);
    expect((await agent.get('/')).body.user).toBeNull();
  });
});

describe('a forced logout signed with a key the hub rotated to just after this site read its JWKS', () => {
  it('back-channel logout: 503 (retried by the hub), not 400; the session kept', async () => {
    const { app, agent } = await signedInSite();
    await hub.rotate();
    const res = await backchannel(app, await hub.sign(hubClaims(0, { sid: 's-A', events }), 'logout+jwt'));
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('temporarily_unavailable');
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });

  it('userdelete: 503 (retried by the hub), not 401', async () => {
    const { app, agent } = await signedInSite();
    await hub.rotate();
    const res = await userdelete(app, await hub.sign(hubClaims(0, { sub: 'user-1' }), 'userdelete+jwt'));
    expect(res.status).toBe(503);
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });

  it('a token signed with a key the hub never published under a known key id is still refused for good (400)', async () => {
    const { app, agent } = await signedInSite();
    const res = await backchannel(app, await hub.sign(hubClaims(0, { sid: 's-A', events }), 'logout+jwt', hub.foreignKey));
    expect(res.status).toBe(400);
    expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });
});

describe('an ID token signed with a key the hub rotated to just after this site read its JWKS', () => {
  it('the sign-in answers 503 "temporarily unavailable" (it clears within 30 s), not the 502 page of a configuration problem', async () => {
    const { app, logs } = await signedInSite();
    await hub.rotate();
    const agent = request.agent(app);
    const start = await agent.get('/sso/login?next=/private').set(HTML);
    const res = await agent.get(await browserAtHub(hub, start.headers.location!)).set(HTML);
    expect(res.status).toBe(503);
    expect(res.text).not.toContain('configuration problem');
    expect(logs.join('\n')).toMatch(/signed with a key not in the hub's JWKS as last read/);
  });
});
