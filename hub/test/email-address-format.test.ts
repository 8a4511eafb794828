/**
 * One rule for an e-mail address everywhere an account gets one (console, CLI, seed, UCenter's
 * user/register and check_email): at most 254 characters, and a domain that neither ends with a
 * dot nor has a full stop IDNA reads as one. An attacker's review: a UCenter application
 * registered `bob@example.test.` (the root's dot: bob's mailbox) and `bob@mail。example.test` (a mail library sends it to
 * bob@mail.example.test) beside the accounts that hold those addresses, and a 20,000-character
 * address, which the sign-up and the e-mail change refuse.
 */
import { UcClient } from '../src/testing/ucenter-client.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { EMAIL } from '../src/users/user-repository.js';

const PASSWORD = 'Str0ng-unique-passphrase-9x';

describe('e-mail address format', () => {
  let hub: RunningHub;
  let forum: UcClient;

  beforeAll(async () => {
    hub = await startTestHub('memory');
    await hub.services.users.create({ username: 'bob', email: 'bob@example.test', password: PASSWORD });
    await hub.services.users.create({ username: 'carol', email: 'carol@mail.example.test', password: PASSWORD });
    const app = await hub.services.ucenter.apps.register({ name: 'Forum', url: 'http://forum.example.test', allowRegister: true });
    forum = new UcClient({ api: `${hub.url}/ucenter`, key: app.key, appId: app.appId });
  });
  afterAll(() => hub.close());

  test.each([
    ['bob@example.test.', 'a trailing dot (the same domain)'],
    ['carol@mail\u3002example.test', 'an ideographic full stop (IDNA reads it as a dot)'],
    ['carol@mail\uFF0Eexample.test', 'a full-width full stop'],
    [`${'a'.repeat(250)}@x.yz`, 'more than 254 characters'],
  ])('%j is not an address: %s', async (address) => {
    expect(EMAIL.test(address)).toBe(false);
    await expect(hub.services.users.create({ username: 'squatter', email: address, password: PASSWORD })).rejects.toThrow(/e-mail address/i);
    expect(await forum.call('user', 'register', { username: 'squatter', password: PASSWORD, email: address })).toBe('-4');
    expect(await forum.call('user', 'check_email', { email: address })).toBe('-4');
    expect(await hub.services.users.findByUsername('squatter')).toBeUndefined();
  });

  test.each([['bob2@example.test'], ["o'neil@example.test"], ['张三@例子.中国'], [`${'a'.repeat(249)}@x.yz`], ['typo@mail..example.test']])('%j is an address', (address) => {
    expect(EMAIL.test(address)).toBe(true);
  });
});
