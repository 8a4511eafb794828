/**
 * A forum whose UC_KEY (or UC_APPID) is not the one registered at the hub fails every call: the
 * hub answers "Invalid input", as UCenter does, which Discuz! X3.5's own uc_client turns into no
 * answer at all (uc_unserialize of that text is ''), so its members read "wrong password" at
 * every sign-in and nothing else. Before, the hub logged nothing either, and its operator had no
 * way to tell a wrong key from wrong passwords (a review with X3.5's uc_client run with php-cli
 * against the hub). It now logs a warning naming the application and the setting to check, at
 * most once a minute per application (anyone may send such calls: the line says so).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { captureLogger } from '../src/testing/capture-logger.js';
import { UcClient } from '../src/testing/ucenter-client.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';

const capture = captureLogger();
let hub: RunningHub;
let forum: UcClient;
let wrongKey: UcClient;
let wrongAppId: UcClient;

beforeAll(async () => {
  hub = await startTestHub('memory', {}, undefined, capture.logger);
  const app = await hub.services.ucenter.apps.register({ name: 'Forum', type: 'DISCUZX', url: 'http://forum.sso.test' });
  const api = `${hub.url}/ucenter`;
  forum = new UcClient({ api, key: app.key, appId: app.appId });
  wrongKey = new UcClient({ api, key: 'the key of another hub or a typo', appId: app.appId });
  wrongAppId = new UcClient({ api, key: app.key, appId: app.appId + 40 });
  await hub.services.users.create({ username: 'alice', email: 'alice@example.com', password: 'wonderland-123' });
});
afterAll(() => hub.close());

const warnings = (text: string) => capture.lines.filter((line) => line.level === 'warn' && line.message.includes(text));

it('a call that does not decode with the application\'s key is answered "Invalid input" and logged, once a minute, naming UC_KEY', async () => {
  expect(await wrongKey.call('user', 'login', { username: 'alice', password: 'wonderland-123', isuid: 0 })).toBe('Invalid input');
  expect(await wrongKey.call('user', 'check_username', { username: 'bob' })).toBe('Invalid input');
  expect(warnings('does not decode with its key')).toEqual([
    expect.objectContaining({ level: 'warn', fields: { appId: forum.options.appId } }),
  ]);
  expect(warnings('does not decode with its key')[0]!.message).toContain('UC_KEY');
  // Nothing secret in the line: neither key nor the call's input.
  expect(JSON.stringify(capture.lines)).not.toContain(forum.options.key);
  // The right key still works.
  expect((await forum.userLogin('alice', 'wonderland-123'))[1]).toBe('alice');
});

it('a call naming an application that is not registered is logged, once a minute, naming UC_APPID', async () => {
  expect(await wrongAppId.call('user', 'check_username', { username: 'bob' })).toBe('Invalid input');
  expect(await wrongAppId.call('user', 'check_username', { username: 'carol' })).toBe('Invalid input');
  const lines = warnings('which is not registered here');
  expect(lines).toEqual([expect.objectContaining({ level: 'warn', fields: { appId: wrongAppId.options.appId } })]);
  expect(lines[0]!.message).toContain('UC_APPID');
});
