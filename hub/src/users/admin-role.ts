import type { AuditLog } from '../audit/audit-log.js';
import { ConflictError, msg } from '../errors.js';
import type { Actor } from './account-lifecycle.js';
import type { UserRepository } from './user-repository.js';
import { ADMIN_ROLE, type User } from './user.js';

/**
 * Gives a user the admin role, or takes it away (console and `users grant-admin|revoke-admin`).
 * The role is read from the store at every console request, so a revocation closes the console
 * at the user's next click, in every hub process. The last enabled admin keeps the role: with
 * none left, only `admin bootstrap` from a shell could open the console again. Audited as
 * `admin.user.role` (`detail.admin` the new state); a call that changes nothing writes nothing
 * and is not audited.
 */
export async function setAdminRole(
  deps: { users: UserRepository; audit: AuditLog },
  idOrLogin: string,
  on: boolean,
  by: Actor,
): Promise<{ user: User; changed: boolean }> {
  const user = await deps.users.require(idOrLogin);
  if (!on && user.roles.includes(ADMIN_ROLE) && !user.disabled) {
    const others = (await deps.users.list()).filter((other) => other.id !== user.id && other.roles.includes(ADMIN_ROLE) && !other.disabled);
    if (others.length === 0) throw new ConflictError(msg('errors:lastAdmin', { user: user.username }));
  }
  const result = await deps.users.setRole(user.id, ADMIN_ROLE, on);
  if (result.changed) await deps.audit.record({ event: 'admin.user.role', ...by, subject: user.id, detail: { username: user.username, admin: on } });
  return result;
}
