import type { Mailer } from '../mail/mailer.js';
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

  /** Two-step sign-in was turned on or off, or new recovery codes were made. */
  twoStepChanged(user: Pick<User, 'email' | 'name' | 'username' | 'signedUp' | 'emailVerified'>, locale: string, change: 'enabled' | 'disabled' | 'codes'): void {
    this.mailer.sendInBackground({ to: user.email, template: 'two-step-changed', locale, vars: { ...ownerMailVars(user), change, link: this.#resetLink() } });
  }

  #resetLink(): string {
    return `${this.issuer}/password/forgot`;
  }
}
