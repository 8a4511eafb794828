import { digest } from '../store/keys.js';
import type { User } from './user.js';

/**
 * A short fingerprint of the user's current password hash, put in e-mailed links: once the
 * password changes (by any path), every link issued before no longer matches and is refused,
 * so a reset link in an old mail cannot undo a newer change.
 */
export function passwordStamp(user: Pick<User, 'passwordHash'>): string {
  return digest(`password-stamp:${user.passwordHash}`).slice(0, 22);
}
