import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import { ConflictError } from '../errors.js';
import { MailUnavailableError } from '../mail/mail-message.js';
import { refusedOutright, type Mailer } from '../mail/mailer.js';
import type { AccountTokens } from '../users/account-tokens.js';
import type { PasswordPolicy } from '../users/password-policy.js';
import type { PasswordHasher } from '../users/passwords.js';
import { EMAIL, type UserRepository } from '../users/user-repository.js';
import { isValidUsername } from '../users/username.js';
import { displayNameProblem, type User } from '../users/user.js';
import type { Invites } from './invites.js';
import { signupErrors } from './signup-errors.js';
import type { SignupLimit } from './signup-limit.js';
import type { SignupMailBudget } from './signup-mail-budget.js';
import type { UnverifiedAccounts } from './unverified-accounts.js';
import { foldAddress } from '../store/keys.js';

export type SignupMode = 'closed' | 'open' | 'invite';

export const VERIFY_TTL_SECONDS = 24 * 3600; // a verification link lasts a day
export const VERIFY_PATH = '/signup/verify';


export interface SignupInput {
  username: string;
  email: string;
  name: string;
  password: string;
  /** The same password again. */
  confirm: string;
  /** The page's language: the language of the mail and of the account's later mail. */
  locale: string;
  ip: string;
  /** The invite token (HUB_SIGNUP=invite). */
  invite?: string;
  /**
   * The accounts the last sign-ups in this browser made or were making (the portal session keeps
   * their ids): a sign-up with the username of one replaces it while it is unverified and never
   * signed in (see `register`).
   */
  replaces?: string[];
  /**
   * Told the new account's id once the form is right, before anything of the account is written
   * (the route keeps it in the portal session): a sign-up the store cut off after its account was
   * written (the 503 page) is then this browser's own, and replaced when the form is sent again.
   */
  beforeCreate?: (id: string) => Promise<void>;
}

/** What the verification token stands for. */
interface Verification {
  userId: string;
  email: string;
}

export interface SignupDeps {
  mode: SignupMode;
  issuer: string;
  users: UserRepository;
  hasher: PasswordHasher;
  passwords: PasswordPolicy;
  mailer: Mailer;
  tokens: AccountTokens;
  invites: Invites;
  limit: SignupLimit;
  mailBudget: SignupMailBudget;
  audit: AuditLog;
  /** Removes this browser's own earlier sign-up of the same username (UnverifiedAccounts.withdraw). */
  unverified?: Pick<UnverifiedAccounts, 'withdraw'>;
}

/**
 * Self-service sign-up and e-mail verification (issue 13).
 *
 * Enumeration: whether an address belongs to an account is never told to the person at the
 * form. Every valid sign-up gets the same answer ("if this address can be used, we sent a
 * link"), does the same work (an argon2id hash, an account with that username) and sends one
 * mail in the background to the address typed: a verification link when no account holds the
 * address, else a note to its owner. A new account never holds its address before it is
 * verified, so an address cannot be squatted, and the username is taken in both cases, so
 * trying the username again tells nothing about the address. A taken username is said at
 * once: usernames are public handles (shown on the sites) and contain no `@`, so this reveals
 * no e-mail-based account.
 */
export class SignupService {
  constructor(private readonly deps: SignupDeps) {}

  get mode(): SignupMode {
    return this.deps.mode;
  }

  /** Throws when this hub takes no sign-ups now: closed, or no way to send the verification mail. */
  ensureOpen(): void {
    if (this.deps.mode === 'closed') throw signupErrors.closed();
    if (!this.deps.mailer.available) throw new MailUnavailableError();
  }

  /** For the form of an invite-only hub: the invite must be live. */
  async requireInvite(token: string | undefined) {
    if (this.deps.mode !== 'invite') return undefined;
    if (!token) throw signupErrors.inviteNeeded();
    const invite = await this.deps.invites.peek(token);
    if (!invite) throw signupErrors.inviteInvalid();
    return invite;
  }

  /** Answers the account made (its id goes into the portal session: see `SignupInput.replaces`). */
  async register(input: SignupInput): Promise<{ id: string }> {
    this.ensureOpen();
    const invite = await this.requireInvite(input.invite);
    const username = input.username.trim();
    const email = input.email.trim();
    const name = input.name.trim() || username;
    if (!isValidUsername(username)) throw signupErrors.username();
    if (!EMAIL.test(email) || email.length > 254) throw signupErrors.email();
    if (displayNameProblem(name)) throw signupErrors.name();
    if (invite?.email && foldAddress(invite.email) !== foldAddress(email)) throw signupErrors.inviteEmail();
    if (input.password !== input.confirm) throw signupErrors.passwordsDiffer();
    await this.deps.passwords.check(input.password, { username, email, name });
    // Counted once the form is right: a typo does not use up the address's sign-ups.
    try {
      await this.deps.limit.count(input.ip);
    } catch (error) {
      await this.deps.audit.record({ event: 'signup.limited', actor: username, ip: input.ip });
      throw error;
    }
    // Counted before the hash, so an address over its limit costs no argon2id run; a busy hub
    // (BusyError) then costs the address one of its sign-ups, and the form says to try later.
    const passwordHash = await this.deps.hasher.hash(input.password);
    // The same browser signing up again with the same username (Back from "check your inbox" to
    // correct a mistyped address): its own pending account goes, and this one takes the name. Before,
    // the form said "This username is taken" and the name stayed with the mistyped address, whose
    // link nobody could open, for HUB_UNVERIFIED_ACCOUNT_DAYS (a browser review). Only once the form
    // is right (a refused form leaves it), and only that browser's (nobody else has its session).
    // Also a sign-up of this browser the store cut off after its account was written (the 503
    // page): its id was kept before the account's writes (`beforeCreate`). Before, the browser
    // learnt the id only from a sign-up that answered, and the form sent again was told "This
    // username is taken" by the account its first try had made.
    for (const id of new Set(input.replaces ?? [])) await this.deps.unverified?.withdraw(id, username, input.ip);
    const id = randomUUID();
    await input.beforeCreate?.(id);
    let user: Pick<User, 'id' | 'username'>;
    try {
      user = await this.deps.users.createSignedUp({ id, username, email, name, passwordHash, locale: input.locale });
    } catch (error) {
      if (error instanceof ConflictError) throw signupErrors.usernameTaken();
      throw error;
    }
    if (invite && !(await this.deps.invites.take(input.invite!))) {
      // Two sign-ups raced on one invite: the other one got it.
      await this.deps.users.delete(user.id);
      throw signupErrors.inviteInvalid();
    }
    const holder = await this.deps.users.findByEmail(email);
    // Sign-up mails to one address are capped per asking network and overall (signup-mail-budget.ts):
    // the limit per client address alone let anyone with many addresses fill any mailbox through
    // the hub, and one cap for the address alone let a stranger's network use up the owner's (two
    // reviews). Past either the answer is the same and no mail goes; the resend page sends the link later.
    const refused = await this.deps.mailBudget.take(email, input.ip);
    if (refused) {
      await this.deps.audit.record({ event: 'signup.mail-limited', actor: user.id, subject: user.id, ip: input.ip, detail: { limit: refused, ...(holder ? { holder: holder.id } : {}) } });
    } else if (holder) {
      // The address has an account: its owner hears about it, the form says what it always says.
      this.deps.mailer.sendInBackground({
        to: email,
        template: 'signup-address-taken',
        locale: holder.locale ?? input.locale,
        vars: { name: holder.name, username: holder.username, loginLink: `${this.deps.issuer}/login`, resetLink: `${this.deps.issuer}/password/forgot` },
      }, () => this.deps.mailBudget.giveBack(email, input.ip));
      await this.deps.audit.record({ event: 'signup.address-taken', actor: user.id, subject: user.id, ip: input.ip, detail: { holder: holder.id } });
    } else {
      await this.#sendVerification({ id: user.id, email, locale: input.locale }, input.ip);
    }
    await this.deps.audit.record({ event: 'signup.created', actor: user.id, subject: user.id, ip: input.ip, detail: { invited: Boolean(invite) } });
    return { id: user.id };
  }

  /**
   * Sends the verification link again, by username (the form after a refused sign-in, or the
   * resend page). Always the same answer; the mail counts as a sign-up's does (per asking network
   * and per address).
   */
  async resend(login: string, ip: string): Promise<void> {
    this.ensureOpen();
    // An unverified account is not found by its address, so an address typed here never brought a
    // link, while the page said it might have (a browser review). No username has an "@": saying
    // so tells nothing about any account.
    if (login.includes('@')) throw signupErrors.resendByEmail();
    await this.deps.limit.count(ip);
    const user = await this.deps.users.findByLogin(login.slice(0, 320));
    // Not for an account being removed (unverified past HUB_UNVERIFIED_ACCOUNT_DAYS): its link could never work.
    if (!user || !user.signedUp || user.emailVerified || user.removing) return;
    // Counted per address as sign-ups are: K accounts signed up with one address would otherwise
    // each get their own resends, K times the cap to that mailbox (a review). Not per account any
    // more: usernames are public, so a count per account alone let anyone who knew the owner's
    // username use up the owner's resends from anywhere (a review); the per-network share now
    // bounds what one asker can cause.
    const refused = await this.deps.mailBudget.take(user.email, ip);
    if (refused) {
      await this.deps.audit.record({ event: 'signup.resend-limited', actor: user.id, subject: user.id, ip, detail: { limit: refused } });
      return;
    }
    await this.#sendVerification({ id: user.id, email: user.email, locale: user.locale ?? 'en' }, ip);
    await this.deps.audit.record({ event: 'signup.resent', actor: user.id, subject: user.id, ip });
  }

  /** Whether a verification link is live, without using it (the confirmation page). */
  async checkLink(token: string): Promise<boolean> {
    const verification = await this.deps.tokens.peek<Verification>('email-verify', token);
    if (!verification) return false;
    // An account removed meanwhile (unverified past its time) has nothing left to verify.
    const user = await this.deps.users.findById(verification.userId);
    return user !== undefined && !user.removing;
  }

  /**
   * Uses the link up and verifies the address: the account then holds it and may sign in.
   * Throws when the link is unknown, expired or used, or another account verified the address first.
   */
  async verify(token: string, ip: string): Promise<User> {
    // Used up last, once the address is verified (verifying twice is harmless): a verification the
    // store cut off part-way (the 503 page) leaves the link working, and opening it again finishes
    // it. Used up first, as before, such a click spent the link and left the account unverified.
    const verification = await this.deps.tokens.peek<Verification>('email-verify', token);
    if (!verification) throw signupErrors.linkInvalid();
    const outcome = await this.deps.users.verifyEmail(verification.userId, verification.email);
    // No account: removed meanwhile (an unverified account past HUB_UNVERIFIED_ACCOUNT_DAYS, or by
    // an admin); its username may belong to someone else by now. The link is simply dead.
    if (outcome === 'no-account') throw signupErrors.linkInvalid();
    if (outcome === 'address-taken') throw signupErrors.addressTaken();
    // Of two clicks at once, both verified the same address: one uses the link up, neither fails.
    await this.deps.tokens.take('email-verify', token);
    await this.deps.audit.record({ event: 'email.verified', actor: verification.userId, subject: verification.userId, ip });
    return (await this.deps.users.findById(verification.userId))!;
  }

  /**
   * The address is not proven yet: whoever typed it may not own it, so the mail carries
   * nothing they chose (display name, username: a username may read as a host name), only the
   * hub's own words and the link.
   */
  async #sendVerification(user: { id: string; email: string; locale: string }, ip: string): Promise<void> {
    const token = await this.deps.tokens.issue<Verification>('email-verify', { userId: user.id, email: user.email }, VERIFY_TTL_SECONDS);
    this.deps.mailer.sendInBackground({
      to: user.email,
      template: 'verify-email',
      locale: user.locale,
      vars: { link: `${this.deps.issuer}${VERIFY_PATH}?token=${encodeURIComponent(token)}`, hours: VERIFY_TTL_SECONDS / 3600 },
    }, async (error) => {
      // Not mailed: the mail is not counted, so a resend once the mail server is back brings one at
      // once. A link the server refused goes (nobody has it); one whose fate is unknown (a timeout
      // after the message went) may yet arrive, and stays.
      await Promise.allSettled([refusedOutright(error) ? this.deps.tokens.take('email-verify', token) : undefined, this.deps.mailBudget.giveBack(user.email, ip)]);
    });
  }
}
