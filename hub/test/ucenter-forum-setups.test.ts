/**
 * Forums on Discuz! X3.4 and older (UCenter 1.6's uc_client) do not name the operation inside
 * the encrypted input (`m`, `a`, `appid`); UCenter 1.7 refuses their calls ("Access denied for
 * operation changed") unless its `insecureoperation` setting is on. The hub refused them with no
 * way to let them in, so such a forum could not join the hub unchanged. An application can now
 * be registered with `insecureOperation` (`--insecure-operation`, the console, a seed): its calls
 * without those fields are taken; a call that names them must still name itself, and every
 * other check (key, agent, time, once per input) still holds.
 *
 * And a forum whose `UC_API` was saved with a trailing slash posts to `…/ucenter//index.php`
 * and loads `…/ucenter//avatar.php`: UCenter behind Apache or nginx served them, the hub
 * answered 404, so every call failed. And a forum whose clock is off fails every call with
 * UCenter's "Authorization has expired", which only the forum saw: the hub now logs it (once a
 * minute per application) with the offset.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { captureLogger } from '../src/testing/capture-logger.js';
import { UcClient } from '../src/testing/ucenter-client.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const capture = captureLogger();
let hub: RunningHub;
let strict: UcClient;
let older: UcClient;

beforeAll(async () => {
  hub = await startTestHub('memory', {}, undefined, capture.logger);
  const apps = hub.services.ucenter.apps;
  const strictApp = await apps.register({ name: 'Forum 1.7', type: 'DISCUZX', url: 'http://forum17.test' });
  const olderApp = await apps.register({ name: 'Forum X3.4', type: 'DISCUZX', url: 'http://forum34.test', insecureOperation: true, allowRegister: true });
  strict = new UcClient({ api: `${hub.url}/ucenter`, key: strictApp.key, appId: strictApp.appId });
  older = new UcClient({ api: `${hub.url}/ucenter`, key: olderApp.key, appId: olderApp.appId });
  await hub.services.users.create({ username: 'oldtimer', email: 'oldtimer@example.test', password: 'oldtimer-pw-1' });
});
afterAll(() => hub.close());

const login = { username: 'oldtimer', password: 'oldtimer-pw-1', isuid: 0 };

it('an application not set up for it refuses an older client\'s call, as UCenter 1.7 does, and the hub\'s operator is told what to change (once a minute)', async () => {
  expect(await strict.call('user', 'login', login, { unbound: true })).toBe('Access denied for operation changed');
  expect(await strict.call('user', 'logincheck', { username: 'oldtimer', ip: '' }, { unbound: true })).toBe('Access denied for operation changed');
  // The forum itself shows only "wrong password" for it: the log names the setting.
  expect(capture.lines.filter((line) => line.message.includes('--insecure-operation'))).toEqual([
    expect.objectContaining({ level: 'warn', fields: { appId: strict.options.appId, operation: 'user/login' } }),
  ]);
  // A call that names another operation is no older client: not put down to one.
  expect(await strict.call('user', 'login', login, { inputModule: 'pm' })).toBe('Access denied for operation changed');
  expect(capture.lines.filter((line) => line.message.includes('--insecure-operation'))).toHaveLength(1);
});

it('an application set up for it takes the older client\'s call', async () => {
  const answer = await older.call('user', 'login', login, { unbound: true });
  expect(answer).toContain('oldtimer');
  expect(answer).not.toContain('Access denied');
});

it('an unbound input is not taken for an operation that acts for a member: another call\'s uid=N sent as synlogin gets no scripts (a review: sign-in as N at every other application)', async () => {
  const uid = (await hub.services.users.findByLogin('oldtimer'))!.uid!;
  const passwordHashBefore = (await hub.services.users.findByLogin('oldtimer'))!.passwordHash;
  const checkNewPm = older.requestBody('pm', 'check_newpm', { uid, more: 0 }, { unbound: true });
  const swapped = checkNewPm.replace('m=pm&a=check_newpm', 'm=user&a=synlogin');
  expect(swapped).not.toBe(checkNewPm);
  const answer = await fetch(`${hub.url}/ucenter/index.php`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': older.userAgent }, body: swapped });
  expect(await answer.text()).toBe('');
  // Nor from the older client itself: its synlogin, register and edit are refused; its reads go on.
  expect(await older.call('user', 'synlogin', { uid }, { unbound: true })).toBe('');
  // Answered in the codes Discuz! stops on: -1 for edit (its password page said "changed" to a
  // text), 0 for register (on PHP 8 a text counted as a new uid and became a local member).
  expect(await older.call('user', 'edit', { username: 'oldtimer', oldpw: 'oldtimer-pw-1', newpw: 'another-pw-12', email: '', ignoreoldpw: 0 }, { unbound: true })).toBe('-1');
  expect(await older.call('user', 'register', { username: 'newcomer', password: 'newcomer-pw-12', email: 'newcomer@example.test' }, { unbound: true })).toBe('0');
  expect(await hub.services.users.findByLogin('newcomer')).toBeUndefined();
  expect((await hub.services.users.findByLogin('oldtimer'))!.passwordHash).toBe(passwordHashBefore);
  expect(await older.call('user', 'check_username', { username: 'someone-new' }, { unbound: true })).toBe('1');
  expect(capture.lines.filter((line) => line.message.includes('does not name its operation'))).toEqual([
    expect.objectContaining({ fields: { appId: older.options.appId, operation: 'user/synlogin' } }),
    expect.objectContaining({ fields: { appId: older.options.appId, operation: 'user/edit' } }),
    expect.objectContaining({ fields: { appId: older.options.appId, operation: 'user/register' } }),
  ]);
});

it('a call that names another operation is still refused there', async () => {
  expect(await older.call('user', 'login', login, { inputModule: 'pm' })).toBe('Access denied for operation changed');
});

it('the rest of the checks hold: a wrong key, and the same input sent twice', async () => {
  expect(await older.call('user', 'login', login, { unbound: true, key: 'x'.repeat(64) })).toBe('Invalid input');
  const body = older.requestBody('user', 'login', login, { unbound: true });
  const send = () => fetch(`${hub.url}/ucenter/index.php`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': older.userAgent }, body }).then((response) => response.text());
  expect(await send()).toContain('oldtimer');
  expect(await send()).toBe('Authorization has expired');
});

it('the setting is kept on the application and listed', async () => {
  const listed = await hub.services.ucenter.apps.list();
  expect(listed.map((app) => [app.name, app.insecureOperation === true])).toEqual([['Forum 1.7', false], ['Forum X3.4', true]]);
});

it('UC_API set with a trailing slash (`…/ucenter/`): the calls to `…/ucenter//index.php` and the avatars are answered', async () => {
  const slashed = new UcClient({ ...strict.options, api: `${hub.url}/ucenter/` });
  expect((await slashed.userLogin('oldtimer', 'oldtimer-pw-1'))[1]).toBe('oldtimer');
  const avatar = await fetch(`${hub.url}/ucenter//avatar.php?uid=1&size=middle`);
  expect(avatar.status).toBe(200);
  expect(avatar.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
});

it('calls refused for the application\'s clock are logged for the hub\'s operator, once a minute per application', async () => {
  const ahead = Math.floor(Date.now() / 1000) + 3_600;
  expect(await strict.call('user', 'login', login, { time: ahead })).toBe('Authorization has expired');
  expect(await strict.call('user', 'login', login, { time: ahead + 1 })).toBe('Authorization has expired');
  const lines = capture.lines.filter((line) => line.message.includes('check the application server\'s clock'));
  expect(lines).toEqual([expect.objectContaining({ level: 'warn', fields: { appId: strict.options.appId, offsetSeconds: expect.any(Number) } })]);
  expect(Math.abs((lines[0]!.fields.offsetSeconds as number) - 3_600)).toBeLessThanOrEqual(2);
});
