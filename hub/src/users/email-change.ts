import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import { ConflictError, msg } from '../errors.js';
import type { AccountLifecycle } from './account-lifecycle.js';
import { AccountInputError } from './account-errors.js';
import type { Logger } from '../logger.js';
import { MailUnavailableError, type MailRequest } from '../mail/mail-message.js';
import { deliveryFailure, type Mailer } from '../mail/mailer.js';
import type { RecoveryLimits } from '../security/recovery-limits.js';
import type { AccountSettings } from './account-settings.js';
import type { AccountTokens } from './account-tokens.js';
import { passwordStamp } from './password-stamp.js';
import { ownerMailVars, type User } from './user.js';
import { AccountChangedMeanwhileError, EMAIL, type UserRepository } from './user-repository.js';
import { foldAddress } from '../store/keys.js';

export interface EmailChangeDeps {
  users: UserRepository;
  settings: AccountSettings;
  tokens: AccountTokens;
  mailer: Mailer;
  limits: RecoveryLimits;
  audit: AuditLog;
  logger: Logger;
  issuer: string;
  /** How long a confirmation link works, in seconds. */
  ttlSeconds: number;
  /** Ends every session and token of the account when the old address takes it back. */
  lifecycle: Pick<AccountLifecycle, 'signOutEverywhere'>;
  /** How long the link that gives the address back works, in seconds. */
  undoTtlSeconds: number;
}

/** What a confirmation token stands for. */
interface EmailGrant {
  userId: string;
  from: string;
  to: string;
  stamp: string;
  /**
   * The account's sign-in generation when the change was asked for (`User.signInGeneration`, '' for
   * none yet): every "sign out everywhere" (the undo link, "Sign out everywhere else", turning
   * two-step on, a reset, an admin's) renews it, and the link dies with the sessions. Before, a
   * taker who asked for two changes from the owner's address confirmed the second after the owner
   * had given the address back with the undo link (it matched the address again). Absent in links
   * an older release issued.
   */
  generation?: string;
  /**
   * The language the change was asked in (the signed-in holder's account page): the notice to
   * the old address follows it, not the browser that opens the link, which may be another
   * device's or the taker's. Absent in links an older release issued.
   */
  locale?: string;
  /**
   * Set when a confirmation claims the link (it is used up only once the change is whole): what
   * the rule for the undo link reads of the account before the change, which the change itself
   * overwrites, so that a confirmation the store cut off after the address changed and sent again
   * offers the old address its way back as the first would have. `attempt` is new at each claim:
   * of two confirmations at once, one claims the link, the other is told it is used.
   */
  claim?: { attempt: string; fromVerified: boolean; fromChangedAt?: number };
}

/** What the link sent to the old address after a change stands for: the address to give back. */
interface UndoGrant {
  userId: string;
  /** The address before the change, verified then (an unverified one is offered no link). */
  from: string;
  /** When that address was set by a change of its own (its `emailChangedAt`), kept with it when it is given back. */
  fromChangedAt?: number;
  /** The address it was changed to. */
  to: string;
}

export class InvalidEmailLinkError extends AccountInputError {
  override readonly name = 'InvalidEmailLinkError';
  constructor() {
    super('account:emailConfirm.invalid', 'This confirmation link has expired or was already used. Please ask for the change again on your account page.');
  }
}

/** A link that gives the old address back, unknown, expired or already used. */
export class InvalidUndoLinkError extends AccountInputError {
  override readonly name = 'InvalidUndoLinkError';
  constructor() {
    super('account:emailUndo.invalid', 'This link has expired or was already used.');
  }
}

/** The account had its share of mail this window: the owner is told to wait (nobody else can see this). */
export class TooManyMailsError extends AccountInputError {
  override readonly name = 'TooManyMailsError';
  constructor() {
    super('account:errors.tooManyMails', 'We have sent several e-mails for this account recently. Please wait an hour and try again.', {}, 429);
  }
}

const MAX_EMAIL_LENGTH = 254; // RFC 5321 path limit

/**
 * Changing the e-mail address from the account page: the current password is required, a
 * single-use link (digest at rest) goes to the NEW address and a notice to the OLD one; the
 * address changes only when the link is used, and is then verified (`email_verified`).
 * Whether the new address already belongs to another account is not told (no link is sent
 * then), so the page cannot be used to find out who has an account.
 */
export class EmailChange {
  readonly #pending = new Set<Promise<void>>();

  constructor(private readonly deps: EmailChangeDeps) {}

  /** Whether a change can be asked for at all: the link goes by mail. */
  get available(): boolean {
    return this.deps.mailer.available;
  }

  async request(user: User, password: string, email: string, locale: string, ip: string): Promise<void> {
    if (!this.deps.mailer.available) throw new MailUnavailableError();
    await this.deps.settings.verifyCurrentPassword(user, password, ip);
    await this.requestProven(user, email, locale, ip);
  }

  /**
   * The same, for a caller that has just proved the account holder's password itself (UCenter's
   * user/edit checks the old password with the sign-in throttle): not checked a second time.
   */
  async requestProven(user: User, email: string, locale: string, ip: string): Promise<void> {
    if (!this.deps.mailer.available) throw new MailUnavailableError();
    const address = email.trim();
    if (address.length > MAX_EMAIL_LENGTH || !EMAIL.test(address)) throw new AccountInputError('account:errors.emailInvalid', 'That e-mail address does not look right.');
    if (foldAddress(address) === foldAddress(user.email)) throw new AccountInputError('account:errors.emailSame', 'That is already your e-mail address.');
    if (!(await this.deps.limits.mail(user.id, 'email-change'))) throw new TooManyMailsError();
    await this.deps.audit.record({ event: 'account.email.requested', actor: user.id, subject: user.id, ip });
    const vars = { ...ownerMailVars(user), newEmail: address, oldEmail: user.email };
    // The old address hears of it at once: if this was not its owner, they can act. A notice the
    // mail server did not take gives the count back (an outage would otherwise end in "wait an hour"
    // for mails that never went); only this mail, which goes whatever the new address is, so the
    // count never tells whether the new address has an account.
    this.#background(this.deps.mailer.send({ to: user.email, template: 'email-change-notice', locale, vars }).catch(async (error: unknown) => {
      await this.deps.limits.mailNotSent(user.id, 'email-change');
      throw error;
    }));
    if (await this.deps.users.findByLogin(address)) return;
    const grant: EmailGrant = { userId: user.id, from: user.email, to: address, stamp: passwordStamp(user), generation: user.signInGeneration ?? '', locale };
    const token = await this.deps.tokens.issue('email-change', grant, this.deps.ttlSeconds);
    const link = `${this.deps.issuer}/account/email/confirm?token=${encodeURIComponent(token)}`;
    // The new address is not proven yet: its mail carries nothing the account holder chose
    // (display name, username), so it cannot be used to send a lure from the hub to anyone.
    this.#background(this.deps.mailer.send({ to: address, template: 'email-change-confirm', locale, vars: { newEmail: address, oldEmail: user.email, link, hours: Math.round(this.deps.ttlSeconds / 3600) } }));
  }

  /** The change a live link stands for, without using it up. */
  async check(token: string): Promise<{ user: User; to: string }> {
    const grant = await this.deps.tokens.peek<EmailGrant>('email-change', token);
    return this.#changeOf(grant);
  }

  /**
   * Changes the address with the link; it is verified from now on. The old address is then sent
   * a link that gives it back ({@link undo}): whoever holds the password can confirm a change to
   * a mailbox of theirs within minutes, and then reset the password through it.
   *
   * The link is claimed first (a compare-and-set) and used up last, once the address changed and
   * the undo link was made and its mail started: a confirmation the store cut off part-way (the
   * 503 page) leaves it working, and the form sent again finishes the change and sends the old
   * address its way back, also when the new address had already landed (the claim keeps what the
   * rule for the undo link needs of the account before the change). Used up first, as before,
   * such a confirmation spent the link, and one whose change landed with its answer lost never
   * sent the old address its undo link.
   */
  async confirm(token: string, ip: string, locale: string): Promise<User> {
    const grant = await this.deps.tokens.peek<EmailGrant>('email-change', token);
    const { user, to } = await this.#changeOf(grant);
    const claimed: EmailGrant = {
      ...grant!,
      claim: {
        // A first claim reads the account as the link found it; a retry keeps what the first read.
        ...(grant!.claim ?? { fromVerified: user.emailVerified === true, ...(user.emailChangedAt !== undefined ? { fromChangedAt: user.emailChangedAt } : {}) }),
        attempt: randomUUID(),
      },
    };
    // Of two confirmations at once (or a retry beside one still at work), one goes on.
    if (!(await this.deps.tokens.replace<EmailGrant>('email-change', token, grant!, claimed))) throw new InvalidEmailLinkError();
    const claim = claimed.claim!;
    let changed: User;
    if (EmailChange.#changedBy(claimed, user)) {
      // The change landed before a store fault cut the confirmation off: its tail is finished.
      await this.deps.users.settleAddressChange(user.id, claimed.from);
      changed = user;
    } else {
      try {
        // Checked again as it is written: of two links used at once (or a password changed
        // meanwhile), the one the account no longer matches changes nothing.
        changed = await this.deps.users.changeEmail(user.id, to, { verified: true, changedAt: Date.now(), expect: (current) => EmailChange.#matches(claimed, current) });
      } catch (error) {
        if (error instanceof AccountChangedMeanwhileError) throw new InvalidEmailLinkError();
        if (error instanceof ConflictError) throw new ConflictError(msg('errors:emailNowOther'));
        throw error;
      }
    }
    // The account as it was before the change, for the rule on the undo link and the mail's greeting.
    const { emailChangedAt: _now, ...rest } = changed;
    const before: User = { ...rest, email: claimed.from, emailVerified: claim.fromVerified, ...(claim.fromChangedAt !== undefined ? { emailChangedAt: claim.fromChangedAt } : {}) };
    // Made (a store write) before the link is used up, so a fault leaves the link for the retry;
    // its mail starts before too: a retry after a fault at the last write sends a second one.
    const notice = await this.#undoNotice(before, to, claimed.locale ?? locale);
    this.#background(this.deps.mailer.send(notice));
    await this.deps.tokens.take('email-change', token);
    await this.deps.audit.record({ event: 'account.email.changed', actor: user.id, subject: user.id, ip });
    return changed;
  }

  /** The address a live "give my address back" link restores, without using it up. */
  async checkUndo(token: string): Promise<{ user: User; from: string }> {
    const { user, grant } = await this.#undoOf(await this.deps.tokens.peek<UndoGrant>('email-undo', token));
    return { user, from: grant.from };
  }

  /**
   * Uses the link up: the account's address is the old one again (verified, as it was), and
   * every session and token of the account ends, at the hub and at subsites, as a password
   * reset ends them. A later change does not make the link stale: a taker could otherwise
   * change the address again to keep the owner out. The owner then resets the password
   * through the address they hold again.
   *
   * The link is used up last, once the address is back and the sessions ended: an undo the store
   * cut off part-way (the 503 page) leaves it working, and the form sent again finishes the job
   * (each step is safe to run twice). Used up first, as before, such an undo spent the link and
   * left the taker's address, or gave the address back with the taker's sessions going on.
   */
  async undo(token: string, ip: string): Promise<User> {
    const { user, grant } = await this.#undoOf(await this.deps.tokens.peek<UndoGrant>('email-undo', token));
    const { from } = grant;
    let restored = user;
    if (user.email.toLowerCase() !== from.toLowerCase()) {
      try {
        restored = await this.deps.users.changeEmail(user.id, from, { verified: true, changedAt: grant.fromChangedAt ?? null, restoring: true }).catch((error: unknown) => {
          // Another change of the address landed meanwhile: a later change does not make this link stale, so once more.
          if (error instanceof AccountChangedMeanwhileError) return this.deps.users.changeEmail(user.id, from, { verified: true, changedAt: grant.fromChangedAt ?? null, restoring: true });
          throw error;
        });
      } catch (error) {
        if (error instanceof ConflictError || error instanceof AccountChangedMeanwhileError) throw new ConflictError(msg('errors:emailNowOther'));
        throw error;
      }
    } else {
      // Given back already (a retry): the taker's address may still name the account, if the
      // store cut the first try off after the record (its release failed, or its answer was lost).
      await this.deps.users.settleAddressChange(user.id, grant.to);
    }
    const ended = await this.deps.lifecycle.signOutEverywhere(user.id);
    // Of two submissions at once, both gave the same address back and ended the same sessions: one uses the link up.
    if ((await this.deps.tokens.take<UndoGrant>('email-undo', token)) === undefined) throw new InvalidUndoLinkError();
    await this.deps.audit.record({ event: 'account.email.restored', actor: user.id, subject: user.id, ip, detail: ended });
    return restored;
  }

  /** Resolves when mail started so far has been handed over (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }

  #background(sending: Promise<unknown>): void {
    // The page's answer never depends on the mail (nor tells whether a link was sent).
    const work = sending.then(
      () => undefined,
      (error: unknown) => this.deps.logger.error('e-mail change mail not sent', deliveryFailure(error)),
    );
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  /**
   * The mail to the replaced address (`user` as it was before the change), with the link that
   * gives it back, made here (a store write). The link goes only to an address that was
   * verified: the owner of an address mistyped at sign-up and never proven would get the account.
   * And only to one that held the account longer than such a link lives: one set by a change
   * since (the taker's first mailbox, after A → B → C) gets none, so it cannot take the account
   * back from the owner of A after A's link was used (a review); A's link still works.
   */
  async #undoNotice(user: User, to: string, locale: string): Promise<MailRequest> {
    const vars = { ...ownerMailVars(user), newEmail: to };
    const recent = user.emailChangedAt !== undefined && Date.now() - user.emailChangedAt < this.deps.undoTtlSeconds * 1000;
    if (user.emailVerified !== true || recent) return { to: user.email, template: 'email-changed', locale, vars };
    const grant: UndoGrant = { userId: user.id, from: user.email, to, ...(user.emailChangedAt !== undefined ? { fromChangedAt: user.emailChangedAt } : {}) };
    const token = await this.deps.tokens.issue('email-undo', grant, this.deps.undoTtlSeconds);
    const link = `${this.deps.issuer}/account/email/undo?token=${encodeURIComponent(token)}`;
    const days = Math.max(1, Math.round(this.deps.undoTtlSeconds / 86_400));
    return { to: user.email, template: 'email-changed', locale, vars: { ...vars, link, days } };
  }

  async #undoOf(grant: UndoGrant | undefined): Promise<{ user: User; grant: UndoGrant }> {
    const user = grant ? await this.deps.users.findById(grant.userId) : undefined;
    if (!grant || !user || user.disabled || user.removing) throw new InvalidUndoLinkError();
    return { user, grant };
  }

  async #changeOf(grant: EmailGrant | undefined): Promise<{ user: User; to: string }> {
    const user = grant ? await this.deps.users.findById(grant.userId) : undefined;
    // Stale when the address or the password changed since the link was made; a claimed link
    // also stands for the change it made (a confirmation cut off after the address landed).
    if (!grant || !user || !(EmailChange.#matches(grant, user) || EmailChange.#changedBy(grant, user))) throw new InvalidEmailLinkError();
    return { user, to: grant.to };
  }

  /** Whether a claimed link's change landed: the account has its new address, the same password. */
  static #changedBy(grant: EmailGrant, user: User): boolean {
    return grant.claim !== undefined && !user.disabled && foldAddress(user.email) === foldAddress(grant.to) && passwordStamp(user) === grant.stamp;
  }

  /** Whether the account is still as the link found it: enabled, the same address, the same password, no session ended since. */
  static #matches(grant: EmailGrant, user: User): boolean {
    const sameGeneration = grant.generation === undefined || grant.generation === (user.signInGeneration ?? '');
    return !user.disabled && user.email.toLowerCase() === grant.from.toLowerCase() && passwordStamp(user) === grant.stamp && sameGeneration;
  }
}
