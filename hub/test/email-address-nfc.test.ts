/**
 * An e-mail address is compared in its NFC form (store/keys.ts `foldAddress`): `josé@exämple.test`
 * typed with decomposed letters (e + U+0301, a + U+0308: some input methods, pasted text) is the
 * same mailbox as its composed spelling. Before, each spelling was another key of the address
 * index: a second account for a mailbox another account holds, a sign-in by the other spelling
 * that found no account, and a sign-up mail budget per spelling.
 */
import { Keys } from '../src/store/keys.js';
import { STORE_KINDS, startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { loginForm } from '../src/users/login-form.js';

const PASSWORD = 'Str0ng-unique-passphrase-9x';
const COMPOSED = 'jos\u00E9@ex\u00E4mple.test';
const DECOMPOSED = 'jose\u0301@exa\u0308mple.test';

describe.each(STORE_KINDS)('an address in NFC and in NFD is one address (%s)', (kind) => {
  let hub: RunningHub;
  beforeAll(async () => {
    hub = await startTestHub(kind);
  });
  afterAll(() => hub.close());

  test('the two spellings differ as strings and look the same', () => {
    expect(COMPOSED).not.toBe(DECOMPOSED);
    expect(DECOMPOSED.normalize('NFC')).toBe(COMPOSED);
  });

  test('a second account for the other spelling is refused, and either spelling finds the account (sign-in, forgotten password)', async () => {
    const created = await hub.services.users.create({ username: 'jose', email: COMPOSED, password: PASSWORD });
    await expect(hub.services.users.create({ username: 'jose2', email: DECOMPOSED, password: PASSWORD })).rejects.toThrow(/already|taken|in use/i);
    expect(await hub.services.users.findByUsername('jose2')).toBeUndefined();
    expect((await hub.services.users.findByLogin(DECOMPOSED))?.id).toBe(created.id);
    expect((await hub.services.users.findByEmail(DECOMPOSED))?.id).toBe(created.id);
    expect((await hub.services.users.findByLogin(COMPOSED.toUpperCase()))?.id).toBe(created.id);
    // The sign-in throttle keys both spellings alike (two logins that find one account share its pools).
    expect(loginForm(DECOMPOSED)).toBe(loginForm(COMPOSED));
    await hub.services.users.delete(created.id);
  });

  test('an address index key written by a hub before (lower case only, NFD) is still found by that spelling and let go when the account is removed', async () => {
    const keys = new Keys(hub.config.KEY_PREFIX);
    const created = await hub.services.users.create({ username: 'old-jose', email: DECOMPOSED, password: PASSWORD });
    // As a hub before NFC comparison stored it.
    const before = keys.userByEmailLowerCased(DECOMPOSED);
    expect(before).not.toBe(keys.userByEmail(DECOMPOSED));
    await hub.store.del(keys.userByEmail(DECOMPOSED));
    await hub.store.set(before, created.id);
    expect((await hub.services.users.findByLogin(DECOMPOSED))?.id).toBe(created.id);
    expect((await hub.services.users.findByEmail(DECOMPOSED))?.id).toBe(created.id);
    await hub.services.users.delete(created.id);
    expect(await hub.store.get(before)).toBeNull();
    expect(await hub.store.get(keys.userByEmail(DECOMPOSED))).toBeNull();
  });
});
