import { randomBytes } from 'node:crypto';
import { ConflictError } from '../errors.js';
import type { PublicUser } from './user.js';
import type { UserRepository } from './user-repository.js';

import { ADMIN_ROLE, isEnabledAdmin } from './user.js';

export interface BootstrapOptions {
  username?: string;
  email?: string;
}

/**
 * The first admin of a new deployment, made on purpose (`npm run hub -- admin bootstrap`):
 * only while no admin exists, with a random password shown once to the operator who ran
 * it. No fixed or default password exists anywhere.
 */
export async function bootstrapAdmin(users: UserRepository, options: BootstrapOptions = {}): Promise<{ user: PublicUser; password: string }> {
  // The admins' set first (someAdmin): on a forum's store, a check that read every user took seconds.
  let existing: PublicUser | undefined;
  await users.someAdmin((user) => (isEnabledAdmin(user) ? ((existing = user), true) : false));
  if (existing) throw new ConflictError(`An admin already exists (${existing.username}); add more with users add --role admin.`);
  const username = options.username ?? 'admin';
  const password = randomBytes(18).toString('base64url'); // 144 bits, 24 characters
  const user = await users.create({ username, email: options.email ?? `${username}@localhost.invalid`, name: 'Administrator', password, roles: [ADMIN_ROLE] });
  return { user, password };
}
