import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../logger.js';
import { deliveryFailure, refusedOutright, type Mailer } from '../mail/mailer.js';
import type { OwnerNotices } from './owner-notices.js';
import type { LoginThrottle } from '../security/login-throttle.js';
import type { RecoveryLimits } from '../security/recovery-limits.js';
import { AccountInputError } from './account-errors.js';
import type { AccountLifecycle } from './account-lifecycle.js';
import type { AccountTokens } from './account-tokens.js';
import { passwordStamp } from './password-stamp.js';
import type { PasswordPolicy } from './password-policy.js';
import { ownerMailVars, type User } from './user.js';
import type { UserRepository } from './user-repository.js';

export interface PasswordRecoveryDeps {
  users: UserRepository;
  tokens: AccountTokens;
  mailer: Mailer;
  limits: RecoveryLimits;
  lifecycle: AccountLifecycle;
  throttle: LoginThrottle;
  passwords: PasswordPolicy;
  audit: AuditLog;
  logger: Logger;
  issuer: string;
  /** Tells the owner once the password was reset. */
  notices: OwnerNotices;
  /** How long a reset link works, in seconds. */
  ttlSeconds: number;
}

/** What a reset token stands for: the user, the password it may replace, and the address it was sent to. */
interface ResetGrant {
  userId: string;
  stamp: string;
  /**
   * The stamp of the password a reset with this link is setting (the link claimed, not yet used
   * up): that password may have landed before a store fault cut the reset off, and the link still
   * works for the retry that finishes it.
   */
  next?: string;
  /** A link sent to an address the account no longer uses is stale (absent in links made before this was kept). */
  email?: string;
}

/** A reset link that is unknown, expired, already used, or made stale by a newer password. */
export class InvalidResetLinkError extends AccountInputError {
  override readonly name = 'InvalidResetLinkError';
  constructor() {
    super('recovery:reset.invalid', 'This password reset link has expired or was already used. Please ask for a new one.');
  }
}

/**
 * Forgotten passwords: a request by username or e-mail sends a single-use link (digest at
 * rest, `ttlSeconds`), the link sets a new password, and that ends every session and token
 * of the user, at the hub and at subsites, clears the sign-in throttle and tells the user.
 *
 * A request is answered before anything about the account is looked at: the lookup, the
 * limits, the token and the mail run afterwards (`requestInBackground`), so the answer and
 * its timing are the same for unknown accounts.
 */
export class PasswordRecovery {
  readonly #pending = new Set<Promise<void>>();

  constructor(private readonly deps: PasswordRecoveryDeps) {}

  /** The background work of one request; errors are logged (never the login or address). */
  requestInBackground(login: string, locale: string, ip: string): void {
    const work = this.request(login, locale, ip).catch((error: unknown) => {
      this.deps.logger.error('password reset request failed', deliveryFailure(error));
    });
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  /** Resolves when every background request started so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }

  /** Looks the account up and, within its mail limit, sends it a reset link. */
  async request(login: string, locale: string, ip: string): Promise<void> {
    const user = await this.deps.users.findByLogin(login.slice(0, 320));
    if (!user || user.disabled) {
      await this.deps.audit.record({ event: 'password.reset.requested', actor: login.slice(0, 320), ip, detail: { known: false } });
      return;
    }
    if (!(await this.deps.limits.mail(user.id, 'reset'))) {
      await this.deps.audit.record({ event: 'password.reset.limited', actor: user.id, subject: user.id, ip });
      return;
    }
    const grant: ResetGrant = { userId: user.id, stamp: passwordStamp(user), email: user.email.toLowerCase() };
    const token = await this.deps.tokens.issue('password-reset', grant, this.deps.ttlSeconds);
    await this.deps.audit.record({ event: 'password.reset.requested', actor: user.id, subject: user.id, ip, detail: { known: true } });
    try {
      await this.deps.mailer.send({
        to: user.email,
        template: 'password-reset',
        // The asker's: the person reading the page that asked for it, almost always the owner on the
        // device at hand (e2e/tests/recovery.spec.ts). Notices no page asks for use the account's.
        locale,
        vars: { ...ownerMailVars(user), link: this.linkFor(token), minutes: Math.round(this.deps.ttlSeconds / 60) },
      });
    } catch (error) {
      // Not mailed: the mail does not count toward the account's share, so once the mail server is
      // back the owner's request brings a link at once. A link the server refused goes (nobody has
      // it); one whose fate is unknown (a timeout after the message went) may yet arrive, and stays.
      await Promise.allSettled([refusedOutright(error) ? this.deps.tokens.take('password-reset', token) : undefined, this.deps.limits.mailNotSent(user.id, 'reset')]);
      throw error;
    }
  }

  linkFor(token: string): string {
    return `${this.deps.issuer}/password/reset?token=${encodeURIComponent(token)}`;
  }

  /** The user a live reset link is for, without using it up; throws InvalidResetLinkError. */
  async check(token: string): Promise<User> {
    return (await this.#checked(token)).user;
  }

  async #checked(token: string): Promise<{ user: User; grant: ResetGrant }> {
    const grant = await this.deps.tokens.peek<ResetGrant>('password-reset', token);
    return { user: await this.#userOf(grant), grant: grant! };
  }

  /**
   * Sets the new password with a reset link: every session, grant and token of the user ends
   * (subsites get a back-channel logout), the sign-in throttle of the account is cleared, the
   * link is used up and the user is told by e-mail. A password the policy refuses leaves the
   * link usable.
   *
   * The link is claimed first and used up last: a store fault part-way (the 503 page) leaves it
   * working, and the form sent again finishes the reset, also when the new password had landed.
   * Used up first (as before), a reset cut off after it kept the old password, or had set the
   * new one with every session, a taker's too, going on, and its link was spent.
   */
  async reset(token: string, password: string, confirm: string, locale: string, ip: string): Promise<User> {
    const { user, grant } = await this.#checked(token);
    if (password !== confirm) throw new AccountInputError('recovery:reset.differ', 'The two passwords differ.');
    await this.deps.passwords.check(password, { username: user.username, email: user.email, name: user.name });
    // Hashed before the link is claimed: a busy hub (BusyError, 503) leaves the link as it was.
    const prepared = await this.deps.users.preparePassword(password);
    // Claimed atomically (compare-and-set): of two requests racing with one link, one sets the password.
    const claim: ResetGrant = { ...grant, stamp: passwordStamp(user), next: passwordStamp(prepared) };
    if (!(await this.deps.tokens.replace<ResetGrant>('password-reset', token, grant, claim))) throw new InvalidResetLinkError();
    await this.deps.users.setPassword(user.id, prepared);
    const ended = await this.deps.lifecycle.signOutEverywhere(user.id);
    await this.deps.throttle.clearAccount(user.id, ip);
    // The link went to the account's address and was used: the same proof the verification link
    // gives. An account that signed up and never verified would otherwise be told, right after
    // "sign in with your new password", to confirm its address first (a browser review). Claimed
    // as the verification link claims it: an address another account has proven stays theirs.
    const verified = user.emailVerified !== true && grant.email !== undefined && (await this.deps.users.verifyEmail(user.id, grant.email)) === 'verified';
    // Used up now that the reset is whole.
    await this.deps.tokens.take('password-reset', token);
    await this.deps.audit.record({ event: 'password.reset.done', actor: user.id, subject: user.id, ip, detail: ended });
    if (verified) await this.deps.audit.record({ event: 'email.verified', actor: user.id, subject: user.id, ip, detail: { via: 'password-reset' } });
    this.deps.notices.passwordChanged(user, locale);
    return user;
  }

  async #userOf(grant: ResetGrant | undefined): Promise<User> {
    const user = grant ? await this.deps.users.findById(grant.userId) : undefined;
    // A link made before the latest password change or address change (or for a disabled account) is stale.
    // A claimed link (a reset cut off part-way) also stands for the password that reset was setting.
    if (!grant || !user || user.disabled || (passwordStamp(user) !== grant.stamp && passwordStamp(user) !== grant.next)) throw new InvalidResetLinkError();
    if (grant.email !== undefined && grant.email !== user.email.toLowerCase()) throw new InvalidResetLinkError();
    return user;
  }
}
