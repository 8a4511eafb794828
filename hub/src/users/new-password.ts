import { UserRepository } from './user-repository.js';
import type { User } from './user.js';

/**
 * The one check every new password chosen by its owner goes through (change on the account
 * page, reset by e-mail): the length policy, then the strength check. Throws ValidationError
 * with a message for the person.
 */
export function checkNewPassword(password: string, _user: Pick<User, 'username' | 'email' | 'name'>): void {
  UserRepository.checkPassword(password);
}
