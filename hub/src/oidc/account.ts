import type { Account, FindAccount } from 'oidc-provider';
import type { UserRepository } from '../users/user-repository.js';
import type { ReadAhead } from './read-ahead.js';

/** Claims per scope; userinfo answers at least sub, email, name, preferred_username. */
export const CLAIMS = {
  // `amr` (RFC 8176: ["pwd"], or ["pwd","otp","mfa"] after two-step) rides with `openid`, so every
  // ID token says how its sign-in was made; a standalone claim would appear only when asked for by name.
  openid: ['sub', 'amr'],
  email: ['email', 'email_verified'],
  profile: ['name', 'preferred_username', 'updated_at'],
};

/**
 * Resolves token subjects to users; a disabled or deleted user has no account. With
 * `readAhead`, a user record the request's token read ahead is taken instead of read again.
 */
export function createFindAccount(users: UserRepository, readAhead?: ReadAhead): FindAccount {
  return async (ctx, sub): Promise<Account | undefined> => {
    const user = await users.findById(sub, readAhead && ((key) => readAhead.take(ctx, key)));
    if (!user || user.disabled) return undefined;
    return {
      accountId: user.id,
      claims: async () => ({
        sub: user.id,
        email: user.email,
        email_verified: user.emailVerified === true,
        name: user.name,
        preferred_username: user.username,
        updated_at: user.updatedAt ?? user.createdAt,
      }),
    };
  };
}
