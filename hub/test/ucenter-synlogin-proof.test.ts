/**
 * user/synlogin signs a member in at every other UCenter application, so it answers scripts only
 * for a member this application has just signed in with their password (user/login) or
 * registered (user/register), once. Before, any application's key was enough to sign anyone in
 * (the hub's admin too) at every other application: a forum helper's review, with Discuz! X3.5's
 * own uc_client and api/uc.php in Chromium, had one forum's UC_KEY sign the admin in at another
 * forum and at the demo forum, without a password.
 */
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { decodeNote, UcClient } from '../src/testing/ucenter-client.js';
import type { UcenterApp } from '../src/ucenter/ucenter-app.js';

const ALICE = { username: 'alice', email: 'alice@example.com', password: 'wonderland-123' };
const ROOT = { username: 'root', email: 'root@example.com', password: 'root-password-12', roles: ['admin' as const] };

function noteUids(html: string, app: UcenterApp): string[] {
  return [...html.matchAll(/src="([^"]+)"/g)].map((m) => new URL(m[1]!.replace(/&amp;/g, '&'))).filter((u) => u.hostname === new URL(app.url).hostname).map((u) => decodeNote(u.searchParams.get('code')!, app.key)?.uid ?? '?');
}

describe.each(STORE_KINDS)('user/synlogin needs a sign-in at the asking application, on %s', (kind) => {
  let hub: RunningHub;
  let forum: UcenterApp;
  let other: UcenterApp;
  let forumClient: UcClient;
  let otherClient: UcClient;
  let aliceUid: number;
  let rootUid: number;

  beforeEach(async () => {
    hub = await startTestHub(kind);
    const { apps } = hub.services.ucenter;
    forum = await apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004', allowRegister: true });
    other = await apps.register({ name: 'Other forum', type: 'DISCUZX', url: 'http://other.sso.test:5005' });
    aliceUid = (await hub.services.users.create(ALICE)).uid!;
    rootUid = (await hub.services.users.create(ROOT)).uid!;
    forumClient = new UcClient({ api: `${hub.url}/ucenter`, key: forum.key, appId: forum.appId });
    otherClient = new UcClient({ api: `${hub.url}/ucenter`, key: other.key, appId: other.appId });
  });
  afterEach(() => hub.close());

  it('no scripts for a uid the application did not sign in: not a member, not the admin', async () => {
    expect(await forumClient.synlogin(aliceUid)).toBe('');
    expect(await forumClient.synlogin(rootUid)).toBe('');
    // A wrong password proves nothing.
    expect((await forumClient.userLogin('alice', 'wrong-password'))[0]).toBe('-2');
    expect(await forumClient.synlogin(aliceUid)).toBe('');
  });

  it('after user/login: the other applications\' notes, once; a sign-in at one application is no proof for another', async () => {
    expect((await forumClient.userLogin('alice', ALICE.password))[0]).toBe(String(aliceUid));
    // The other forum saw no sign-in of alice.
    expect(await otherClient.synlogin(aliceUid)).toBe('');
    // Nor is alice's sign-in a proof for another member.
    expect(await forumClient.synlogin(rootUid)).toBe('');
    const html = await forumClient.synlogin(aliceUid);
    expect(noteUids(html, other)).toEqual([String(aliceUid)]);
    // Taken once: Discuz! asks once per sign-in.
    expect(await forumClient.synlogin(aliceUid)).toBe('');
    // By uid or e-mail too (Discuz!'s login field choices).
    expect((await forumClient.userLogin(ALICE.email, ALICE.password, 2))[0]).toBe(String(aliceUid));
    expect(noteUids(await forumClient.synlogin(aliceUid), other)).toEqual([String(aliceUid)]);
  });

  it('after user/register (an application that may create users): the new member\'s notes', async () => {
    const uid = Number(await forumClient.call('user', 'register', { username: 'bob', password: 'builder-1234', email: 'bob@example.com' }));
    expect(uid).toBeGreaterThan(0);
    expect(noteUids(await forumClient.synlogin(uid), other)).toEqual([String(uid)]);
  });

  it('synlogout needs nothing: it names no member', async () => {
    expect(await forumClient.synlogout()).toContain('http://other.sso.test:5005/api/uc.php?');
  });
});
