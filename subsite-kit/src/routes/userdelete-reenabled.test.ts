import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { makeSite, HTML } from '../test-support/site.js';
import { makeSyncCode, syncPath } from '../test-support/sync-codes.js';
import { browserAtHub, startStubHub, HUB_URL, CLIENT_ID, type StubHub } from '../test-support/stub-hub.js';

/**
 * A disable's notice that reaches this site late (it was down, slow or answering 500 while the
 * hub retried) after the account was enabled again and the user signed in here since: the
 * session signed in since is kept, however soon after the event it started. Both times are
 * read on the hub's clock (the event's `at`, the session's ID token `iat`). Before, the kit
 * compared `at` with its own sign-in time plus a 60 s margin for the two clocks, and ended a
 * session signed in within a minute of the event (a delivery review: disable, enable, sign in).
 */
let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

const now = () => Math.floor(Date.now() / 1000);

async function signedIn(site: Awaited<ReturnType<typeof makeSite>>, idTokenIat?: number) {
  hub.user = { sub: 'user-1' };
  hub.sid = `s-${randomUUID()}`;
  hub.idTokenOverrides = idTokenIat === undefined ? {} : { iat: idTokenIat };
  const agent = request.agent(site.app);
  await agent.get(syncPath('synclogin', await makeSyncCode({ sid: hub.sid })));
  await agent.get(await browserAtHub(hub, (await agent.get('/').set(HTML)).headers.location!));
  hub.idTokenOverrides = {};
  expect((await agent.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  return agent;
}

const lateNotice = async (at: number, reason = 'disabled') =>
  hub.sign({ iss: HUB_URL, aud: CLIENT_ID, sub: 'user-1', iat: now(), exp: now() + 120, jti: randomUUID(),
    events: { 'urn:sso-hub:event:userdelete': { reason, at, id: randomUUID() } } }, 'userdelete+jwt');

describe('a late disable notice and the sessions signed in after the account was enabled again', () => {
  it('keeps a session the hub signed in 10 s after the event, ends one signed in before it', async () => {
    const site = await makeSite(hub, {});
    const event = now() - 10;
    const before = await signedIn(site, event - 30); // signed in at the hub before the disable
    const since = await signedIn(site); // disable, enable, signed in again: 10 s after the event
    const res = await request(site.app).post('/sso/userdelete').set('Authorization', `Bearer ${await lateNotice(event)}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sessions_ended: 1 });
    expect((await before.get('/')).body.user).toBeNull();
    expect((await since.get('/')).body.user).toMatchObject({ sub: 'user-1' });
  });

  it('a session whose ID token was issued in the second of the event (or just after: two hubs\' clocks) ends', async () => {
    const site = await makeSite(hub, {});
    const event = now();
    const agent = await signedIn(site, event + 2);
    const res = await request(site.app).post('/sso/userdelete').set('Authorization', `Bearer ${await lateNotice(event)}`);
    expect(res.body).toEqual({ sessions_ended: 1 });
    expect((await agent.get('/')).body.user).toBeNull();
  });

  it('a deleted notice ends the session whatever its time', async () => {
    const site = await makeSite(hub, {});
    const agent = await signedIn(site);
    const res = await request(site.app).post('/sso/userdelete').set('Authorization', `Bearer ${await lateNotice(now() - 30, 'deleted')}`);
    expect(res.body).toEqual({ sessions_ended: 1 });
    expect((await agent.get('/')).body.user).toBeNull();
  });
});
