import type { User } from '../users/user.js';

/**
 * Whether an account must verify its e-mail address before it signs in: it signed up itself,
 * has not verified yet, and HUB_REQUIRE_VERIFIED_EMAIL is on. Accounts an admin made (console,
 * CLI, seed, import) are never held back: the admin vouched for them.
 */
export function awaitsVerification(user: Pick<User, 'signedUp' | 'emailVerified'>, required: boolean): boolean {
  return required && user.signedUp === true && user.emailVerified !== true;
}
