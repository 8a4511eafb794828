/**
 * The hub as a UCenter server: the client API as uc_client calls it (UC_CONNECT = http),
 * its checks (app, key, operation, agent, time), UCenter's answer codes and XML, the
 * portal's throttling and audit on user/login, notes on the sync page, legacy hashes.
 */
import { argon2id } from './argon-marker.js';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestBrowser, attribute, inputValue } from '../src/testing/browser.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';
import { decodeNote, UcClient, ucUnserialize } from '../src/testing/ucenter-client.js';
import { authcodeDecode } from '../src/ucenter/authcode.js';
import { legacyHashFrom } from '../src/users/legacy-hash.js';
import type { UcenterApp } from '../src/ucenter/ucenter-app.js';
import { authUrl, codeRequest, isSignedIn, signOut } from './support.js';
import { continueUrlOf } from '../src/testing/flows.js';

const ALICE = { username: 'alice', email: 'alice@example.com', password: 'wonderland-123' };

function scriptSrcs(html: string): URL[] {
  return [...html.matchAll(/<script type="text\/javascript" src="([^"]+)" reload="1"><\/script>/g)].map((m) => new URL(m[1]!));
}

describe.each(STORE_KINDS)('UCenter client API on %s', (kind) => {
  let hub: RunningHub;
  let forum: UcenterApp;
  let wiki: UcenterApp;
  let client: UcClient;
  let aliceUid: number;

  beforeEach(async () => {
    hub = await startTestHub(kind, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3' });
    const { apps } = hub.services.ucenter;
    forum = await apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004' });
    wiki = await apps.register({ name: 'Wiki', url: 'http://wiki.sso.test:5002/extensions/Auth_UC' });
    await hub.services.clients.upsert({
      clientId: 'bbs', name: 'BBS', redirectUris: ['http://bbs.sso.test:5001/sso/callback'],
      syncLoginUrl: 'http://bbs.sso.test:5001/sso/synclogin', syncLogoutUrl: 'http://bbs.sso.test:5001/sso/synclogout', trusted: true,
    });
    const alice = await hub.services.users.create(ALICE);
    aliceUid = alice.uid!;
    client = new UcClient({ api: `${hub.url}/ucenter`, key: forum.key, appId: forum.appId });
  });
  afterEach(() => hub.close());

  describe('user/login (uc_user_login)', () => {
    it('by username, uid and e-mail: [uid, username, "", email, 0]; the password is never echoed', async () => {
      expect(aliceUid).toBeGreaterThan(0);
      const expected = [String(aliceUid), 'alice', '', ALICE.email, '0'];
      expect(await client.userLogin('alice', ALICE.password)).toEqual(expected);
      expect(await client.userLogin(String(aliceUid), ALICE.password, 1)).toEqual(expected);
      expect(await client.userLogin(ALICE.email, ALICE.password, 2)).toEqual(expected);
    });

    it('answers in UCenter\'s XML byte for byte', async () => {
      const raw = await client.call('user', 'login', { username: 'alice', password: ALICE.password, isuid: 0 });
      expect(raw).toBe(
        '<?xml version="1.0" encoding="ISO-8859-1"?>\r\n<root>\r\n' +
          `\t<item id="0"><![CDATA[${aliceUid}]]></item>\r\n\t<item id="1"><![CDATA[alice]]></item>\r\n` +
          `\t<item id="2"><![CDATA[]]></item>\r\n\t<item id="3"><![CDATA[${ALICE.email}]]></item>\r\n\t<item id="4"><![CDATA[0]]></item>\r\n</root>`,
      );
    });

    it('-1 for an unknown user, -2 for a wrong password or a disabled user, -3 for a security question', async () => {
      expect((await client.userLogin('nobody', 'whatever-123'))[0]).toBe('-1');
      expect((await client.userLogin('alice', 'wrong-password'))[0]).toBe('-2');
      expect((await client.userLogin('alice', ALICE.password, 0, { checkques: 1, questionid: 2, answer: 'x' }))[0]).toBe('-3');
      await hub.services.lifecycle.disable('alice');
      expect((await client.userLogin('alice', ALICE.password))[0]).toBe('-2');
    });

    it('shares the portal\'s lockout (-4 once locked, even with the right password) and audit log', async () => {
      for (let i = 0; i < 3; i += 1) expect((await client.userLogin('alice', 'wrong-password', 0, { ip: '203.0.113.9' }))[0]).toBe('-2');
      expect((await client.userLogin('alice', ALICE.password, 0, { ip: '203.0.113.9' }))[0]).toBe('-4');
      await hub.services.audit.flush();
      const events = (await hub.services.audit.search({ client: `ucenter:${forum.appId}` })).map((entry) => entry.event);
      expect(events.filter((e) => e === 'login.failure')).toHaveLength(3);
      expect(events).toContain('login.throttled');
      // The address is only the application's word (a forum passes on what its visitor sends):
      // another one does not buy more guesses. The owner's known browser still signs in at the portal.
      expect((await client.userLogin('alice', ALICE.password, 0, { ip: '198.51.100.7' }))[0]).toBe('-4');
    });
  });

  it('user/logincheck answers the attempts left (Discuz! asks before every login; before, "Action not found!" crashed its failed-login page on PHP 8)', async () => {
    const check = async (username: string, ip = '203.0.113.9') => client.call('user', 'logincheck', { username, ip });
    expect(await check('alice')).toBe('3');
    expect((await client.userLogin('alice', 'wrong-password', 0, { ip: '203.0.113.9' }))[0]).toBe('-2');
    expect(await check('alice')).toBe('2');
    expect(await check(ALICE.email)).toBe('2'); // the same account, whichever login names it
    expect(await check('alice')).toBe('2'); // read only: asking counts nothing
    for (let i = 0; i < 2; i += 1) await client.userLogin('alice', 'wrong-password', 0, { ip: '203.0.113.9' });
    expect(await check('alice')).toBe('0'); // waiting out the delay: Discuz! says "too many attempts"
    expect(await check('nobody')).toBe('3');
  });

  it('Discuz!\'s "auto" login (by e-mail with nolog, then by username with the same text) counts one mistyped password once', async () => {
    // Before, isuid=0 also looked the text up as an e-mail address: both calls hit the account.
    expect((await client.userLogin(ALICE.email, 'wrong-password', 2, { nolog: 1, ip: '203.0.113.9' }))[0]).toBe('-2');
    expect((await client.userLogin(ALICE.email, 'wrong-password', 0, { ip: '203.0.113.9' }))[0]).toBe('-1');
    expect(await client.call('user', 'logincheck', { username: 'alice', ip: '203.0.113.9' })).toBe('2');
  });

  it('pm/*: no private messages, in the shapes Discuz! indexes (before, "Action not found!" made its Messages page a PHP 8 fatal error)', async () => {
    expect(await client.call('pm', 'check_newpm', { uid: aliceUid, more: 0 })).toBe('0');
    expect(ucUnserialize(await client.call('pm', 'check_newpm', { uid: aliceUid, more: 1 }))).toEqual({ newpm: '0', newprivatepm: '0' });
    expect(ucUnserialize(await client.call('pm', 'check_newpm', { uid: aliceUid, more: 2 }))).toEqual({ newpm: '0', newprivatepm: '0', newchatpm: '0' });
    const raw = await client.call('pm', 'ls', { uid: aliceUid, page: 1, pagesize: 10, folder: 'inbox', filter: 'privatepm', msglen: 200 });
    expect((ucUnserialize(raw) as Record<string, unknown>).count).toBe('0');
    // An empty list with no inner line: Discuz! read "\r\n\t" back as a non-empty string, and
    // its `if (!empty($list)) foreach` warned; '' is empty.
    expect(raw).toContain('\t<item id="data"></item>\r\n');
    expect(await client.call('pm', 'viewnum', { uid: aliceUid, touid: 2 })).toBe('0');
    expect(await client.call('pm', 'sendpm', { fromuid: aliceUid, msgto: 'bob', subject: 's', message: 'm' })).toBe('0');
    expect(await client.call('pm', 'nonsense', {})).toBe('Action not found!');
  });

  it('avatars: a default image for every uid and size, shown cross-origin on the forum\'s pages; no user has one of their own', async () => {
    for (const path of [`/ucenter/avatar.php?uid=${aliceUid}&size=middle`, '/ucenter/avatar.php?uid=9&size=small&type=virtual', '/ucenter/images/noavatar_big.gif']) {
      const answer = await fetch(`${hub.url}${path}`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
      expect(answer.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      expect(await answer.text()).toMatch(/^<svg /);
    }
    const exists = await fetch(`${hub.url}/ucenter/avatar.php?uid=${aliceUid}&size=middle&check_file_exists=1`);
    expect(await exists.text()).toBe('0');
    expect((await fetch(`${hub.url}/ucenter/images/other.gif`)).status).toBe(404);
  });

  it('a member with a Chinese username signs in through uc_user_login; check_username takes such names and refuses spaces', async () => {
    expect(await client.call('user', 'check_username', { username: '张三' })).toBe('1');
    expect(await client.call('user', 'check_username', { username: 'John Smith' })).toBe('-1');
    const zs = await hub.services.users.create({ username: '张三', email: 'zs@example.com', password: 'zhangsan-password-1' });
    expect(await client.userLogin('张三', 'zhangsan-password-1')).toEqual([String(zs.uid), '张三', '', 'zs@example.com', '0']);
    expect(await client.call('user', 'check_username', { username: '张三' })).toBe('-3');
    // Full-width is not a form a name is kept in (refused for a new one), but typed at sign-in it finds alice.
    expect(await client.call('user', 'check_username', { username: 'ＡＬＩＣＥ' })).toBe('-1');
    expect((await client.userLogin('ＡＬＩＣＥ', ALICE.password))[1]).toBe('alice');
  });

  it('user/get_user by name and by uid; 0 for nobody', async () => {
    expect(await client.getUser('alice')).toEqual([String(aliceUid), 'alice', ALICE.email]);
    expect(await client.getUser(aliceUid, 1)).toEqual([String(aliceUid), 'alice', ALICE.email]);
    expect(await client.getUser('nobody')).toBe('0');
    // Never by e-mail address (a review: any application could list which addresses have an account).
    expect(await client.getUser(ALICE.email)).toBe('0');
  });

  it('user/check_username and user/check_email answer UCenter\'s codes', async () => {
    expect(await client.call('user', 'check_username', { username: 'newbie' })).toBe('1');
    expect(await client.call('user', 'check_username', { username: 'alice' })).toBe('-3');
    expect(await client.call('user', 'check_username', { username: 'a b<' })).toBe('-1');
    // The forum may not create users: it is not told which addresses have an account.
    expect(await client.call('user', 'check_email', { email: 'new@example.com' })).toBe('1');
    expect(await client.call('user', 'check_email', { email: ALICE.email })).toBe('1');
    expect(await client.call('user', 'check_email', { email: 'not-an-address' })).toBe('-4');
    // One that registers users is (its registration form needs it), as UCenter answers.
    const open = await hub.services.ucenter.apps.register({ name: 'Open', url: 'http://open.test', allowRegister: true });
    const openClient = new UcClient({ api: `${hub.url}/ucenter`, key: open.key, appId: open.appId });
    expect(await openClient.call('user', 'check_email', { email: 'new@example.com' })).toBe('1');
    expect(await openClient.call('user', 'check_email', { email: ALICE.email })).toBe('-6');
    expect(await openClient.call('user', 'check_email', { email: 'not-an-address' })).toBe('-4');
  });

  it('user/register only where the application may create users', async () => {
    expect(await client.call('user', 'register', { username: 'bob', password: 'builder-1234', email: 'bob@example.com' })).toBe('0');
    const open = await hub.services.ucenter.apps.register({ name: 'Open', url: 'http://open.test', allowRegister: true });
    const openClient = new UcClient({ api: `${hub.url}/ucenter`, key: open.key, appId: open.appId });
    const uid = Number(await openClient.call('user', 'register', { username: 'bob', password: 'builder-1234', email: 'bob@example.com' }));
    expect(uid).toBeGreaterThan(aliceUid);
    expect(await openClient.call('user', 'register', { username: 'bob', password: 'builder-1234', email: 'bob2@example.com' })).toBe('-3');
    expect((await client.userLogin('bob', 'builder-1234'))[0]).toBe(String(uid));
    // The hub's password policy, as at its own sign-up (a review: "password" was accepted here
    // while /signup refused it): 0, nothing created.
    expect(await openClient.call('user', 'register', { username: 'weakreg', password: 'password', email: 'weakreg@example.com' })).toBe('0');
    expect(await hub.services.users.findByLogin('weakreg')).toBeUndefined();
  });

  it('an address sent through addslashes(), as Discuz!\'s e-mail sign-in sends it (o\\\'neil@…), is read as UCenter reads it: without the backslash, trimmed', async () => {
    const oneil = await hub.services.users.create({ username: 'oneil', email: "o'neil@example.com", password: 'irish-coffee-12' });
    // Before, the hub looked for o\'neil@example.com and answered -1 ("no such user").
    expect(await client.userLogin("o\\'neil@example.com", 'irish-coffee-12', 2)).toEqual([String(oneil.uid), 'oneil', '', "o'neil@example.com", '0']);
    // Trimmed as UCenter trims its input: a uid sign-in typed with a space after it (before, -1).
    expect((await client.userLogin(`${oneil.uid} `, 'irish-coffee-12', 1))[0]).toBe(String(oneil.uid));
    // A password is taken as sent (Discuz! refuses one with a quote or a backslash itself).
    expect((await client.userLogin('oneil', 'irish\\-coffee-12'))[0]).toBe('-2');
  });

  it('user/delete and user/chgusername change nothing at the hub and answer UCenter\'s "not done" (0, -8), not "Action not found!" (on PHP 8 Discuz!\'s rename card took that text as done)', async () => {
    expect(await client.call('user', 'delete', { uid: aliceUid, action: 'delete' })).toBe('0');
    expect(await client.call('user', 'chgusername', { uid: aliceUid, newusername: 'alice2' })).toBe('-8');
    expect(await client.userLogin('alice', ALICE.password)).toEqual([String(aliceUid), 'alice', '', 'alice@example.com', '0']);
    expect(await hub.services.users.findByLogin('alice2')).toBeUndefined();
  });

  it('user/edit changes the password with the old password; -1 without it; -8 for ignoreoldpw; a new e-mail address never on its word (-5 here: no mail to prove it)', async () => {
    expect(await client.call('user', 'edit', { username: 'alice', oldpw: 'wrong', newpw: 'new-password-1', email: '', ignoreoldpw: 0 })).toBe('-1');
    expect(await client.call('user', 'edit', { username: 'alice', oldpw: '', newpw: 'new-password-1', email: '', ignoreoldpw: 1 })).toBe('-8');
    // Before, the address changed at once: any member could take an address they cannot read
    // (an unverified sign-up's, another person's) and sign in with it. It now goes through the
    // account page's change (a link to the new address); this hub sends no mail, so it is refused, and nothing changes.
    expect(await client.call('user', 'edit', { username: 'alice', oldpw: ALICE.password, newpw: 'new-password-1', email: 'a2@example.com', ignoreoldpw: 0 })).toBe('-5');
    expect((await client.userLogin('alice', ALICE.password))[3]).toBe('alice@example.com');
    // A new password the hub's policy refuses: -1, the only code Discuz!'s password page stops on
    // (before, -7, on which it set a local password, mailed "password changed" and showed success).
    expect(await client.call('user', 'edit', { username: 'alice', oldpw: ALICE.password, newpw: 'password', email: '', ignoreoldpw: 0 })).toBe('-1');
    expect((await client.userLogin('alice', ALICE.password))[0]).toBe(String(aliceUid));
    expect(await client.call('user', 'edit', { username: 'alice', oldpw: ALICE.password, newpw: 'new-password-1', email: '', ignoreoldpw: 0 })).toBe('1');
    expect(await client.userLogin('alice', 'new-password-1')).toEqual([String(aliceUid), 'alice', '', 'alice@example.com', '0']);
  });

  it('user/synlogin answers script tags for the OTHER synlogin apps: uid and username, no password, expiring within 60 s', async () => {
    // Right after the member's sign-in at this application, as Discuz! asks (hub/test/ucenter-synlogin-proof.test.ts).
    expect((await client.userLogin('alice', ALICE.password))[0]).toBe(String(aliceUid));
    const tags = await client.synlogin(aliceUid);
    const srcs = scriptSrcs(tags);
    expect(srcs.map((u) => `${u.origin}${u.pathname}`)).toEqual(['http://wiki.sso.test:5002/extensions/Auth_UC/api/uc.php']);
    const code = srcs[0]!.searchParams.get('code')!;
    const note = decodeNote(code, wiki.key)!;
    expect(note).toEqual({ action: 'synlogin', uid: String(aliceUid), username: 'alice', time: srcs[0]!.searchParams.get('time') });
    expect(authcodeDecode(code, forum.key)).toBeUndefined();
    expect(authcodeDecode(code, wiki.key, Math.floor(Date.now() / 1000) + 61)).toBeUndefined();
    expect(await client.synlogin(999_999)).toBe('');
  });

  it('user/synlogout answers the other apps\' synlogout notes and the subsites\' synclogout beacons', async () => {
    const srcs = scriptSrcs(await client.synlogout());
    const wikiNote = srcs.find((u) => u.hostname === 'wiki.sso.test')!;
    expect(decodeNote(wikiNote.searchParams.get('code')!, wiki.key)).toMatchObject({ action: 'synlogout' });
    expect(srcs.some((u) => u.href.startsWith('http://bbs.sso.test:5001/sso/synclogout?'))).toBe(true);
    expect(srcs.some((u) => u.hostname === 'forum.sso.test')).toBe(false);
  });

  it('version/check answers UCenter 1.7.0 (Discuz!\'s upgrade script reads its `db` first; before, "Action not found!" stopped it)', async () => {
    expect(ucUnserialize(await client.call('version', 'check'))).toEqual({ file: '1.7.0', db: '1.7.0' });
  });

  it('app/ls lists the applications in UCenter\'s shape', async () => {
    const list = ucUnserialize(await client.call('app', 'ls')) as Record<string, Record<string, string>>;
    expect(list[String(forum.appId)]).toMatchObject({ appid: String(forum.appId), type: 'DISCUZX', name: 'Forum', url: 'http://forum.sso.test:5004', synlogin: '1' });
    // The two applications and the hub's own entry (app id 0), as in updateapps: Discuz! syncs
    // only while app/ls lists another application with synlogin (ucenter-app-ls-sync.test.ts).
    expect(Object.keys(list).sort()).toEqual(['0', String(forum.appId), String(wiki.appId)].sort());
  });

  it('app/ls answers in UCenter\'s XML byte for byte: its SELECT\'s columns in its order, the hub\'s entry first', async () => {
    const row = (app: Pick<UcenterApp, 'appId' | 'type' | 'name' | 'url' | 'synlogin'>) =>
      `\t<item id="${app.appId}">\r\n\t\t<item id="appid"><![CDATA[${app.appId}]]></item>\r\n\t\t<item id="type"><![CDATA[${app.type}]]></item>\r\n` +
      `\t\t<item id="name"><![CDATA[${app.name}]]></item>\r\n\t\t<item id="url"><![CDATA[${app.url}]]></item>\r\n` +
      `\t\t<item id="tagtemplates"><![CDATA[]]></item>\r\n\t\t<item id="viewprourl"><![CDATA[]]></item>\r\n` +
      `\t\t<item id="synlogin"><![CDATA[${app.synlogin ? 1 : 0}]]></item>\r\n\t</item>\r\n`;
    expect(wiki.type).toBe('OTHER');
    const hubRow = row({ appId: 0, type: 'OTHER', name: 'sso-hub', url: hub.url, synlogin: true });
    expect(await client.call('app', 'ls')).toBe(`<?xml version="1.0" encoding="ISO-8859-1"?>\r\n<root>\r\n${hubRow}${row(forum)}${row(wiki)}</root>`);
  });

  describe('refusals answer as UCenter does, never a 500', () => {
    it.each([
      ['an unknown module', () => client.call('nosuch', 'login'), 'Module not found!'],
      ['an unknown action', () => client.call('user', 'nosuch'), 'Action not found!'],
      ['a UCenter module the hub does not serve', () => client.call('feed', 'get', { limit: 10 }), 'Action not found!'],
      ['another app\'s key', () => client.call('user', 'get_user', { username: 'alice' }, { key: wiki.key }), 'Invalid input'],
      ['an input for another action', () => client.call('user', 'get_user', { username: 'alice' }, { inputModule: 'app' }), 'Access denied for operation changed'],
      ['another browser agent', () => client.call('user', 'get_user', { username: 'alice' }, { agent: createHash('md5').update('curl').digest('hex') }), 'Access denied for agent changed'],
      ['an old input', () => client.call('user', 'get_user', { username: 'alice' }, { time: Math.floor(Date.now() / 1000) - 3600 }), 'Authorization has expired'],
    ])('%s', async (_name, call, expected) => {
      expect(await call()).toBe(expected);
    });

    it('a call sent again (a captured request replayed) is refused; the same call made afresh is not', async () => {
      const post = async (body: string) =>
        (await fetch(`${hub.url}/ucenter/index.php`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': client.userAgent }, body })).text();
      const body = client.requestBody('user', 'get_user', { username: 'alice' });
      expect(await post(body)).toContain('<?xml');
      expect(await post(body)).toBe('Authorization has expired');
      // The base64 written another way (padding back on) is the same call.
      const padded = body.replace(/input=([^&]+)/, (_all, input: string) => `input=${input}${'%3D'.repeat((4 - ((decodeURIComponent(input).length - 4) % 4)) % 4)}`);
      expect(await post(padded)).toBe('Authorization has expired');
      // The same question in the same second, made afresh (a new dynamic key), is answered.
      expect(await post(client.requestBody('user', 'get_user', { username: 'alice' }))).toContain('<?xml');
      expect(await client.call('user', 'synlogout')).not.toBe('Authorization has expired');
    });

    it('an unknown app id, a missing or junk input', async () => {
      const post = async (body: string) => (await fetch(`${hub.url}/ucenter/index.php`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })).text();
      expect(await post(client.requestBody('user', 'get_user', { username: 'alice' }).replace(/appid=\d+$/, 'appid=999'))).toBe('Invalid input');
      expect(await post('m=user&a=login&appid=1')).toBe('Invalid input');
      expect(await post('m=user&a=login&appid=1&input=%%%%')).toBe('Invalid input');
      const get = await fetch(`${hub.url}/ucenter/index.php?m=user&a=login&appid=abc&input[]=1`);
      expect(get.status).toBe(200);
      expect(await get.text()).toBe('Invalid input');
      // A body past the limit, or with too many fields: UCenter-style plain text, not the portal's HTML error page.
      for (const body of [`m=user&a=login&appid=1&input=${'x'.repeat(100_000)}`, Array.from({ length: 60 }, (_, i) => `f${i}=1`).join('&')]) {
        const refused = await fetch(`${hub.url}/ucenter/index.php?m=user&a=login&appid=1`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
        expect(refused.status).toBe(413);
        expect(refused.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(await refused.text()).toBe('Invalid input');
      }
    });
  });

  it('legacy UCenter hash: user/login accepts it once and replaces it by argon2id', async () => {
    const hash = legacyHashFrom(createHash('md5').update(createHash('md5').update('oldpw').digest('hex') + 'a1b2c3').digest('hex'), 'a1b2c3')!;
    await hub.services.users.importUser({ username: 'carol', email: 'carol@example.com', passwordHash: hash, uid: 5000 });
    expect(await hub.services.users.legacyHashCount()).toBe(1);
    expect(await client.userLogin('carol', 'wrong')).toEqual(['-2', 'carol', '', 'carol@example.com', '0']);
    expect(await client.userLogin('carol', 'oldpw')).toEqual(['5000', 'carol', '', 'carol@example.com', '0']);
    const carol = await hub.services.users.findByLogin('carol');
    expect(carol!.passwordHash).toMatch(argon2id);
    expect(await hub.services.users.legacyHashCount()).toBe(0);
    expect((await client.userLogin('carol', 'oldpw'))[0]).toBe('5000');
  });

  it('legacy UCenter hash at the portal: accepted once (even below the length policy), replaced by argon2id', async () => {
    const hash = legacyHashFrom(createHash('md5').update(createHash('md5').update('short').digest('hex') + 'zz').digest('hex'), 'zz')!;
    await hub.services.users.importUser({ username: 'dave', email: 'dave@example.com', passwordHash: hash, uid: 77 });
    const browser = new TestBrowser();
    const landed = await browser.follow(`${hub.url}/login`, [new URL(hub.url).host]);
    const action = new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
    const answer = await browser.post(action, { _csrf: inputValue(landed.body, '_csrf'), login: 'dave', password: 'short' });
    await answer.text();
    expect(answer.status).toBe(200);
    expect((await hub.services.users.findByLogin('dave'))!.passwordHash).toMatch(argon2id);
    expect(await hub.services.users.legacyHashCount()).toBe(0);
  });

  it('the portal sign-in sync page carries each app\'s synlogin note as <script … reload="1">', async () => {
    const browser = new TestBrowser();
    const hubHost = new URL(hub.url).host;
    const landed = await browser.follow(`${hub.url}/login`, [hubHost]);
    const action = new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
    const answer = await browser.post(action, { _csrf: inputValue(landed.body, '_csrf'), login: 'alice', password: ALICE.password });
    const page = await answer.text();
    const tags = [...page.matchAll(/<script class="beacon" type="text\/javascript" src="([^"]+)" data-client="(ucenter:\d+)" reload="1" async><\/script>/g)];
    expect(tags.map((m) => m[2]).sort()).toEqual([`ucenter:${forum.appId}`, `ucenter:${wiki.appId}`].sort());
    const forumSrc = new URL(tags.find((m) => m[2] === `ucenter:${forum.appId}`)![1]!.replace(/&amp;/g, '&'));
    expect(decodeNote(forumSrc.searchParams.get('code')!, forum.key)).toMatchObject({ action: 'synlogin', uid: String(aliceUid), username: 'alice' });
    expect(answer.headers.get('content-security-policy')).toContain('http://forum.sso.test:5004');
  });

  it("an admin's sign-in pings no script beacon: no app's note and no legacy script subsite run in the hub's origin, where they could use the console (a review: a note created an admin account)", async () => {
    await hub.services.clients.upsert({
      clientId: 'old', name: 'Old', redirectUris: ['http://old.sso.test:5007/sso/callback'],
      syncLoginUrl: 'http://old.sso.test:5007/sso/synclogin', syncLogoutUrl: 'http://old.sso.test:5007/sso/synclogout', syncTransport: 'script', trusted: true,
    });
    await hub.services.users.create({ username: 'root', email: 'root@example.com', password: 'root-password-12', roles: ['admin'] });
    const signIn = async (login: string, password: string) => {
      const browser = new TestBrowser();
      const landed = await browser.follow(`${hub.url}/login`, [new URL(hub.url).host]);
      const action = new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString();
      const answer = await browser.post(action, { _csrf: inputValue(landed.body, '_csrf'), login, password });
      return { page: await answer.text(), csp: answer.headers.get('content-security-policy') ?? '' };
    };
    const admin = await signIn('root', 'root-password-12');
    expect(admin.page).toContain('data-testid="sync-title"');
    expect(admin.page).not.toMatch(/<script class="beacon"/);
    expect(admin.page).toMatch(/<img class="beacon" src="http:\/\/bbs\.sso\.test:5001\/sso\/synclogin/);
    expect(admin.csp).toMatch(/script-src 'self';/);
    // Anyone else: as before.
    const user = await signIn('alice', ALICE.password);
    expect(user.page.match(/<script class="beacon"/g)).toHaveLength(3); // two notes and the script subsite
    expect(user.csp).toContain('http://old.sso.test:5007');

    // A browser that still holds the admin's hub session signs in as someone else (a site's
    // prompt=login, an account switch): oidc-provider ends the admin's session only after the sync
    // page, so the page runs no script either (a review).
    const browser = new TestBrowser();
    const hubHost = new URL(hub.url).host;
    const landed = await browser.follow(`${hub.url}/login`, [hubHost]);
    const rootPage = await browser.post(new URL(attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString(), { _csrf: inputValue(landed.body, '_csrf'), login: 'root', password: 'root-password-12' });
    await browser.follow(continueUrlOf(await rootPage.text(), hub.url), [hubHost]); // the hub session is made as the sign-in resumes
    expect(await isSignedIn(browser, hub.url)).toBe(true);
    const relogin = await browser.follow(authUrl(hub.url, codeRequest('bbs', 'http://bbs.sso.test:5001/sso/callback', { prompt: 'login' }).params), [hubHost]);
    expect(relogin.body).toMatch(/action="\/interaction\/[^"]+\/login"/);
    const switched = await browser.post(new URL(attribute(relogin.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString(), { _csrf: inputValue(relogin.body, '_csrf'), login: 'alice', password: ALICE.password });
    const page = await switched.text();
    expect(page).toContain('data-testid="sync-title"');
    expect(page).not.toMatch(/<script class="beacon"/);
    expect(switched.headers.get('content-security-policy')).toMatch(/script-src 'self';/);

    // The other way round: a browser signed in as alice switches to the admin. oidc-provider ends
    // alice's session first, on a sign-out page that goes on to the admin's sign-in, whose session
    // cookie arrives while that page still runs: no script there either (a review created an admin so).
    const switcher = new TestBrowser();
    const aliceLanded = await switcher.follow(`${hub.url}/login`, [hubHost]);
    const alicePage = await switcher.post(new URL(attribute(aliceLanded.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString(), { _csrf: inputValue(aliceLanded.body, '_csrf'), login: 'alice', password: ALICE.password });
    await switcher.follow(continueUrlOf(await alicePage.text(), hub.url), [hubHost]);
    const toAdmin = await switcher.follow(authUrl(hub.url, codeRequest('bbs', 'http://bbs.sso.test:5001/sso/callback', { prompt: 'login' }).params), [hubHost]);
    const adminSync = await switcher.post(new URL(attribute(toAdmin.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString(), { _csrf: inputValue(toAdmin.body, '_csrf'), login: 'root', password: 'root-password-12' });
    const ending = await switcher.get(continueUrlOf(await adminSync.text(), hub.url));
    const endForm = await ending.text();
    expect(endForm).toContain('/session/end/confirm');
    const fields = Object.fromEntries([...endForm.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const signOutPage = await switcher.post(`${hub.url}/session/end/confirm`, fields);
    const signOutHtml = await signOutPage.text();
    expect(signOutHtml).toContain('data-testid="sync-title"');
    expect(signOutHtml).not.toMatch(/<script class="beacon"/);
    expect(signOutPage.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    // A plain sign-out still carries the notes.
    const plain = await signOut(browser, hub.url);
    expect(plain.html).toMatch(/<script class="beacon" type="text\/javascript"/);

    // The admin signed in (another tab) after this sign-in page was opened: its interaction knew
    // of no session, the browser holds the admin's now. The form is refused as stale (its CSRF
    // token was the portal session's before the admin's sign-in regenerated it): no sync page.
    const other = new TestBrowser();
    const early = await other.follow(authUrl(hub.url, codeRequest('bbs', 'http://bbs.sso.test:5001/sso/callback').params), [hubHost]);
    const tab = await other.follow(`${hub.url}/login`, [hubHost]);
    const adminPage = await other.post(new URL(attribute(tab.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString(), { _csrf: inputValue(tab.body, '_csrf'), login: 'root', password: 'root-password-12' });
    await other.follow(continueUrlOf(await adminPage.text(), hub.url), [hubHost]);
    expect(await isSignedIn(other, hub.url)).toBe(true);
    const late = await other.post(new URL(attribute(early.body, /action="(\/interaction\/[^"]+\/login)"/), hub.url).toString(), { _csrf: inputValue(early.body, '_csrf'), login: 'alice', password: ALICE.password });
    const latePage = await late.text();
    expect(latePage).toContain('data-testid="signed-in-as"');
    expect(latePage).not.toMatch(/class="beacon"/);
  });
});

describe.each(STORE_KINDS)('UCenter deleteuser through the delivery queue on %s', (kind) => {
  let hub: RunningHub;
  let server: Server;
  const notes: Record<string, string>[] = [];
  let answers: string[];

  beforeEach(async () => {
    notes.length = 0;
    answers = [];
    hub = await startTestHub(kind, { DELIVERY_BACKOFF_BASE_MS: '1', DELIVERY_BACKOFF_MAX_MS: '2' });
    let key = '';
    // The application's api/uc.php: decodes the note with its UC_KEY and answers as it likes.
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const note = url.pathname === '/api/uc.php' ? decodeNote(url.searchParams.get('code') ?? '', key) : undefined;
      if (note) notes.push(note);
      res.end(note ? answers.shift() ?? '1' : '-1');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const app = await hub.services.ucenter.apps.register({ name: 'Forum', url: 'http://forum.sso.test:5004', internalUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    key = app.key;
    // The registration's updateapps note, delivered and forgotten: these tests are about deleteuser.
    await hub.deliveryWorker.runOnce();
    expect(notes.map((note) => note.action)).toEqual(['updateapps']);
    notes.length = 0;
    answers = ['0', '1'];
  });
  afterEach(async () => {
    await hub.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('deleting a user queues deleteuser (ids = uid); retried until the application answers 1', async () => {
    const alice = await hub.services.users.create(ALICE);
    await hub.services.lifecycle.delete('alice');
    await hub.deliveryWorker.runOnce();
    let [item] = await hub.services.deliveries.list('pending');
    expect(item).toMatchObject({ kind: 'ucenter-deleteuser', attempts: 1, lastStatus: 200, lastError: 'the application did not answer 1' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await hub.deliveryWorker.runOnce();
    [item] = (await hub.services.deliveries.list('delivered')).filter((delivered) => delivered.kind === 'ucenter-deleteuser');
    expect(item).toMatchObject({ kind: 'ucenter-deleteuser', attempts: 2, status: 'delivered' });
    expect(notes).toHaveLength(2);
    for (const note of notes) {
      expect(note).toEqual({ action: 'deleteuser', ids: String(alice.uid), time: note.time });
      expect(Math.abs(Number(note.time) - Date.now() / 1000)).toBeLessThan(30);
    }
  });

  it('disabling a user sends no deleteuser: Discuz! X3.5 deletes the member and every post of theirs on it (this application takes no password notes: nothing)', async () => {
    answers = ['1'];
    await hub.services.users.create(ALICE);
    await hub.services.lifecycle.disable('alice');
    await hub.deliveryWorker.runOnce();
    expect(notes).toEqual([]);
  });
});
