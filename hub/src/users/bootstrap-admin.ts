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
  const admins = (await users.list()).filter(isEnabledAdmin);
  if (admins.length > 0) {
    throw new ConflictError(`An admin already exists (${admins.map((user) => user.username).join(', ')}); add more with users add --role admin.`);
  }
  const username = options.username ?? 'admin';
  const password = randomBytes(18).toString('base64url'); // 144 bits, 24 characters
  const user = await users.create({ username, email: options.email ?? `${username}@localhost.invalid`, name: 'Administrator', password, roles: [ADMIN_ROLE] });
  return { user, password };
}
