import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../config.js';
import { createDomainServices } from '../domain-services.js';
import { createLogger } from '../logger.js';
import { MemoryStore } from '../store/memory.js';
import { BreachedPasswords } from './breached-passwords.js';
import { PasswordPolicy, PasswordRejectedError } from './password-policy.js';

const SAMPLE = fileURLToPath(new URL('../../data/breached-passwords.sample.txt', import.meta.url));

async function rejection(policy: PasswordPolicy, password: string, context = {}): Promise<string | undefined> {
  try {
    await policy.check(password, context);
    return undefined;
  } catch (error) {
    if (!(error instanceof PasswordRejectedError)) throw error;
    expect(error.status).toBe(400);
    expect(error.messageKey).toBe(`signup:password.${error.reason}`);
    return error.reason;
  }
}

describe('PasswordPolicy (ASVS 5 §6.2)', () => {
  const policy = new PasswordPolicy({ minLength: 8, minScore: 3 });

  test('judged in the form it is hashed in (NFKC): circled or full-width digits are the digits they stand for', async () => {
    expect(await rejection(policy, '①②③④⑤⑥⑦⑧')).toBe('too-weak');
    expect(await rejection(policy, 'ｐａｓｓｗｏｒｄ')).toBe('too-weak');
  });

  test('a minimum length in characters as people count them, and a maximum', async () => {
    expect(await rejection(policy, 'a1b2c3d')).toBe('too-short');
    // Eight Chinese characters are eight characters, whatever their UTF-16 or UTF-8 length.
    expect(await rejection(new PasswordPolicy({ minLength: 8, minScore: 0 }), '山高月小水落石出')).toBeUndefined();
    expect(await rejection(new PasswordPolicy({ minLength: 9, minScore: 0 }), '山高月小水落石出')).toBe('too-short');
    expect(await rejection(policy, 'x'.repeat(257))).toBe('too-long');
  });

  test('guessable passwords are refused, long unrelated words pass; no composition rules', async () => {
    for (const weak of ['password1', 'qwertyuiop', 'iloveyou2', 'abcdefgh', '11111111']) expect(await rejection(policy, weak)).toBe('too-weak');
    expect(await rejection(policy, 'orbit tulip cactus lantern')).toBeUndefined();
    expect(await rejection(policy, 'vq7#Lm2p!xz9')).toBeUndefined();
  });

  test('the person\'s own username, e-mail and name make a password guessable', async () => {
    const mine = 'zhangwei.lantern';
    expect(await rejection(policy, 'zhangwei.lantern', {})).toBeUndefined();
    expect(await rejection(policy, mine, { username: 'zhangwei.lantern' })).toBe('too-weak');
    expect(await rejection(policy, 'kowalczykbartosz', {})).toBeUndefined();
    expect(await rejection(policy, 'kowalczykbartosz', { name: 'Bartosz Kowalczyk', email: 'bk@example.com' })).toBe('too-weak');
  });

  test('the minimum score is configurable', async () => {
    expect(await rejection(new PasswordPolicy({ minLength: 8, minScore: 0 }), 'password1')).toBeUndefined();
  });
});

describe('BreachedPasswords', () => {
  test('passwords and SHA-1 lines (upper, lower, HASH:count) are found; comments and blanks are not entries', () => {
    const hash = (value: string) => createHash('sha1').update(value).digest('hex');
    const list = new BreachedPasswords(['# a comment', '', 'plain-password-1', hash('lower-case-hash').toLowerCase(), `${hash('counted').toUpperCase()}:1234`, 'plain-password-1\r']);
    expect(list.size).toBe(3);
    for (const breached of ['plain-password-1', 'lower-case-hash', 'counted']) expect(list.has(breached)).toBe(true);
    for (const other of ['# a comment', '', 'plain-password-2', 'Counted']) expect(list.has(other)).toBe(false);
  });

  test('the shipped sample file is refused even where zxcvbn alone would let it through', async () => {
    const breached = BreachedPasswords.fromFile(SAMPLE);
    expect(breached.has('correcthorsebatterystaple')).toBe(true);
    expect(breached.has('hunter2hunter2')).toBe(true);
    const withoutList = new PasswordPolicy({ minLength: 8, minScore: 3 });
    expect(await rejection(withoutList, 'correcthorsebatterystaple')).toBeUndefined();
    const withList = new PasswordPolicy({ minLength: 8, minScore: 3, breached });
    expect(await rejection(withList, 'correcthorsebatterystaple')).toBe('breached');
  });

  test('HUB_BREACHED_PASSWORDS_FILE that cannot be read stops start-up, naming the variable', async () => {
    const config = loadConfig({ HUB_BREACHED_PASSWORDS_FILE: '/nonexistent/breached.txt', LOG_LEVEL: 'silent' });
    expect(() => createDomainServices(config, new MemoryStore(), createLogger('silent'))).toThrow(ConfigError);
    expect(() => createDomainServices(config, new MemoryStore(), createLogger('silent'))).toThrow(/HUB_BREACHED_PASSWORDS_FILE: cannot read \/nonexistent\/breached.txt \(ENOENT\)/);
    const ok = createDomainServices(loadConfig({ HUB_BREACHED_PASSWORDS_FILE: SAMPLE }), new MemoryStore(), createLogger('silent'));
    await expect(ok.passwords.check('correcthorsebatterystaple')).rejects.toThrow(PasswordRejectedError);
  });
});
