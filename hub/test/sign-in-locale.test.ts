/**
 * The language recorded at a portal sign-in (second-step.ts, UserRepository.rememberLocale) is
 * bookkeeping for later mails: the sign-in does not depend on it.
 */
import { ConflictError, msg } from '../src/errors.js';
import { signInAtPortal } from '../src/testing/flows.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { isSignedIn } from './support.js';

const PASSWORD = 'correct horse battery staple 9';

describe('Portal sign-in: the language recorded for later mails', () => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub('memory');
  });
  afterAll(() => hub.close());

  test('a sign-in whose language write fails (a record too busy: ConflictError) still signs in; the next one writes it', async () => {
    const user = await hub.services.users.create({ username: `loc-${Date.now()}`, email: `loc-${Date.now()}@example.test`, password: PASSWORD });
    expect(user.locale).toBeUndefined();
    const { users } = hub.services;
    const original = users.rememberLocale.bind(users);
    let calls = 0;
    users.rememberLocale = async () => {
      calls += 1;
      throw new ConflictError(msg('errors:busyRecord'));
    };
    try {
      const browser = await signInAtPortal(hub, user.username, PASSWORD);
      expect(calls).toBe(1);
      expect(await isSignedIn(browser, hub.url)).toBe(true);
    } finally {
      users.rememberLocale = original;
    }
    await signInAtPortal(hub, user.username, PASSWORD);
    expect((await users.findById(user.id))?.locale).toBe('en');
  });
});
