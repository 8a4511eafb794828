/**
 * UCenter notes beyond sync: the `test` note (UCenter's communication test) from the console
 * and the CLI, with its diagnosis, and `updatepw` through the delivery queue when a password
 * is set at the hub (the username only, never a password or a hash).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestBrowser, inputValue } from '../src/testing/browser.js';
import { cliHarness } from '../src/testing/cli-harness.js';
import { continueUrlOf } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';
import { UcClient } from '../src/testing/ucenter-client.js';
import { DELIVERY_ERRORS } from '../src/delivery/delivery-errors.js';
import { authcodeDecode } from '../src/ucenter/authcode.js';
import { checkUcenterApp } from '../src/ucenter/note-check.js';
import type { UcenterApp } from '../src/ucenter/ucenter-app.js';

const ALICE = { username: 'alice', email: 'alice@example.com', password: 'wonderland-123' };

/**
 * An application's api/uc.php as Discuz! X writes it: decode with its UC_KEY and parse_str;
 * a note over an hour old is "Authracation has expiried" (sic), checked first, so an unreadable
 * code is that too (`time() - null`); then an empty one is "Invalid Request". `emptyFirst`: a
 * handler that checks the other way round. `test` and the notes it takes answer 1.
 */
class NoteHandler {
  key = '';
  /** Seconds this application's clock is off the hub's. */
  clockOffset = 0;
  emptyFirst = false;
  readonly notes: Record<string, string>[] = [];
  server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname !== '/api/uc.php') return void res.writeHead(404).end('Not Found');
    const now = Math.floor(Date.now() / 1000) + this.clockOffset;
    const plain = authcodeDecode(url.searchParams.get('code') ?? '', this.key, now);
    const note: Record<string, string> = plain ? Object.fromEntries(new URLSearchParams(plain)) : {};
    const empty = Object.keys(note).length === 0;
    if (this.emptyFirst && empty) return void res.end('Invalid Request');
    if (now - Number(note.time ?? 0) > 3600) return void res.end('Authracation has expiried');
    if (empty) return void res.end('Invalid Request');
    this.notes.push(note);
    res.end(['test', 'updatepw', 'deleteuser', 'updateapps'].includes(note.action ?? '') ? '1' : '0');
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('the test note (checkUcenterApp)', () => {
  const handler = new NoteHandler();
  let base: string;
  const app = (change: Partial<UcenterApp> = {}): UcenterApp => ({
    appId: 7, name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test:5004', noteFile: 'api/uc.php', internalUrl: base,
    key: 'k'.repeat(64), synlogin: true, allowRegister: false, createdAt: 0, ...change,
  });
  beforeAll(async () => {
    base = await handler.listen();
  });
  beforeEach(() => {
    handler.key = 'k'.repeat(64);
    handler.clockOffset = 0;
    handler.emptyFirst = false;
    handler.notes.length = 0;
  });
  afterAll(() => handler.close());

  it('OK when the handler decrypts the note and answers 1; the note is action=test with a fresh time', async () => {
    const check = await checkUcenterApp(app(), 2_000);
    expect(check).toMatchObject({ status: 'ok', appId: 7, url: `${base}/api/uc.php`, httpStatus: 200 });
    expect(handler.notes).toEqual([{ action: 'test', time: handler.notes[0]!.time }]);
  });

  it.each([false, true])('wrong key when the handler holds another UC_KEY (Discuz! X answers it "Authracation has expiried"; empty checked first: %s)', async (emptyFirst) => {
    handler.emptyFirst = emptyFirst;
    handler.key = 'x'.repeat(64);
    const check = await checkUcenterApp(app(), 2_000);
    expect(check).toMatchObject({ status: 'wrong_key', reason: 'noteWrongKey' });
    expect(check.detail).toMatch(/UC_KEY/);
    expect(handler.notes).toEqual([]);
  });

  it.each([false, true])("the handler's clock more than the code's minute ahead is told apart from a wrong key (empty checked first: %s)", async (emptyFirst) => {
    handler.emptyFirst = emptyFirst;
    handler.clockOffset = 120;
    const check = await checkUcenterApp(app(), 2_000);
    expect(check).toMatchObject({ status: 'rejected', reason: 'noteClockAhead' });
    expect(check.detail).toMatch(/ahead/);
  });

  it('a clock more than an hour ahead is named with the wrong key (Discuz! X answers both alike); one behind takes notes', async () => {
    handler.clockOffset = 7200;
    const check = await checkUcenterApp(app(), 2_000);
    expect(check).toMatchObject({ status: 'wrong_key' });
    expect(check.detail).toMatch(/an hour ahead/);
    handler.clockOffset = -7200;
    expect((await checkUcenterApp(app(), 2_000)).status).toBe('ok');
  });

  it('wrong URL on a 404 (another note file)', async () => {
    const check = await checkUcenterApp(app({ noteFile: 'uc_client/uc.php' }), 2_000);
    expect(check).toMatchObject({ status: 'wrong_url', httpStatus: 404 });
  });

  it('unreachable when nothing listens, within the timeout', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const check = await checkUcenterApp(app({ internalUrl: `http://127.0.0.1:${port}` }), 2_000);
    expect(check.status).toBe('unreachable');
    expect(check.detail).toMatch(/ECONNREFUSED/);
  });

  it('unexpected for any other answer, with the status and a printable excerpt', async () => {
    const other = createServer((_req, res) => res.writeHead(500).end('<b>Fatal error</b>'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const check = await checkUcenterApp(app({ internalUrl: `http://127.0.0.1:${(other.address() as AddressInfo).port}` }), 2_000);
      expect(check).toMatchObject({ status: 'unexpected', httpStatus: 500 });
      expect(check.detail).toContain('HTTP 500');
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});

describe.each(STORE_KINDS)('updatepw notes and the console test on %s', (kind) => {
  let hub: RunningHub;
  const handler = new NoteHandler();
  let optedIn: UcenterApp;
  let base: string;

  beforeAll(async () => {
    base = await handler.listen();
  });
  afterAll(() => handler.close());
  beforeEach(async () => {
    handler.notes.length = 0;
    hub = await startTestHub(kind, { DELIVERY_BACKOFF_BASE_MS: '1', DELIVERY_BACKOFF_MAX_MS: '2' });
    optedIn = await hub.services.ucenter.apps.register({ name: 'Forum', url: 'http://forum.sso.test:5004', internalUrl: base, updatepw: true });
    // An application that did not ask for password notes gets none.
    await hub.services.ucenter.apps.register({ name: 'Wiki', url: 'http://wiki.sso.test:5002', internalUrl: base });
    handler.key = optedIn.key;
    // Each registration sent updateapps to every application: delivered here; the tests below look at the rest.
    await hub.deliveryWorker.runOnce();
    // (The wiki's notes are made with its own key, which this handler does not hold.)
    expect(handler.notes.map((note) => note.action)).toEqual(['updateapps', 'updateapps']);
    handler.notes.length = 0;
  });
  const passwordNotes = async (status: 'pending' | 'delivered') => (await hub.services.deliveries.list(status)).filter((item) => item.kind === 'ucenter-updatepw');
  afterEach(() => hub.close());

  it('setting a password queues updatepw (username only) at the applications that opted in, delivered on answer 1', async () => {
    const alice = await hub.services.users.create(ALICE);
    expect(await passwordNotes('pending')).toEqual([]);
    await hub.services.users.setPassword(alice.id, 'looking-glass-456');
    const [item] = await passwordNotes('pending');
    expect(item).toMatchObject({ kind: 'ucenter-updatepw', clientId: `ucenter:${optedIn.appId}`, username: 'alice' });
    expect(JSON.stringify(item)).not.toContain('looking-glass');
    await hub.deliveryWorker.runOnce();
    expect(await passwordNotes('delivered')).toEqual([expect.objectContaining({ kind: 'ucenter-updatepw', status: 'delivered', attempts: 1 })]);
    expect(handler.notes).toEqual([{ action: 'updatepw', username: 'alice', time: handler.notes[0]!.time }]);
  });

  it('a rehash of the same password at sign-in sends nothing', async () => {
    const alice = await hub.services.users.create(ALICE);
    await hub.services.users.rehash(alice.id, ALICE.password, (await hub.services.users.findById(alice.id))!.passwordHash);
    expect(await passwordNotes('pending')).toEqual([]);
  });

  const ucenterNotes = async () => (await hub.services.deliveries.list('pending')).filter((item) => item.kind === 'ucenter-updatepw' || item.kind === 'ucenter-deleteuser').map((item) => `${item.kind} ${item.clientId}`).sort();

  it('disabling a user sends no deleteuser (a Discuz! forum deletes the member and all their posts on it): updatepw, which ends the forum sessions', async () => {
    // A review against Discuz! X3.5: `users disable bob` sent deleteuser, and extend_client.php
    // ran deletemember(), which deletes every post and attachment; enabling the user again brought nothing back.
    const alice = await hub.services.users.create(ALICE);
    await hub.deliveryWorker.runOnce();
    handler.notes.length = 0;
    await hub.services.lifecycle.disable(alice.id);
    // The applications that take password notes only: real UCenter's updatepw carries the
    // password, and a handler written for it could store md5 of the empty one the hub sends.
    expect(await ucenterNotes()).toEqual([`ucenter-updatepw ucenter:${optedIn.appId}`]);
    await hub.deliveryWorker.runOnce();
    expect(handler.notes.map((note) => note.action)).toEqual(['updatepw']);
  });

  it("an admin's password reset sends one updatepw (at the applications that take them), no deleteuser", async () => {
    const alice = await hub.services.users.create(ALICE);
    await hub.services.users.setPassword(alice.id, 'looking-glass-456');
    await hub.services.lifecycle.forceLogout(alice.id, 'password-reset');
    expect(await ucenterNotes()).toEqual([`ucenter-updatepw ucenter:${optedIn.appId}`]);
  });

  it('deleting a user sends deleteuser to every application, as UCenter does', async () => {
    const alice = await hub.services.users.create(ALICE);
    await hub.services.lifecycle.delete(alice.id);
    const apps = (await hub.services.ucenter.apps.list()).map((app) => `ucenter-deleteuser ucenter:${app.appId}`);
    expect(await ucenterNotes()).toEqual(apps.sort());
  });

  it('an updatepw still pending when its user is deleted is not sent: it would reach the new account that took the username', async () => {
    // A delivery review: alice's new password queued updatepw while the forum was down; alice was
    // deleted and someone signed up as alice; when the forum came back the note named "alice", and
    // the forum ended the new alice's sessions (Discuz! gives the member by that name a random password).
    const alice = await hub.services.users.create(ALICE);
    await hub.services.users.setPassword(alice.id, 'looking-glass-456');
    const oldUid = (await hub.services.users.findById(alice.id))!.uid;
    await hub.services.lifecycle.delete(alice.id);
    const newAlice = await hub.services.users.create({ ...ALICE, email: 'new-alice@example.com' });
    expect(newAlice.id).not.toBe(alice.id);
    await hub.deliveryWorker.runOnce();
    // The deleted user's deleteuser (by the uid, which the new account does not share) goes; the updatepw does not.
    expect(handler.notes.map((note) => `${note.action} ${note.ids ?? note.username}`)).toEqual([`deleteuser ${oldUid}`]);
    const [held] = (await hub.services.deliveries.list('failed')).filter((item) => item.kind === 'ucenter-updatepw');
    expect(held).toMatchObject({ sub: alice.id, username: 'alice', lastError: DELIVERY_ERRORS.userGone });
    // The new account's own notes are its own.
    handler.notes.length = 0;
    await hub.services.users.setPassword(newAlice.id, 'looking-glass-789');
    await hub.deliveryWorker.runOnce();
    expect(handler.notes.map((note) => `${note.action} ${note.username}`)).toEqual(['updatepw alice']);
  });

  it("user/edit (a password change through the client API) sends updatepw", async () => {
    await hub.services.users.create(ALICE);
    const client = new UcClient({ api: `${hub.url}/ucenter`, appId: optedIn.appId, key: optedIn.key });
    const answer = await client.call('user', 'edit', { username: 'alice', oldpw: ALICE.password, newpw: 'looking-glass-456', email: '', ignoreoldpw: 0 });
    expect(answer).toBe('1');
    expect(await passwordNotes('pending')).toEqual([expect.objectContaining({ kind: 'ucenter-updatepw', username: 'alice' })]);
  });

  it('the console Test button sends a test note and shows the diagnosis; audited', async () => {
    await hub.services.users.create({ username: 'root', email: 'root@example.com', password: 'admin-password-1', roles: ['admin'] });
    const browser = new TestBrowser();
    const login = await browser.follow(`${hub.url}/login?next=${encodeURIComponent('/admin/ucenter')}`);
    const action = /action="(\/interaction\/[^"]+\/login)"/.exec(login.body)![1]!;
    const signedIn = await browser.post(`${hub.url}${action}`, { _csrf: inputValue(login.body, '_csrf'), login: 'root', password: 'admin-password-1' });
    await browser.follow(continueUrlOf(await signedIn.text(), hub.url));
    const page = await (await browser.get(`${hub.url}/admin/ucenter`)).text();
    const answer = await browser.post(`${hub.url}/admin/ucenter/${optedIn.appId}/test`, { _csrf: inputValue(page, '_csrf') });
    const html = await answer.text();
    expect(answer.status).toBe(200);
    expect(html).toMatch(/data-testid="ucenter-check" data-status="ok"/);
    expect(html).toContain('The note handler decrypted the test note and answered 1.');
    // The diagnosis in the reader's language.
    const chinese = await (await browser.post(`${hub.url}/admin/ucenter/${optedIn.appId}/test`, { _csrf: inputValue(page, '_csrf') }, { 'accept-language': 'zh-CN' })).text();
    expect(chinese).toContain('通知处理程序已解密测试通知并返回 1。');
    handler.key = 'y'.repeat(64);
    const wrong = await (await browser.post(`${hub.url}/admin/ucenter/${optedIn.appId}/test`, { _csrf: inputValue(page, '_csrf') })).text();
    expect(wrong).toMatch(/data-status="wrong_key"/);
    const audit = await hub.services.audit.search({ client: `ucenter:${optedIn.appId}` });
    expect(audit.filter((e) => e.event === 'admin.client.check-sync')).toHaveLength(3);
  });
});

describe('ucenter apps test (CLI)', () => {
  const handler = new NoteHandler();
  const env = { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: `test:ucnotes:${randomUUID()}:`, HUB_ISSUER: 'http://hub.sso.test:4000' };
  const cli = cliHarness(env);
  afterAll(async () => {
    await handler.close();
    await cli.cleanUp();
  });

  it('exits 0 with OK when the handler answers 1, 1 with the diagnosis otherwise', async () => {
    const base = await handler.listen();
    const added = await cli.run('ucenter', 'apps', 'add', '--name', 'Forum', '--url', 'http://forum.sso.test:5004', '--internal-url', base, '--accept-rc4', '--updatepw');
    expect(added.code).toBe(0);
    const appId = /UC_APPID = (\d+)/.exec(added.out)![1]!;
    handler.key = /UC_KEY \(shown once\) = (\S+)/.exec(added.out)![1]!;
    expect((await cli.run('ucenter', 'apps', 'list')).out).toContain('updatepw=on');
    const ok = await cli.run('ucenter', 'apps', 'test', appId);
    expect(ok).toMatchObject({ code: 0, out: expect.stringMatching(/^OK .*api\/uc\.php: /) });
    handler.key = 'z'.repeat(64);
    const wrong = await cli.run('ucenter', 'apps', 'test', appId);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(/^wrong_key /);
  });
});

