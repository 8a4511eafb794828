import type { AuditLog } from '../audit/audit-log.js';
import type { OwnerNotices } from './owner-notices.js';
import { AccountInputError } from './account-errors.js';
import type { LoginThrottle } from '../security/login-throttle.js';
import type { AccountLifecycle } from './account-lifecycle.js';
import type { PasswordPolicy } from './password-policy.js';
import type { PasswordHasher } from './passwords.js';
import { displayNameProblem, MAX_NAME_LENGTH, type User } from './user.js';
import type { UserRepository } from './user-repository.js';

export interface AccountSettingsDeps {
  users: UserRepository;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  /** The policy for passwords people choose (length, strength, breached list). */
  passwords: PasswordPolicy;
  lifecycle: AccountLifecycle;
  audit: AuditLog;
  /** Tells the owner of a password change (ASVS 5 §6.3.7), as a reset does. */
  notices: OwnerNotices;
}


/** A wrong current password, told apart from other input errors so the page can point at the field. */
export class WrongPasswordError extends AccountInputError {
  override readonly name = 'WrongPasswordError';
  constructor() {
    super('account:errors.wrongPassword', 'Your current password is not right.');
  }
}

/**
 * What a signed-in user changes about their own account (the account page): display name
 * and password. Sign-in state and cookies are the portal's; this is the rule behind them.
 */
export class AccountSettings {
  constructor(private readonly deps: AccountSettingsDeps) {}

  async changeName(user: User, name: string, ip: string): Promise<User> {
    const trimmed = name.trim();
    if (!trimmed) throw new AccountInputError('account:errors.nameEmpty', 'Please enter a display name.');
    const problem = displayNameProblem(trimmed);
    if (problem === 'tooLong') throw new AccountInputError('account:errors.nameTooLong', `A display name may have at most ${MAX_NAME_LENGTH} characters.`, { max: MAX_NAME_LENGTH });
    if (problem === 'forbidden') throw new AccountInputError('account:errors.nameControl', 'A display name cannot contain control or invisible formatting characters.');
    const updated = await this.deps.users.update(user.id, { name: trimmed });
    await this.deps.audit.record({ event: 'account.name.changed', actor: user.id, subject: user.id, ip });
    return updated;
  }

  /**
   * Proves the current password, throttled like a sign-in (a stolen session must not become a
   * password-guessing oracle). Judged per account and address: others' failures never block
   * the owner's account page, and the account page never locks the owner out of the sign-in form.
   */
  async verifyCurrentPassword(user: User, password: string, ip: string): Promise<void> {
    const attempt = { ip, account: user.id, via: 'session' as const };
    const admitted = await this.deps.throttle.attempt(attempt);
    // Busy (BusyError) or the store failed: given back, and the error page says so.
    if (!(await this.deps.throttle.checking(admitted, () => this.deps.hasher.verify(user.passwordHash, password)))) {
      await this.deps.throttle.failed(admitted);
      await this.deps.audit.record({ event: 'account.password.wrong', actor: user.id, subject: user.id, ip });
      throw new WrongPasswordError();
    }
    await this.deps.throttle.succeeded(admitted);
  }

  /**
   * Changes the password after proving the current one; every other hub session of the user
   * ends, with its grants and tokens and a back-channel logout at subsites. `keepSessionUid`
   * is the session the change was made in: it stays (the portal rotates its id). The owner
   * gets a "your password was changed" mail in `locale`.
   */
  async changePassword(user: User, current: string, next: string, confirm: string, keepSessionUid: string, ip: string, locale: string): Promise<{ sessions: number; grants: number }> {
    await this.verifyCurrentPassword(user, current, ip);
    if (next !== confirm) throw new AccountInputError('account:errors.passwordsDiffer', 'The two new passwords differ.');
    if (next === current) throw new AccountInputError('account:errors.samePassword', 'The new password must differ from the current one.');
    await this.deps.passwords.check(next, { username: user.username, email: user.email, name: user.name });
    await this.deps.users.setPassword(user.id, next);
    const ended = await this.deps.lifecycle.endOtherSessions(user.id, keepSessionUid);
    await this.deps.audit.record({ event: 'account.password.changed', actor: user.id, subject: user.id, ip, detail: ended });
    // The owner hears of it, as after a reset (a phished password and a stolen session lock them out).
    this.deps.notices.passwordChanged(user, locale, { kept: true });
    return ended;
  }
}
