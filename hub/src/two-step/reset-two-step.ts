import type { AuditLog } from '../audit/audit-log.js';
import type { Actor } from '../users/account-lifecycle.js';
import type { UserRepository } from '../users/user-repository.js';
import type { User } from '../users/user.js';
import type { TwoStepRepository } from './two-step-repository.js';

/**
 * An administrator turns a user's two-step sign-in off (a lost phone and no recovery code
 * left): the secret, the recovery codes and any pending enrolment go; the next sign-in asks
 * the password only, and the user can enrol again. Audited as `admin.user.two-step-reset`.
 * Storage only, so the CLI can do it without the hub's encryption keys.
 */
export async function resetTwoStep(deps: { users: UserRepository; twoStepRecords: TwoStepRepository; audit: AuditLog }, idOrLogin: string, by: Actor): Promise<{ user: User; wasOn: boolean }> {
  const user = await deps.users.require(idOrLogin);
  const wasOn = await deps.twoStepRecords.remove(user.id);
  await deps.audit.record({ event: 'admin.user.two-step-reset', ...by, subject: user.id, detail: { was_on: wasOn } });
  return { user, wasOn };
}
