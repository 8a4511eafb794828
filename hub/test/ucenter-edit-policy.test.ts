/**
 * UCenter `user/edit` changes a password under the same rules as the account page: the hub's
 * password policy (length, strength, breached list), and a changed password ends every hub
 * session, grant and token of the user (a UCenter application has no hub session to keep),
 * with a back-channel logout at the subsites, as a password reset does.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { UcClient } from '../src/testing/ucenter-client.js';
import { authUrl, basic, codeRequest, isSignedIn, postForm, walk } from './support.js';

const REDIRECT = 'http://rp.test/cb';
const PASSWORD = 'looking-glass-42';
const STRONG = 'tulgey-wood-burbled-77';
const BREACHED = 'vorpal-blade-snicker-snack-1871';

describe.each(STORE_KINDS)('UCenter user/edit under the hub\'s password rules on %s', (kind) => {
  let hub: RunningHub;
  let client: UcClient;
  let rpAuth: string;
  let listDir: string;

  beforeAll(async () => {
    listDir = mkdtempSync(join(tmpdir(), 'uc-edit-'));
    const list = join(listDir, 'breached.txt');
    writeFileSync(list, `${BREACHED}\n`);
    hub = await startTestHub(kind, { HUB_BREACHED_PASSWORDS_FILE: list });
    const forum = await hub.services.ucenter.apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004' });
    client = new UcClient({ api: `${hub.url}/ucenter`, key: forum.key, appId: forum.appId });
    const rp = await hub.services.clients.register({
      clientId: 'rp',
      trusted: true,
      redirectUris: [REDIRECT],
      grantTypes: ['authorization_code', 'refresh_token'],
      backchannelLogoutUri: 'http://rp.test/sso/backchannel-logout',
    });
    rpAuth = basic('rp', rp.clientSecret!);
  });
  afterAll(async () => {
    await hub.close();
    rmSync(listDir, { recursive: true, force: true });
  });

  async function newUser() {
    const username = `zs${randomUUID().slice(0, 8)}`;
    const email = `${username}@example.test`;
    const user = await hub.services.users.create({ username, email, name: 'Zhang San', password: PASSWORD });
    return { id: user.id, uid: user.uid!, username, email };
  }

  const edit = (username: string, newpw: string, extra: Record<string, string | number> = {}) =>
    client.call('user', 'edit', { username, oldpw: PASSWORD, newpw, email: '', ignoreoldpw: 0, ...extra });

  it.each([
    ['too easy to guess', 'password'],
    ['too easy to guess (made of the username)', 'USERNAME'],
    ['on the breached list', BREACHED],
    ['too short', 'short'],
  ])('a new password the policy refuses (%s) answers -1 (the one code Discuz! stops on; before, -7, which it took for success) and changes nothing', async (_why, newpw) => {
    const zs = await newUser();
    const password = newpw === 'USERNAME' ? `${zs.username}${zs.username}` : newpw;
    expect(await edit(zs.username, password, { email: `${zs.username}-new@example.test` })).toBe('-1');
    // The old password still signs in, the refused one does not, the e-mail is unchanged.
    expect(await client.userLogin(zs.username, PASSWORD)).toEqual([String(zs.uid), zs.username, '', zs.email, '0']);
    expect((await client.userLogin(zs.username, password))[0]).toBe('-2');
  });

  it('a new password equal to the old one is no change (-7), as on the account page', async () => {
    const zs = await newUser();
    expect(await edit(zs.username, PASSWORD)).toBe('-7');
  });

  it('a changed password ends every hub session, grant and token of the user; subsites get a back-channel logout', async () => {
    const zs = await newUser();
    const other = await newUser();
    const browser = await signInAtPortal(hub, zs.username, PASSWORD);
    const request = codeRequest('rp', REDIRECT, { scope: 'openid offline_access', prompt: 'consent' });
    const { callback } = await walk(browser, hub.url, authUrl(hub.url, request.params), { login: zs.username, password: PASSWORD });
    const tokens = await postForm(`${hub.url}/token`, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: request.verifier, redirect_uri: REDIRECT }, { authorization: rpAuth });
    expect(tokens.status).toBe(200);
    const bystander = await signInAtPortal(hub, other.username, PASSWORD);
    expect(await isSignedIn(browser, hub.url)).toBe(true);

    expect(await edit(zs.username, STRONG)).toBe('1');

    expect(await isSignedIn(browser, hub.url)).toBe(false);
    const refresh = await postForm(`${hub.url}/token`, { grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token) }, { authorization: rpAuth });
    expect(refresh.body.error).toBe('invalid_grant');
    const userinfo = await fetch(`${hub.url}/me`, { headers: { authorization: `Bearer ${String(tokens.body.access_token)}` } });
    expect(userinfo.status).toBe(401);
    // As a password reset: a back-channel logout for the user (no sid), not a userdelete.
    const pending = (await hub.services.deliveries.list('pending')).filter((item) => item.sub === zs.id);
    expect(pending.map((item) => ({ kind: item.kind, clientId: item.clientId, sid: item.sid }))).toEqual([{ kind: 'backchannel-logout', clientId: 'rp', sid: undefined }]);
    // Nobody else is signed out.
    expect(await isSignedIn(bystander, hub.url)).toBe(true);
    // The new password works at the portal and through the application; the old one does not.
    expect((await client.userLogin(zs.username, STRONG))[0]).toBe(String(zs.uid));
    expect((await client.userLogin(zs.username, PASSWORD))[0]).toBe('-2');
  });

  it('ignoreoldpw (an application overriding the user) stays refused (-8): no password is set without the old one', async () => {
    const zs = await newUser();
    expect(await edit(zs.username, 'password', { oldpw: '', ignoreoldpw: 1 })).toBe('-8');
    expect(await edit(zs.username, STRONG, { oldpw: '', ignoreoldpw: 1 })).toBe('-8');
    expect((await client.userLogin(zs.username, PASSWORD))[0]).toBe(String(zs.uid));
  });
});
