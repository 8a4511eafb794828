import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import express from 'express';
import { createSubsiteKit } from '../kit.js';
import { kitOptions, makeSite, setCookies } from '../test-support/site.js';
import { makeSyncCode, syncPath } from '../test-support/sync-codes.js';
import { startStubHub, type StubHub } from '../test-support/stub-hub.js';

let hub: StubHub;
beforeAll(async () => { hub = await startStubHub(); });
afterAll(async () => { await hub.close(); });

const WRONG_KEY = 'a-sync-key-the-hub-does-not-use-0123456789';

describe('a rejected sync code is logged with its reason (rate-limited)', () => {
  it('wrong sync key on synclogout: 400, and the log says the signature does not match the sync key', async () => {
    const logs: string[] = [];
    const { app } = await makeSite(hub, { logger: { warn: (line) => logs.push(line) } });
    const res = await request(app).get(syncPath('synclogout', await makeSyncCode({ act: 'logout', key: WRONG_KEY })));
    expect(res.status).toBe(400);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('/sso/synclogout');
    expect(logs[0]).toContain('signature does not match the sync key');
    expect(logs[0]).not.toContain(WRONG_KEY);
  });

  it('a code of another client (two registrations at the hub share this sync URL): the log says so instead of blaming syncKey, without the other id', async () => {
    const logs: string[] = [];
    const { app } = await makeSite(hub, { logger: { warn: (line) => logs.push(line) } });
    // What the hub sends for client "forum-old" (its own key) to the URL this site serves.
    const res = await request(app).get(syncPath('synclogin', await makeSyncCode({ aud: 'forum-old', key: WRONG_KEY })));
    expect(res.status).toBe(400);
    expect(setCookies(res)).toEqual({});
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('the code is for another client id (its aud is not "bbs")');
    expect(logs[0]).toContain('is this URL the sync URL of no other client there?');
    expect(logs[0]).not.toContain('is syncKey the key');
    expect(logs[0]).not.toContain('forum-old');
  });

  it('a flood of bad codes logs one line per reason per minute', async () => {
    const logs: string[] = [];
    const { app } = await makeSite(hub, { logger: { warn: (line) => logs.push(line) } });
    for (let i = 0; i < 20; i += 1) {
      expect((await request(app).get(syncPath('synclogin', await makeSyncCode({ key: WRONG_KEY })))).status).toBe(400);
    }
    await request(app).get(syncPath('synclogin', await makeSyncCode({ aud: 'wiki' })));
    expect(logs).toHaveLength(2);
    expect(logs[1]).toContain('"aud"');
  });
});

describe('act=test: the hub\'s integration check', () => {
  it.each(['synclogin', 'synclogout'] as const)('%s: a good test code → 200 JSON sync=ok, no cookie, no session', async (endpoint) => {
    const { app } = await makeSite(hub);
    const res = await request(app).get(syncPath(endpoint, await makeSyncCode({ act: 'test' })));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sync: 'ok', endpoint, client_id: 'bbs' });
    expect(setCookies(res)).toEqual({});
  });

  it('a test code signed with the wrong key → 400 invalid_token naming the signature', async () => {
    const { app } = await makeSite(hub);
    const res = await request(app).get(syncPath('synclogin', await makeSyncCode({ act: 'test', key: WRONG_KEY })));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_token');
    expect(res.body.error_description).toContain('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('a test code is single-use like any sync code', async () => {
    const { app } = await makeSite(hub);
    const code = await makeSyncCode({ act: 'test' });
    expect((await request(app).get(syncPath('synclogin', code))).status).toBe(200);
    expect((await request(app).get(syncPath('synclogin', code))).status).toBe(400);
  });
});

describe('a sign-in beacon that came cross-site is said in the log (the browser drops its cookie)', () => {
  it('Sec-Fetch-Site: cross-site without crossSite: 200 as before, and the log names both sites and the fix', async () => {
    const logs: string[] = [];
    const { app } = await makeSite(hub, { logger: { warn: (line) => logs.push(line) } });
    const res = await request(app).get(syncPath('synclogin', await makeSyncCode())).set('Sec-Fetch-Site', 'cross-site').set('Sec-Fetch-Dest', 'image');
    expect(res.status).toBe(200);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('/sso/synclogin');
    expect(logs[0]).toContain('came from another site');
    expect(logs[0]).toContain('http://hub.test');
    expect(logs[0]).toContain('http://bbs.test');
    expect(logs[0]).toContain('set crossSite: true');
    // once a minute, not per beacon
    await request(app).get(syncPath('synclogin', await makeSyncCode())).set('Sec-Fetch-Site', 'cross-site');
    expect(logs).toHaveLength(1);
  });

  it('names the route where the site serves it: under a mount path, /forum/sso/synclogin (a new-developer review: the line said /sso/synclogin)', async () => {
    const logs: string[] = [];
    const sso = await createSubsiteKit(kitOptions(hub, { redirectUri: 'http://bbs.test/forum/sso/callback', logger: { warn: (line) => logs.push(line) } }));
    const app = express();
    app.use('/forum', sso.router);
    const res = await request(app).get(`/forum${syncPath('synclogin', await makeSyncCode())}`).set('Sec-Fetch-Site', 'cross-site').set('Sec-Fetch-Dest', 'image');
    expect(res.status).toBe(200);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^subsite-kit: \/forum\/sso\/synclogin: the hub's sync beacon came from another site/);
  });

  it.each([
    ['a same-site beacon', 'same-site', {}],
    ['a beacon without Fetch Metadata', undefined, {}],
    ['a cross-site beacon to a crossSite site', 'cross-site', { crossSite: true }],
  ] as const)('%s: nothing logged', async (_name, fetchSite, extra) => {
    const logs: string[] = [];
    const { app } = await makeSite(hub, { ...extra, logger: { warn: (line) => logs.push(line) } });
    const call = request(app).get(syncPath('synclogin', await makeSyncCode()));
    const res = fetchSite ? await call.set('Sec-Fetch-Site', fetchSite) : await call;
    expect(res.status).toBe(200);
    expect(logs).toEqual([]);
  });
});
