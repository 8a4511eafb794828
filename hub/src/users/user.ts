import { ValidationError } from '../errors.js';

export interface User {
  id: string;
  username: string;
  email: string;
  name: string;
  /** argon2id hash; never leaves the hub. */
  passwordHash: string;
  disabled: boolean;
  /** The address was proven by a link sent to it (the `email_verified` claim). */
  emailVerified?: boolean;
  /**
   * When the address was last set by a confirmed change on the account page (epoch ms); kept as
   * it was when an undo link gives an older address back. The address it replaces is offered an
   * undo link only when it had held the account longer than such a link lives (email-change.ts).
   */
  emailChangedAt?: number;
  /**
   * Created through self-service sign-up. Until its address is verified such an account holds
   * no claim on it (the e-mail index), and with HUB_REQUIRE_VERIFIED_EMAIL it cannot sign in.
   */
  signedUp?: boolean;
  /**
   * A self-service sign-up that has neither verified its address nor signed in: the time (epoch
   * seconds) its removal period (HUB_UNVERIFIED_ACCOUNT_DAYS) counts from, its sign-up (or, for an
   * account an older release made, when an admin asked for those to be listed:
   * `users expire-older-unverified`). Dropped, in the same write,
   * when the address is verified or the account first signs in: from then on it is kept.
   */
  unverifiedSince?: number;
  /**
   * When an account that signed up itself first signed in before verifying its address (only
   * possible with HUB_REQUIRE_VERIFIED_EMAIL=false), epoch seconds: it may have used subsites, so
   * it is never removed as an unverified account.
   */
  signedInUnverifiedAt?: number;
  /**
   * Set (compare-and-set) by the removal of an unverified account as its first step: a
   * verification or a first sign-in that reads it refuses, and the removal can be run again after
   * a crash part-way. Never on a live account.
   */
  removing?: boolean;
  /** The language the person used at sign-up (`en`, `zh-CN`): the language of mail sent later. */
  locale?: string;
  roles: string[];
  createdAt: number; // epoch seconds
  /**
   * When a claim the hub hands out (username, name, e-mail, its verification) last changed, in
   * epoch seconds: the `updated_at` claim (OIDC Core §5.1). Absent until the first change (then
   * `createdAt`).
   */
  updatedAt?: number;
  /**
   * Replaced (a random value) each time the hub ends all of the user's sign-ins (a password reset
   * or change, disabling, "end all sessions"). A sign-in records it when the password is checked
   * and is refused at resume if it changed meanwhile: a password checked before a reset gives
   * no session after it. Absent on records from before it: the same as empty.
   */
  signInGeneration?: string;
  /**
   * When the forced logout of the user's disabling was queued in full (epoch ms); cleared when
   * enabled. A second disable of a user with it ends and sends nothing again; one without it (a
   * disable that stopped part-way) finishes the forced logout.
   */
  disabledAt?: number;
  /**
   * The owner's self-deletion disabled the account for its last-admin check (a random value,
   * that deletion's own): only that deletion enables it again, and only while this is still its
   * value (a compare-and-set). Any other write of `disabled` (the console's or the CLI's disable
   * or enable, the deletion itself) drops it, so a refusal never undoes what an admin did.
   */
  deletionHold?: string;
  /** UCenter's numeric uid: stable, assigned at creation (kept when imported); older records get one on first use. */
  uid?: number;
}

/**
 * A self-service sign-up that nothing keeps yet: its address is not verified and it has not
 * signed in before verifying (`signedInUnverifiedAt`, only possible with
 * HUB_REQUIRE_VERIFIED_EMAIL=false). A first sign-in of such an account marks it.
 */
export function isUnverifiedSignUp(user: Pick<User, 'signedUp' | 'emailVerified' | 'signedInUnverifiedAt'>): boolean {
  return user.signedUp === true && user.emailVerified !== true && user.signedInUnverifiedAt === undefined;
}

/**
 * What mail to the account's own address may say of the account: its display name and username,
 * unless the address was typed at a self-service sign-up and never proven (then nothing: whoever
 * signed up chose both, and the address may be anyone's, so a reset link or a notice would carry
 * their text to a stranger; the templates then speak of "the account registered with this address").
 */
export function ownerMailVars(user: Pick<User, 'signedUp' | 'emailVerified' | 'name' | 'username'>): { name?: string; username?: string } {
  return user.signedUp === true && user.emailVerified !== true ? {} : { name: user.name, username: user.username };
}

/**
 * The rule for an unverified self-sign-up that may be removed (HUB_UNVERIFIED_ACCOUNT_DAYS,
 * signup/unverified-accounts.ts): {@link isUnverifiedSignUp}, and no role (an admin who gave it
 * one vouched for it: kept as an account an admin made). Whether it is listed yet
 * (`unverifiedSince`) and whether its removal is under way (`removing`) are steps of the removal,
 * not part of the rule.
 */
export function mayBeRemovedUnverified(user: Pick<User, 'signedUp' | 'emailVerified' | 'signedInUnverifiedAt' | 'roles'>): boolean {
  return isUnverifiedSignUp(user) && user.roles.length === 0;
}

/** What the hub shows of a user (no hash). */
export type PublicUser = Omit<User, 'passwordHash'>;

export function toPublic(user: User): PublicUser {
  const { passwordHash: _hash, ...rest } = user;
  return rest;
}

/** The longest display name, in characters. */
export const MAX_NAME_LENGTH = 100;

/**
 * What a display name may not hold: control characters and line or paragraph separators (a
 * name goes into mail headers and pages), and invisible format characters that change how the
 * text around them reads (bidirectional overrides and isolates, zero-width spaces, the BOM):
 * `\u202E` and a zero-width space make a name show as someone else's. The zero-width joiner
 * and non-joiner stay (Persian, Indic scripts and emoji sequences need them), and so do tag
 * characters (subdivision flags).
 */
const NAME_FORBIDDEN = /[\p{Cc}\u2028\u2029]|(?![\u200C\u200D\u{E0020}-\u{E007F}])\p{Cf}/u;

/** Whether a display name holds a character {@link NAME_FORBIDDEN} refuses. */
export function hasForbiddenNameCharacter(name: string): boolean {
  return NAME_FORBIDDEN.test(name);
}

/** What is wrong with a display name as it would be kept (trimmed), if anything: the one rule for every place that sets one. */
export function displayNameProblem(name: string): 'tooLong' | 'forbidden' | undefined {
  const trimmed = name.trim();
  if ([...trimmed].length > MAX_NAME_LENGTH) return 'tooLong';
  if (hasForbiddenNameCharacter(trimmed)) return 'forbidden';
  return undefined;
}

/** The role that opens the admin console. */
export const ADMIN_ROLE = 'admin';

/** An admin who can open the console: the admin role on an account that is not disabled. */
export function isEnabledAdmin(user: Pick<User, 'roles' | 'disabled'>): boolean {
  return user.roles.includes(ADMIN_ROLE) && !user.disabled;
}

/** The roles the hub knows: only {@link ADMIN_ROLE}. Any other name is a typo, refused. */
export const KNOWN_ROLES: readonly string[] = [ADMIN_ROLE];

/** The roles as given, or a ValidationError naming the first the hub does not know. */
export function checkRoles(roles: readonly string[]): string[] {
  const unknown = roles.find((role) => !KNOWN_ROLES.includes(role));
  if (unknown !== undefined) throw new ValidationError(`unknown role ${JSON.stringify(unknown)}: the hub knows ${KNOWN_ROLES.join(', ')}`);
  return [...roles];
}

