/**
 * The 8-character floor of a password an admin, the CLI or a seed sets (UserRepository.checkPassword)
 * counts as the portal's policy counts: characters of the NFKC form the password is hashed in.
 */
import { ValidationError } from '../errors.js';
import { UserRepository } from './user-repository.js';

describe('UserRepository.checkPassword: the admin-set floor', () => {
  test('eight combining sequences are four characters once normalised: refused', () => {
    const typed = 'e\u0301'.repeat(4); // 8 UTF-16 units as typed, "éééé" as hashed
    expect(typed.length).toBe(8);
    expect(() => UserRepository.checkPassword(typed)).toThrow(ValidationError);
  });

  test('characters, not UTF-16 units: eight emoji are eight characters; seven are refused', () => {
    expect(() => UserRepository.checkPassword('🔑'.repeat(8))).not.toThrow();
    expect(() => UserRepository.checkPassword('🔑'.repeat(7))).toThrow(ValidationError); // 14 units
  });

  test('eight full-width letters are eight characters as hashed (NFKC: ASCII)', () => {
    expect(() => UserRepository.checkPassword('ｐａｓｓｗｏｒｄ')).not.toThrow();
    expect(() => UserRepository.checkPassword('ｐａｓｓｗｏｒ')).toThrow(ValidationError);
  });
});
