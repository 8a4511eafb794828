import type { AuditLog } from '../audit/audit-log.js';
import { ConflictError, msg } from '../errors.js';
import type { Actor } from './account-lifecycle.js';
import type { UserRepository } from './user-repository.js';
import { ADMIN_ROLE, isEnabledAdmin, type User } from './user.js';

/**
 * Gives a user the admin role, or takes it away (console and `users grant-admin|revoke-admin`).
 * The role is read from the store at every console request, so a revocation closes the console
 * at the user's next click, in every hub process. The last enabled admin keeps the role: with
 * none left, only `admin bootstrap` from a shell could open the console again; two admins taking
 * each other's role at the same moment cannot both succeed. Audited as
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
  const lastAdmin = () => new ConflictError(msg('errors:lastAdmin', { user: user.username }));
  if (!on && isEnabledAdmin(user)) {
    if (!(await enabledAdminBesides(deps.users, user.id))) throw lastAdmin();
  }
  const result = await deps.users.setRole(user.id, ADMIN_ROLE, on);
  // The check above and the write are two steps: two admins taking each other's role at the same
  // moment both passed it and left no admin (an outside review, in the console). So a revocation
  // is checked again once written: with no enabled admin left, the role goes back and the call is
  // refused as above. Of revocations racing, the last to check sees every one of them written and
  // gives its role back, so at least one enabled admin remains; those refused are not audited.
  if (!on && result.changed && !result.user.disabled && !(await enabledAdminBesides(deps.users, undefined))) {
    await deps.users.setRole(user.id, ADMIN_ROLE, true);
    throw lastAdmin();
  }
  if (result.changed) await deps.audit.record({ event: 'admin.user.role', ...by, subject: user.id, detail: { username: user.username, admin: on } });
  return result;
}

/** Whether an enabled user other than `except` holds the admin role, as the store has it now. */
export async function enabledAdminBesides(users: UserRepository, except: string | undefined): Promise<boolean> {
  return users.someAdmin((other) => other.id !== except && isEnabledAdmin(other));
}
