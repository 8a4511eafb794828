import type { Mailer } from '../mail/mailer.js';
import type { MailRequest } from '../mail/mail-message.js';
import { ownerMailVars, type User } from './user.js';

/**
 * The mails that tell an account's owner it changed (ASVS 5 §6.3.7): whoever changed it from a
 * borrowed or stolen session has locked the owner out or weakened the account, and each mail
 * says how back in (the forgotten-password page). Sent in the background: a mail server that
 * fails is logged, never a failed change.
 */
export class OwnerNotices {
  constructor(
    private readonly mailer: Mailer,
    private readonly issuer: string,
  ) {}

  /** The password was set: by a reset link, or on the account page (`kept`: this session stays). */
  passwordChanged(user: Pick<User, 'email' | 'name' | 'username' | 'signedUp' | 'emailVerified'>, locale: string, options: { kept?: boolean } = {}): void {
    this.mailer.sendInBackground({ to: user.email, template: 'password-changed', locale, vars: { ...ownerMailVars(user), link: this.#resetLink(), ...(options.kept ? { kept: true } : {}) } });
  }

  /**
   * The owner deleted the account on the account page. Sent to the address the account had: a
   * deletion made from a stolen session (with a phished password) does not go unseen; no link,
   * as there is no account left to act on.
   */
  accountDeleted(user: Pick<User, 'email' | 'name' | 'username' | 'signedUp' | 'emailVerified'>, locale: string): void {
    this.mailer.sendInBackground({ to: user.email, template: 'account-deleted', locale, vars: ownerMailVars(user) });
  }

  /** Two-step sign-in was turned on or off, or new recovery codes were made. */
  twoStepChanged(user: Pick<User, 'email' | 'name' | 'username' | 'signedUp' | 'emailVerified'>, locale: string, change: 'enabled' | 'disabled' | 'codes'): void {
    this.mailer.sendInBackground(this.#twoStepMail(user, locale, change));
  }

  /**
   * The same mail, sent before the promise settles, for a command that exits once done (the
   * CLI's `users reset-two-step`) and says whether the owner was told: 'off' when this process
   * has no way to send mail, an error when the mail server refused.
   */
  async twoStepChangedNow(user: Pick<User, 'email' | 'name' | 'username' | 'signedUp' | 'emailVerified'>, locale: string, change: 'enabled' | 'disabled' | 'codes'): Promise<'sent' | 'off'> {
    if (!this.mailer.available) return 'off';
    await this.mailer.send(this.#twoStepMail(user, locale, change));
    return 'sent';
  }

  #twoStepMail(user: Pick<User, 'email' | 'name' | 'username' | 'signedUp' | 'emailVerified'>, locale: string, change: 'enabled' | 'disabled' | 'codes'): MailRequest {
    return { to: user.email, template: 'two-step-changed', locale, vars: { ...ownerMailVars(user), change, link: this.#resetLink() } };
  }

  #resetLink(): string {
    return `${this.issuer}/password/forgot`;
  }
}
