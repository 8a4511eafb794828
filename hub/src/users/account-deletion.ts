import type { AuditLog } from '../audit/audit-log.js';
import { ConflictError, msg } from '../errors.js';
import type { SignInAttempt } from '../security/login-throttle.js';
import type { HeldFactor } from '../two-step/two-step-service.js';
import { AccountInputError } from './account-errors.js';
import type { AccountRemoval } from './account-removal.js';
import type { AccountSettings } from './account-settings.js';
import { enabledAdminBesides } from './admin-role.js';
import { isEnabledAdmin, type PublicUser, type User } from './user.js';
import type { UserRepository } from './user-repository.js';

export interface AccountDeletionDeps {
  users: UserRepository;
  /** Proves the current password under the sign-in throttle (per account and address). */
  settings: Pick<AccountSettings, 'verifyCurrentPassword'>;
  /** The second step, when the account has it on (its own throttle). */
  twoStep: { isEnabled(userId: string): Promise<boolean>; checkThrottled(attempt: SignInAttempt, input: string): Promise<HeldFactor | undefined> };
  /** The admin console's path (recorded first, finished later if cut off): the forced logout at every subsite, then the record goes, then the mail. */
  removal: Pick<AccountRemoval, 'beginDeletion' | 'commitDeletion' | 'abandonDeletion' | 'finishDeletion'>;
  /** A wrong second step is recorded (a wrong password is, by `verifyCurrentPassword`). */
  audit: Pick<AuditLog, 'record'>;
}

/** What the owner gave to delete their account. */
export interface DeletionProof {
  password: string;
  /** A current TOTP or recovery code; asked for only when two-step sign-in is on. */
  code: string;
  /** The "I understand" box was ticked. */
  confirmed: boolean;
}

/** The deletion was not confirmed on the form: nothing was checked or spent. */
export class DeletionNotConfirmedError extends AccountInputError {
  override readonly name = 'DeletionNotConfirmedError';
  constructor() {
    super('account:errors.deleteNotConfirmed', 'Please tick the box to confirm that the account is to be deleted.');
  }
}

/** A wrong or missing two-step code: the page points at the code field. */
export class WrongCodeError extends AccountInputError {
  override readonly name = 'WrongCodeError';
  constructor() {
    super('account:errors.wrongCode', 'That code is not right. Enter a current code from your app, or a recovery code.');
  }
}

/**
 * The owner deletes their own account from the account page (GDPR art. 17 self-service; ASVS 5
 * V6/V7 re-authentication for a sensitive action). A session alone (borrowed, stolen, left open)
 * is not enough: the current password, and the second step when the account has it, are proven
 * again, each under its throttle judged per account and address (a stolen session is no
 * guessing oracle, and guessers elsewhere never lock the owner out of this form). Then the
 * same path as the console's delete: the forced logout (sessions, grants, tokens, a signed
 * userdelete or back-channel notice to every subsite through the delivery queue), the record
 * goes, audited as `account.deleted`; the address is told (a deletion from a stolen session
 * does not go unseen).
 */
export class AccountDeletion {
  constructor(private readonly deps: AccountDeletionDeps) {}

  async deleteOwn(user: User, proof: DeletionProof, ip: string, locale: string): Promise<PublicUser> {
    // First, so an unticked box spends no password attempt.
    if (!proof.confirmed) throw new DeletionNotConfirmedError();
    await this.deps.settings.verifyCurrentPassword(user, proof.password, ip);
    // The code is judged now (a wrong one counts against its throttle) but used up only once
    // nothing can refuse the deletion any more: a refused deletion (the last admin) leaves the
    // owner's recovery code, or the TOTP code's time step, usable.
    let code: HeldFactor | undefined;
    if (await this.deps.twoStep.isEnabled(user.id)) {
      const attempt = { ip, account: user.id, via: 'session' as const };
      if (!proof.code) throw new WrongCodeError();
      code = await this.deps.twoStep.checkThrottled(attempt, proof.code);
      if (!code) {
        // As the two-step settings record theirs: a deletion tried from a stolen session with a
        // phished password, stopped at the code, must show in the log as the wrong password does.
        await this.deps.audit.record({ event: 'login.failure', actor: user.id, subject: user.id, ip, detail: { step: 'account-delete' } });
        throw new WrongCodeError();
      }
    }
    const { removal } = this.deps;
    // Recorded first (nothing of the account touched yet): should this request stop before the
    // deletion is decided, the hub rolls it back; once decided, the hub finishes it.
    const begun = await removal.beginDeletion(user, { actor: user.id, ip }, 'account.deleted', { phase: 'checking', noticeLocale: locale });
    try {
      await this.#keepAnAdmin(user, begun.pending.hold!);
      // Used elsewhere meanwhile (the same code at a sign-in): single-use, so not this deletion's.
      if (code && !(await code.spend())) throw new WrongCodeError();
      await removal.commitDeletion(begun);
    } catch (error) {
      await removal.abandonDeletion(begun).catch(() => undefined);
      throw error;
    }
    // The forced logout, the record and the enrolment go, the audit entry, then the mail to the address.
    return removal.finishDeletion(begun);
  }

  /**
   * The last enabled admin cannot delete themselves (the console's last-admin rule,
   * admin-role.ts): with none left, only `admin bootstrap` from a shell opens the console again.
   * Checked again once the account is disabled, as a revocation is: two last admins deleting
   * themselves at the same moment cannot both go; the one that finds none left is enabled again.
   * That disable carries `hold`, the deletion's own mark (UserRepository.holdForDeletion), and the
   * refusal enables the account only while the mark is still there (a compare-and-set, in
   * AccountRemoval.abandonDeletion): a disable (or a disable and enable) by an admin meanwhile
   * stays as the admin left it.
   */
  async #keepAnAdmin(user: User, hold: string): Promise<void> {
    if (!isEnabledAdmin(user)) return;
    const lastAdmin = () => new ConflictError(msg('errors:lastAdminDelete'));
    if (!(await enabledAdminBesides(this.deps.users, user.id))) throw lastAdmin();
    // Disabled meanwhile by an admin: no longer an enabled admin, and nothing here to undo.
    if (!(await this.deps.users.holdForDeletion(user.id, hold))) return;
    // Besides this account in any case: an admin's enable meanwhile does not make it its own other admin.
    if (!(await enabledAdminBesides(this.deps.users, user.id))) throw lastAdmin();
  }
}
