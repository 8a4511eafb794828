/**
 * The hub against a UCenter application written in PHP and run by PHP itself (php -S): its
 * client (hub/test/php/uc-app/uc_client.php) posts to UC_API with PHP's urlencode and stream
 * HTTP client and reads the hub's XML; its note handler (api/uc.php) decodes the hub's notes
 * with PHP's $_GET and parse_str. The application is configured only with UC_API, UC_KEY and
 * UC_APPID (UC_CONNECT = HTTP). Written from the protocol, not from UCenter's code (which is
 * not free software); CI installs php-cli (.ci/run), and without PHP this test fails.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../src/testing/hub-process.js';
import { startPhpServer, stopPhpServer } from './php-server.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { checkUcenterApp } from '../src/ucenter/note-check.js';
import type { UcenterApp } from '../src/ucenter/ucenter-app.js';
import { UcenterNotes } from '../src/ucenter/app-notes.js';

const APP_DIR = fileURLToPath(new URL('./php/uc-app', import.meta.url));
const ALICE = { username: 'alice', email: 'alice@example.com', password: 'wonderland-123' };
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) php-app-test';

/** A page of the PHP application that calls UCenter, as the browser opens it. */
async function callPhp(phpUrl: string, params: Record<string, string | number>): Promise<Record<string, unknown>> {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const response = await fetch(`${phpUrl}/client.php?${query}`, { headers: { 'user-agent': BROWSER } });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

interface NoteLine {
  app: 'app1' | 'app2';
  note: Record<string, string>;
}

describe('a PHP UCenter application (UC_CONNECT = HTTP) against the hub', () => {
  let hub: RunningHub;
  let php: ChildProcess;
  let phpUrl: string;
  let dir: string;
  let app1: UcenterApp;
  let app2: UcenterApp;
  let aliceUid: number;
  const notesLog = () => join(dir, 'notes.log');

  async function notes(): Promise<NoteLine[]> {
    const text = await readFile(notesLog(), 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as NoteLine);
  }

  const call = (params: Record<string, string | number>) => callPhp(phpUrl, params);

  beforeAll(async () => {
    hub = await startTestHub('redis', { DELIVERY_BACKOFF_BASE_MS: '1', DELIVERY_BACKOFF_MAX_MS: '2' });
    dir = await mkdtemp(join(tmpdir(), 'uc-php-'));
    const port = await freePort();
    phpUrl = `http://127.0.0.1:${port}`;
    const { apps } = hub.services.ucenter;
    app1 = await apps.register({ name: 'PHP forum', type: 'DISCUZX', url: phpUrl, updatepw: true });
    app2 = await apps.register({ name: 'PHP wiki', url: `${phpUrl}/app2` });
    aliceUid = (await hub.services.users.create(ALICE)).uid!;
    php = await startPhpServer([`127.0.0.1:${port}`, '-t', APP_DIR], { UC_API: `${hub.url}/ucenter`, UC_KEY: app1.key, UC_APPID: String(app1.appId), APP2_KEY: app2.key, NOTE_LOG: notesLog() }, `${phpUrl}/client.php`);
  });

  afterAll(async () => {
    await stopPhpServer(php);
    await hub?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the hub's test note: the PHP handler decodes it and answers 1", async () => {
    const check = await checkUcenterApp(app1, 5_000);
    expect(check).toMatchObject({ status: 'ok', httpStatus: 200 });
    expect((await notes()).filter((line) => line.note.action === 'test').at(-1)).toEqual({ app: 'app1', note: { action: 'test', time: expect.stringMatching(/^\d{10}$/) } });
    // Another key: the handler, in Discuz! X's order, answers "Authracation has expiried", which names the key.
    expect(await checkUcenterApp({ ...app1, key: app2.key }, 5_000)).toMatchObject({ status: 'wrong_key', reason: 'noteWrongKey' });
  });

  it('user/login by username, by uid; wrong password and unknown user answer -2 and -1; the password is never echoed', async () => {
    expect(await call({ call: 'login', username: 'alice', password: ALICE.password })).toEqual({ uid: aliceUid, username: 'alice', password: '', email: ALICE.email });
    expect(await call({ call: 'login', username: String(aliceUid), password: ALICE.password, isuid: 1 })).toMatchObject({ uid: aliceUid, username: 'alice' });
    expect(await call({ call: 'login', username: 'alice', password: 'wrong-password' })).toMatchObject({ uid: -2 });
    expect(await call({ call: 'login', username: 'nobody', password: 'whatever-1' })).toMatchObject({ uid: -1 });
    const audit = await hub.services.audit.search({ client: `ucenter:${app1.appId}` });
    expect(audit.map((entry) => entry.event)).toContain('login.success');
  });

  it('user/get_user and user/check_username', async () => {
    expect(await call({ call: 'get_user', username: 'alice' })).toEqual({ user: [String(aliceUid), 'alice', ALICE.email] });
    expect(await call({ call: 'get_user', username: String(aliceUid), isuid: 1 })).toEqual({ user: [String(aliceUid), 'alice', ALICE.email] });
    expect(await call({ call: 'check_username', username: 'alice' })).toEqual({ code: '-3' });
    expect(await call({ call: 'check_username', username: 'carol' })).toEqual({ code: '1' });
  });

  it('app/ls lists both applications', async () => {
    const { apps } = (await call({ call: 'app_ls' })) as { apps: Record<string, Record<string, string>> };
    expect(apps[String(app1.appId)]).toMatchObject({ appid: String(app1.appId), name: 'PHP forum', url: phpUrl, type: 'DISCUZX' });
    expect(apps[String(app2.appId)]).toMatchObject({ appid: String(app2.appId), url: `${phpUrl}/app2` });
  });

  it('updateapps: every application gets the list of applications, which uc_client needs before it asks for sync scripts', async () => {
    // Before the note arrives, the application (like uc_client) knows of no other application.
    expect(await call({ call: 'synlogin', uid: aliceUid })).toEqual({ html: '' });
    await hub.deliveryWorker.runOnce();
    const updates = (await notes()).filter((line) => line.note.action === 'updateapps');
    expect(updates.map((line) => line.app).sort()).toEqual(['app1', 'app1', 'app2']); // app1 heard of each registration
    const cached = JSON.parse(await readFile(join(dir, 'apps-app1.json'), 'utf8')) as Record<string, Record<string, string>>;
    // The hub's own entry (app id 0) beside the applications.
    expect(Object.keys(cached).sort()).toEqual(['0', String(app1.appId), String(app2.appId)].sort());
    expect(cached[String(app2.appId)]).toMatchObject({ appid: String(app2.appId), name: 'PHP wiki', url: `${phpUrl}/app2`, synlogin: '1' });
    expect(JSON.stringify(cached)).not.toContain('UC_API');
  });

  it("user/synlogin answers the other application's script tag; loaded as the browser would, its handler signs the user in", async () => {
    // As Discuz! asks: right after the member signed in there with their password.
    expect(await call({ call: 'login', username: 'alice', password: ALICE.password })).toMatchObject({ uid: aliceUid });
    const { html } = (await call({ call: 'synlogin', uid: aliceUid })) as { html: string };
    const srcs = [...html.matchAll(/<script type="text\/javascript" src="([^"]+)" reload="1"><\/script>/g)].map((m) => m[1]!);
    expect(srcs).toHaveLength(1);
    expect(srcs[0]!.startsWith(`${phpUrl}/app2/api/uc.php?time=`)).toBe(true);
    const loaded = await fetch(srcs[0]!, { headers: { 'user-agent': BROWSER } });
    expect(loaded.headers.get('set-cookie')).toContain(`uc_auth=${aliceUid}%09alice`);
    const note = (await notes()).filter((line) => line.note.action === 'synlogin').at(-1)!;
    expect(note).toEqual({ app: 'app2', note: { action: 'synlogin', uid: String(aliceUid), username: 'alice', time: note.note.time } });

    const out = (await call({ call: 'synlogout' })) as { html: string };
    const logoutSrc = /src="([^"]+\/app2\/api\/uc\.php[^"]+)"/.exec(out.html)![1]!;
    const loggedOut = await fetch(logoutSrc, { headers: { 'user-agent': BROWSER } });
    expect(loggedOut.headers.get('set-cookie')).toMatch(/^uc_auth=deleted|^uc_auth=;/);
  });

  it('updatepw (opted in: app1 only, username only) and deleteuser (every application) arrive through the delivery queue', async () => {
    await hub.services.users.setPassword((await hub.services.users.findByLogin('alice'))!.id, 'looking-glass-456');
    // Delivered before the deletion: an updatepw still pending when its user is deleted is not
    // sent (its username may be someone else's by then; hub/test/ucenter-notes.test.ts).
    await hub.deliveryWorker.runOnce();
    await hub.services.lifecycle.delete('alice');
    await hub.deliveryWorker.runOnce();
    const delivered = (await hub.services.deliveries.list('delivered')).filter((item) => item.kind !== 'ucenter-updateapps');
    expect(delivered.map((item) => `${item.kind} ${item.clientId}`).sort()).toEqual(
      [`ucenter-deleteuser ucenter:${app1.appId}`, `ucenter-deleteuser ucenter:${app2.appId}`, `ucenter-updatepw ucenter:${app1.appId}`].sort(),
    );
    const received = (await notes()).filter((line) => ['updatepw', 'deleteuser'].includes(line.note.action!));
    expect(received).toEqual(
      expect.arrayContaining([
        { app: 'app1', note: { action: 'updatepw', username: 'alice', time: expect.any(String) } },
        { app: 'app1', note: { action: 'deleteuser', ids: String(aliceUid), time: expect.any(String) } },
        { app: 'app2', note: { action: 'deleteuser', ids: String(aliceUid), time: expect.any(String) } },
      ]),
    );
    expect(received).toHaveLength(3);
  });
});

describe("a PHP forum that is the hub's only UCenter application", () => {
  let hub: RunningHub;
  let php: ChildProcess;
  let phpUrl: string;
  let dir: string;
  let forum: UcenterApp;

  const call = (params: Record<string, string | number>) => callPhp(phpUrl, params);

  beforeAll(async () => {
    hub = await startTestHub('redis', { DELIVERY_BACKOFF_BASE_MS: '1', DELIVERY_BACKOFF_MAX_MS: '2' });
    dir = await mkdtemp(join(tmpdir(), 'uc-php-one-'));
    const port = await freePort();
    phpUrl = `http://127.0.0.1:${port}`;
    forum = await hub.services.ucenter.apps.register({ name: 'PHP forum', type: 'DISCUZX', url: phpUrl });
    // An OIDC subsite beside it: signing out at the forum must sign the browser out there too.
    await hub.services.clients.register({ clientId: 'wiki', name: 'Wiki', redirectUris: ['http://wiki.sso.test/sso/callback'], syncLoginUrl: 'http://wiki.sso.test/sso/synclogin', syncLogoutUrl: 'http://wiki.sso.test/sso/synclogout' });
    php = await startPhpServer([`127.0.0.1:${port}`, '-t', APP_DIR], { UC_API: `${hub.url}/ucenter`, UC_KEY: forum.key, UC_APPID: String(forum.appId), APP2_KEY: '', NOTE_LOG: join(dir, 'notes.log') }, `${phpUrl}/client.php`);
  });

  afterAll(async () => {
    await stopPhpServer(php);
    await hub?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('its cached list names the hub too, so uc_client asks for synlogout, and the answer signs the browser out of the subsites', async () => {
    await hub.deliveryWorker.runOnce();
    const cached = JSON.parse(await readFile(join(dir, 'apps-app1.json'), 'utf8')) as Record<string, Record<string, string>>;
    // uc_client asks for sync scripts only while its list holds more than one entry.
    expect(Object.keys(cached).sort()).toEqual(['0', String(forum.appId)]);
    expect(cached['0']).toMatchObject({ appid: '0', type: 'OTHER', url: hub.url, apifilename: '' });
    const out = (await call({ call: 'synlogout' })) as { html: string };
    expect(out.html).toMatch(/<script type="text\/javascript" src="http:\/\/wiki\.sso\.test\/sso\/synclogout\?[^"]*code=/);
    // Nothing to sign in to at other applications: the synlogin answer is empty, not an error.
    const alice = await hub.services.users.create(ALICE);
    expect(await call({ call: 'login', username: 'alice', password: ALICE.password })).toMatchObject({ uid: alice.uid! });
    expect(await call({ call: 'synlogin', uid: alice.uid! })).toEqual({ html: '' });
  });

  it('a hub whose applications hold an older list sends it again once, across processes and restarts; a new hub address sends it again', async () => {
    await hub.deliveryWorker.runOnce();
    const updates = async () => (await hub.services.deliveries.list('pending')).filter((item) => item.kind === 'ucenter-updateapps').length;
    expect(await updates()).toBe(0);
    const notes = hub.services.ucenterNotes;
    // Two processes starting at once: one sends.
    expect((await Promise.all([notes.sendListIfChanged(), notes.sendListIfChanged()])).sort()).toEqual([0, 1]);
    expect(await updates()).toBe(1);
    expect(await notes.sendListIfChanged()).toBe(0);
    const moved = new UcenterNotes(hub.services.ucenterApps, hub.services.users, hub.services.deliveries, { url: 'https://sso.example.com', name: 'sso-hub' }, hub.services.store, hub.services.keys);
    expect(await moved.sendListIfChanged()).toBe(1);
    expect(await updates()).toBe(2);
  });
});
