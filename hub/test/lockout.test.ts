import { TestBrowser } from '../src/testing/browser.js';
import { signInAt } from '../src/testing/flows.js';
import { startTestHub, STORE_KINDS, type RunningHub } from '../src/testing/test-hub.js';

/** OWASP ASVS 6.3: one failure count per account, whatever name the guesser types. */
describe.each(STORE_KINDS)('sign-in lockout is per account, not per typed name (%s)', (kind) => {
  let hub: RunningHub;

  beforeAll(async () => {
    hub = await startTestHub(kind, { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_BACKOFF_BASE_SECONDS: '60' });
    await hub.services.users.create({ username: 'bob', email: 'bob@example.test', password: 'bob-password-1' });
  });
  afterAll(() => hub.close());

  const attempt = async (login: string, password: string) => {
    const browser = new TestBrowser();
    const start = await browser.follow(`${hub.url}/login`);
    return (await signInAt(browser, hub.url, start.url, login, password)).response;
  };

  test('failures as "bob" also lock "BOB" and "bob@example.test"', async () => {
    for (let i = 0; i < 3; i += 1) expect((await attempt('bob', 'wrong-password')).status).toBe(401);
    for (const login of ['BOB', 'bob@example.test']) {
      const answer = await attempt(login, 'bob-password-1');
      expect(answer.status).toBe(429);
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  test('failures as a full-width variant of an address tell nothing about whether the address has an account', async () => {
    // A review: ｃarol@… finds no account (the address index compares in lower case, not NFKC), but
    // its failures went to the pool of carol@… folded. That pool is carol@…'s own only when no account
    // has the address: six requests told an address with an account (401) from one without (429).
    // A full-width first letter folds to the address under NFKC but finds no account (the address
    // has its own '@': compared as typed); a full-width ＠ (U+FF20) or a small ﹫ (U+FE6B) (the second
    // found by a review of the first fix) is the address's '@' (an input method's): it finds the
    // account, and its failures count where the address's do, with or without an account.
    const spellings = [
      { spell: (address: string) => String.fromCodePoint(address.codePointAt(0)! - 0x61 + 0xff41) + address.slice(1), same: false },
      { spell: (address: string) => address.replace('@', '\uff20'), same: true },
      { spell: (address: string) => address.replace('@', '\ufe6b'), same: true },
    ];
    for (const [n, { spell, same }] of spellings.entries()) {
      const answers: Record<string, number> = {};
      for (const address of [`carol-${n}@example.test`, `nobody-here-${n}@example.test`]) {
        if (address.startsWith('carol')) await hub.services.users.create({ username: `carol-${n}`, email: address, password: 'carol-password-1' });
        for (let i = 0; i < 3; i += 1) expect((await attempt(spell(address), 'wrong-password')).status).toBe(401);
        answers[address.replace(`-${n}@`, '@')] = (await attempt(address, 'wrong-password')).status;
      }
      const status = same ? 429 : 401;
      expect(answers).toEqual({ 'carol@example.test': status, 'nobody-here@example.test': status });
    }
  });

  test('an address typed with a full-width ＠, or wholly full-width, signs in (an input method in full-width mode)', async () => {
    // A review: bob＠example.test with the right password was "the username or password is incorrect".
    await hub.services.users.create({ username: 'dave', email: 'dave@example.test', password: 'dave-password-1' });
    for (const login of ['dave\uff20example.test', 'ｄａｖｅ＠ｅｘａｍｐｌｅ．ｔｅｓｔ', 'DAVE\ufe6bexample.test']) {
      const browser = new TestBrowser();
      const start = await browser.follow(`${hub.url}/login`);
      const { response, body } = await signInAt(browser, hub.url, start.url, login, 'dave-password-1');
      expect(response.status).toBe(200);
      expect(body).toContain('data-testid="sync-title"');
    }
    // The password reset form finds the account by it too (the same lookup).
    expect((await hub.services.users.findByLogin('dave\uff20example.test'))?.username).toBe('dave');
    // An address with an '@' of its own is compared as typed: a full-width letter is another address.
    expect(await hub.services.users.findByLogin('ｄave@example.test')).toBeUndefined();
  });
});
