/**
 * UCenter `user/edit` changes a password under the same rules as the account page: the hub's
 * password policy (length, strength, breached list), and a changed password ends every hub
 * session, grant and token of the user (a UCenter application has no hub session to keep),
 * with a back-channel logout at the subsites, as a password reset does. For a user with
 * two-step sign-in it changes nothing: the old password alone is not enough there.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { totpCode } from '../src/testing/totp.js';
import { UcClient } from '../src/testing/ucenter-client.js';
import { authUrl, basic, codeRequest, hubWithMailbox, isSignedIn, postForm, walk } from './support.js';

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
    // As a password reset: a back-channel logout for the user (no sid) and one for the ended session's sid, not a userdelete.
    const sid = JSON.parse(Buffer.from(String(tokens.body.id_token).split('.')[1]!, 'base64url').toString()).sid as string;
    expect(sid).toBeTruthy();
    const pending = (await hub.services.deliveries.list('pending')).filter((item) => item.sub === zs.id);
    expect(pending.map((item) => ({ kind: item.kind, clientId: item.clientId, sid: item.sid })).sort((a, b) => (a.sid ?? '').localeCompare(b.sid ?? ''))).toEqual([
      { kind: 'backchannel-logout', clientId: 'rp', sid: undefined },
      { kind: 'backchannel-logout', clientId: 'rp', sid },
    ]);
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

describe('UCenter user/edit for a user with two-step sign-in (redis, real SMTP)', () => {
  const mailbox = hubWithMailbox();
  let client: UcClient;
  let appId: number;

  beforeAll(async () => {
    const forum = await mailbox.hub.services.ucenter.apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004' });
    client = new UcClient({ api: `${mailbox.hub.url}/ucenter`, key: forum.key, appId: forum.appId });
    appId = forum.appId;
  });

  async function newUser() {
    const username = `ts${randomUUID().slice(0, 8)}`;
    const email = `${username}@example.test`;
    const user = await mailbox.hub.services.users.create({ username, email, name: 'Bob', password: PASSWORD });
    return { id: user.id, uid: user.uid!, username, email };
  }

  /** Turns two-step sign-in on (the current code is used up by it): its recovery codes. */
  async function turnOnTwoStep(userId: string, username: string): Promise<string[]> {
    const { twoStep } = mailbox.hub.services;
    const { secret } = await twoStep.beginEnrolment(userId, username, 'session-1');
    const confirmed = await twoStep.confirmEnrolment(userId, 'session-1', totpCode(secret));
    if (!('codes' in confirmed)) throw new Error(`enrolment refused: ${confirmed.refused}`);
    return confirmed.codes;
  }

  it('the right old password changes neither the password nor the address (-1, audited as a password without its second step); the owner stays signed in', async () => {
    // An outside review: user/edit took the old password alone, so whoever held a two-step
    // user's password set a new one (ending the owner's sessions) and had the e-mail change
    // link sent to their own mailbox, through any UCenter application.
    const { hub, catcher } = mailbox;
    const bob = await newUser();
    const browser = await signInAtPortal(hub, bob.username, PASSWORD);
    const [recovery] = await turnOnTwoStep(bob.id, bob.username);
    const attacker = `${bob.username}@evil.test`;
    const since = Date.now();

    expect(await client.call('user', 'edit', { username: bob.username, oldpw: PASSWORD, newpw: STRONG, email: attacker, ignoreoldpw: 0 })).toBe('-1');
    expect(await client.call('user', 'edit', { username: bob.username, oldpw: PASSWORD, newpw: '', email: attacker, ignoreoldpw: 0 })).toBe('-1');
    expect(await client.call('user', 'edit', { username: bob.username, oldpw: PASSWORD, newpw: STRONG, email: '', ignoreoldpw: 0 })).toBe('-1');
    // Nor with the application's override, whatever old password it sends.
    expect(await client.call('user', 'edit', { username: bob.username, oldpw: PASSWORD, newpw: STRONG, email: attacker, ignoreoldpw: 1 })).toBe('-8');

    // The owner is still signed in; the password is the old one, still with its second step.
    expect(await isSignedIn(browser, hub.url)).toBe(true);
    expect((await client.userLogin(bob.username, STRONG))[0]).toBe('-2');
    expect((await client.userLogin(bob.username, PASSWORD))[0]).toBe('-3');
    expect((await client.userLogin(bob.username, PASSWORD, 0, { checkques: 1, questionid: 1, answer: recovery! }))[0]).toBe(String(bob.uid));
    // No e-mail change: the address is the same, no link to the other one, no notice to the owner.
    expect((await hub.services.users.findById(bob.id))!.email).toBe(bob.email);
    await hub.services.emailChange.settled();
    expect(catcher.to(attacker)).toHaveLength(0);
    expect(catcher.to(bob.email).filter((mail) => mail.receivedAt >= since)).toHaveLength(0);
    await hub.services.audit.flush();
    expect(await hub.services.audit.search({ event: 'account.email.requested', user: bob.id })).toEqual([]);
    expect(await hub.services.audit.search({ event: 'admin.user.password', user: bob.id })).toEqual([]);
    // One entry per refused edit (ignoreoldpw is refused before any password is read).
    const refused = (await hub.services.audit.search({ event: 'login.password', user: bob.id })).filter((entry) => entry.detail?.call === 'user/edit');
    expect(refused).toHaveLength(3);
    for (const entry of refused) expect(entry).toMatchObject({ actor: bob.id, subject: bob.id, client: `ucenter:${appId}`, detail: { next: 'two-step', call: 'user/edit' } });
  });

  it('a wrong old password is -1 as for anyone, and a user without two-step still changes both (1)', async () => {
    const { catcher } = mailbox;
    const bob = await newUser();
    await turnOnTwoStep(bob.id, bob.username);
    const wrongAt = Date.now();
    expect(await client.call('user', 'edit', { username: bob.username, oldpw: 'not-the-password-1', newpw: STRONG, email: '', ignoreoldpw: 0 })).toBe('-1');
    // Refused as a wrong password, not as a two-step user's (whose refusal is audited as a
    // password without its second step): the order of the checks tells nothing.
    const { hub } = mailbox;
    await hub.services.audit.flush();
    expect(await hub.services.audit.search({ event: 'login.password', since: wrongAt, user: bob.id })).toEqual([]);

    const carol = await newUser();
    const to = `${carol.username}@new.example.test`;
    const since = Date.now();
    expect(await client.call('user', 'edit', { username: carol.username, oldpw: PASSWORD, newpw: STRONG, email: to, ignoreoldpw: 0 })).toBe('1');
    expect((await client.userLogin(carol.username, STRONG))[0]).toBe(String(carol.uid));
    await catcher.waitFor(to, { since }); // the link to the new address
  });
});
