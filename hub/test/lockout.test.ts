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
    await hub.services.users.create({ username: 'carol', email: 'carol@example.test', password: 'carol-password-1' });
    // Each spelling folds to the address under NFKC but finds no account: a full-width first
    // letter, a full-width ＠ (U+FF20), a small ﹫ (U+FE6B) (the second found by a review of the first fix).
    const spellings = [
      (address: string) => String.fromCodePoint(address.codePointAt(0)! - 0x61 + 0xff41) + address.slice(1),
      (address: string) => address.replace('@', '\uff20'),
      (address: string) => address.replace('@', '\ufe6b'),
    ];
    for (const [n, spell] of spellings.entries()) {
      const answers: Record<string, number> = {};
      for (const address of [`carol@example.test`, `nobody-here-${n}@example.test`]) {
        for (let i = 0; i < 3; i += 1) expect((await attempt(spell(address), 'wrong-password')).status).toBe(401);
        answers[address.replace(`-${n}@`, '@')] = (await attempt(address, 'wrong-password')).status;
      }
      expect(answers).toEqual({ 'carol@example.test': 401, 'nobody-here@example.test': 401 });
    }
  });
});
