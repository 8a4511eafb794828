import { isIP } from 'node:net';
import type { AuditLog } from '../audit/audit-log.js';
import { BusyError, ConflictError, HubError, TooManyAttemptsError, ValidationError } from '../errors.js';
import type { LoginThrottle } from '../security/login-throttle.js';
import type { SyncAction } from '../sync/sync-codes.js';
import type { Beacon, SyncPlanner } from '../sync/sync-page.js';
import type { TwoStepService } from '../two-step/two-step-service.js';
import type { OwnerNotices } from '../users/owner-notices.js';
import type { AccountLifecycle } from '../users/account-lifecycle.js';
import type { EmailChange } from '../users/email-change.js';
import { PasswordRejectedError, type PasswordPolicy } from '../users/password-policy.js';
import type { PasswordCheck } from '../users/password-check.js';
import type { PasswordHasher } from '../users/passwords.js';
import type { User } from '../users/user.js';
import { EMAIL, UserRepository } from '../users/user-repository.js';
import { isValidUsername } from '../users/username.js';
import { appLsList, type HubEntry } from './app-rows.js';
import { noteRequestUrl, scriptTag } from './notes.js';
import { registrationKey, type UcenterApp } from './ucenter-app.js';
import type { UcenterAppRegistry } from './ucenter-apps.js';
import type { UcValue } from './xml.js';
import { foldAddress } from '../store/keys.js';

/** UCenter's answer codes (uc_server/control/user.php), as the applications read them. */
export const UC = {
  LOGIN_UNKNOWN_USER: -1,
  LOGIN_WRONG_PASSWORD: -2,
  LOGIN_BAD_QUESTION: -3,
  LOGIN_TOO_MANY_ATTEMPTS: -4,
  USERNAME_INVALID: -1,
  USERNAME_EXISTS: -3,
  EMAIL_INVALID: -4,
  EMAIL_NOT_ALLOWED: -5,
  EMAIL_EXISTS: -6,
  EDIT_WRONG_OLD_PASSWORD: -1,
  /**
   * A new password the hub refuses (its policy, or too many checks waiting), or any change for
   * a user with two-step sign-in: -1, the one code Discuz! X3.5's password page stops on (it
   * shows "old password wrong"). Any other code, UCenter's -8 "protected" too, falls through to
   * "changed": a local random password, a "password changed" mail, a success page.
   */
  EDIT_REFUSED: -1,
  EDIT_NOTHING_CHANGED: -7,
  EDIT_PROTECTED: -8,
} as const;

/** The decoded `input` of a client API call: strings by name. */
export type UcInput = Record<string, string>;

export interface UcenterDeps {
  apps: UcenterAppRegistry;
  users: UserRepository;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  audit: AuditLog;
  sync: SyncPlanner;
  twoStep: TwoStepService;
  /** The policy for passwords people choose (length, strength, breached list): user/edit's new passwords too. */
  passwords: PasswordPolicy;
  /** Ends the user's sessions, grants and tokens when user/edit changes the password. */
  lifecycle: AccountLifecycle;
  /** user/edit's new e-mail address goes through it: a link to the new address, a notice to the old. */
  emailChange: Pick<EmailChange, 'requestProven' | 'available'>;
  /** user/login's password check, shared with the portal and the password grant. */
  check: PasswordCheck;
  /** Tells the owner when user/edit set a new password (ASVS 5 §6.3.7), as the account page does. */
  notices: Pick<OwnerNotices, 'passwordChanged'>;
  /** The hub's own entry in `app/ls`, as in the `updateapps` list. */
  hub: HubEntry;
}

function whole(value: string | undefined): number {
  return /^\d{1,15}$/.test(value ?? '') ? Number(value) : 0;
}

/** The sign-in throttle's per-application count of an application: its registration (a later one under its app id starts afresh). */
function appCount(app: UcenterApp): string {
  return `ucenter:${registrationKey(app)}`;
}

/** The audit log's client name for an application. */
export function auditClient(app: UcenterApp): string {
  return `ucenter:${app.appId}`;
}

/**
 * The hub's side of the UCenter client API: each method is one `m/a` action, taking the
 * decoded input and answering what UCenter answers (an array for XML, or a number/string).
 */
export class UcenterService {
  constructor(private readonly deps: UcenterDeps) {}

  async #findUser(login: string, isuid: number): Promise<User | undefined> {
    if (isuid === 1) return this.deps.users.findByUid(whole(login));
    // By username (0) or by e-mail (2), as UCenter looks them up: Discuz!'s "auto" login asks by
    // e-mail, then by username with the same text; an e-mail address found both times counted
    // one mistyped password twice against the account.
    return isuid === 2 ? this.deps.users.findByEmail(login) : this.deps.users.findByUsername(login);
  }

  /**
   * user/logincheck → how many sign-ins the user may still try now (Discuz! asks before every
   * login and shows "N attempts left" after a failure), 0 while the account or the address waits
   * out a delay (Discuz!: "too many attempts"). Read only: nothing is counted.
   */
  async loginCheck(app: UcenterApp, input: UcInput, requestIp: string): Promise<number> {
    const login = (input.username ?? '').slice(0, 320);
    const ip = input.ip && isIP(input.ip) ? input.ip : requestIp;
    const user = await this.deps.users.findByLogin(login);
    return this.deps.throttle.attemptsLeft({ ip, account: user?.id ?? login, via: 'app', app: appCount(app) });
  }

  /**
   * user/login → [uid or code, username, password, email, duplicate]. The hub never echoes
   * the password back (UCenter does, in clear, in its answer): that slot is empty.
   * Throttling, lockout, audit and disabled users are the portal's: same limits, same log.
   *
   * Two-step sign-in: UCenter has no second factor, but it has a security question
   * (`checkques`, `questionid`, `answer`), which Discuz! asks when the answer is -3. A user
   * with two-step on answers any question with the current code from the app (or a recovery
   * code); without one the answer is -3, so the application asks for it. The hub has no
   * security questions otherwise: a question asked for any other user cannot be answered right.
   */
  async login(app: UcenterApp, input: UcInput, requestIp: string): Promise<UcValue[]> {
    const { users, check, audit, twoStep } = this.deps;
    const login = (input.username ?? '').slice(0, 320);
    const password = (input.password ?? '').slice(0, 1024);
    const isuid = whole(input.isuid);
    // The application passes its user's address; without one, the application server's counts.
    const ip = input.ip && isIP(input.ip) ? input.ip : requestIp;
    const client = auditClient(app);
    const found = isuid === 0 || isuid === 1 || isuid === 2 ? await this.#findUser(login, isuid) : undefined;
    const questionAsked = whole(input.checkques) > 0 && whole(input.questionid) > 0;
    // No device cookie from an application's server: throttled per account and IP (as the password grant).
    // Whether two-step is on is read within the check: a question asked of a user without it
    // cannot be answered right, and counts as a failure like a wrong password.
    const outcome = await check.check({ login, user: found, password, ip, via: 'app', app: appCount(app), twoStep: 'in-check', accept: (withTwoStep) => withTwoStep || !questionAsked });
    switch (outcome.kind) {
      case 'throttled':
        // Over the application's own limit (UCENTER_MAX_FAILURES_PER_APP): said so in the entry,
        // a leaked key's spray shows as such rather than as one account's throttling.
        await audit.record({ event: 'login.throttled', actor: login, client, ip, ...(outcome.error.limit ? { detail: { limit: outcome.error.limit } } : {}) });
        return [UC.LOGIN_TOO_MANY_ATTEMPTS, '', '', '', 0];
      case 'busy':
        // Busy: UCenter's "too many attempts" (the application tells its user to try later), not counted.
        return [UC.LOGIN_TOO_MANY_ATTEMPTS, '', '', '', 0];
      case 'wrong': {
        const { user, reason } = outcome;
        await audit.record({ event: 'login.failure', actor: login, ...(user ? { subject: user.id } : {}), client, ip });
        const code = reason === 'unknown' ? UC.LOGIN_UNKNOWN_USER : reason === 'refused' ? UC.LOGIN_BAD_QUESTION : UC.LOGIN_WRONG_PASSWORD;
        return [code, user && !user.disabled ? user.username : '', '', user && !user.disabled ? user.email : '', 0];
      }
      case 'unverified':
        // UCenter has no code for it: refused like a disabled account.
        await audit.record({ event: 'login.unverified', actor: outcome.user.id, subject: outcome.user.id, client, ip });
        return [UC.LOGIN_WRONG_PASSWORD, '', '', '', 0];
      case 'gone':
        // Removed a moment ago (an unverified sign-up past its days): unknown.
        await audit.record({ event: 'login.failure', actor: login, subject: outcome.user.id, client, ip });
        return [UC.LOGIN_UNKNOWN_USER, '', '', '', 0];
      case 'ok':
        break;
    }
    const { user, secondStep: withTwoStep } = outcome;
    let detail: Record<string, string> | undefined;
    if (withTwoStep) {
      const refused = [UC.LOGIN_BAD_QUESTION, user.username, '', user.email, 0];
      if (!questionAsked) {
        await audit.record({ event: 'login.password', actor: user.id, subject: user.id, client, ip, detail: { next: 'two-step' } });
        return refused;
      }
      let factor;
      try {
        factor = await twoStep.verifyThrottled({ ip, account: user.id, via: 'app' }, input.answer ?? '');
      } catch (error) {
        if (!(error instanceof TooManyAttemptsError)) throw error;
        await audit.record({ event: 'login.throttled', actor: user.id, subject: user.id, client, ip, detail: { step: 'two-step' } });
        return [UC.LOGIN_TOO_MANY_ATTEMPTS, '', '', '', 0];
      }
      if (!factor) {
        await audit.record({ event: 'login.failure', actor: user.id, subject: user.id, client, ip, detail: { step: 'two-step' } });
        return refused;
      }
      detail = { second_factor: factor };
    }
    await audit.record({ event: 'login.success', actor: user.id, subject: user.id, client, ip, ...(detail ? { detail } : {}) });
    return [await users.uidOf(user), user.username, '', user.email, 0];
  }

  /** user/get_user → [uid, username, email], or 0. */
  async getUser(input: UcInput): Promise<UcValue[] | number> {
    // By uid, or by username as UCenter looks it up: never by e-mail address, which would tell
    // any application which addresses have an account (check_email tells only registering ones).
    const login = input.username ?? '';
    const user = whole(input.isuid) ? await this.deps.users.findByUid(whole(login)) : await this.deps.users.findByUsername(login);
    if (!user || user.disabled) return 0;
    return [await this.deps.users.uidOf(user), user.username, user.email];
  }

  /** user/check_username → 1, -1 (not a valid name), -3 (taken). */
  async checkUsername(input: UcInput): Promise<number> {
    const username = (input.username ?? '').trim();
    if (!isValidUsername(username)) return UC.USERNAME_INVALID;
    return (await this.deps.users.findByLogin(username)) ? UC.USERNAME_EXISTS : 1;
  }

  /**
   * user/check_email as an application asks it: only one that may create users (`allowRegister`)
   * learns whether an address is taken (its registration form needs to). Any other is told
   * whether it is an address at all: its forms, open to anyone, must not tell which addresses
   * have an account at the hub (a changed address goes through the account page's mail anyway).
   */
  async checkEmailFor(app: UcenterApp, input: UcInput): Promise<number> {
    if (app.allowRegister) return this.checkEmail(input);
    return EMAIL.test((input.email ?? '').trim()) ? 1 : UC.EMAIL_INVALID;
  }

  /** user/check_email → 1, -4 (not an address), -6 (taken). */
  async checkEmail(input: UcInput): Promise<number> {
    const email = (input.email ?? '').trim();
    if (!EMAIL.test(email)) return UC.EMAIL_INVALID;
    return (await this.deps.users.findByLogin(email)) ? UC.EMAIL_EXISTS : 1;
  }

  /** user/register → the new uid, a check code, or 0 where the application may not create users. */
  async register(app: UcenterApp, input: UcInput): Promise<number> {
    if (!app.allowRegister) return 0;
    const nameCode = await this.checkUsername(input);
    if (nameCode < 0) return nameCode;
    const emailCode = await this.checkEmail(input);
    if (emailCode < 0) return emailCode;
    const username = input.username!.trim();
    const email = input.email!.trim();
    const password = input.password ?? '';
    try {
      // The one policy for passwords people choose (length, strength, breached list), as at the
      // hub's sign-up: an application's registration form is no way around it. UCenter has no
      // code for a refused password: 0, as for one too short.
      await this.deps.passwords.check(password, { username, email, name: username });
    } catch (error) {
      if (error instanceof PasswordRejectedError) return 0;
      throw error;
    }
    try {
      const created = await this.deps.users.create({ username, email, password });
      await this.deps.audit.record({ event: 'admin.user.create', actor: auditClient(app), subject: created.id, client: auditClient(app) });
      return created.uid ?? 0;
    } catch (error) {
      if (error instanceof ConflictError) return UC.USERNAME_EXISTS;
      if (error instanceof ValidationError) return 0; // e.g. a password shorter than the hub's policy
      throw error;
    }
  }

  /**
   * user/edit: the user's own password and e-mail change, proven by the old password (the
   * portal's throttle applies). `ignoreoldpw` (an application's admin overriding the user)
   * answers -8, "protected": the hub, not an application, is where accounts are administered.
   *
   * A new password follows the account page's rules: the password policy (length, strength,
   * breached list), else -1 and nothing changes (-7 for one equal to the old). A changed
   * password ends every hub session, grant and token of the user, with a back-channel logout
   * at subsites, as a password reset does: the application has no hub session to keep.
   *
   * Two-step sign-in: a user who turned it on changes neither password nor address here (-1,
   * after the right old password only). UCenter has no second factor to ask for, and the old
   * password alone is what two-step makes not enough: with it, a new password would end the
   * owner's sessions and a new address would take their mail, the way back into the account.
   */
  async edit(app: UcenterApp, input: UcInput, requestIp: string): Promise<number> {
    const { users, hasher, throttle, audit, passwords, lifecycle, emailChange, twoStep } = this.deps;
    if (whole(input.ignoreoldpw)) return UC.EDIT_PROTECTED;
    const user = await users.findByLogin(input.username ?? '');
    const ip = input.ip && isIP(input.ip) ? input.ip : requestIp;
    const attempt = { ip, account: user?.id ?? (input.username ?? ''), via: 'app' as const, app: appCount(app) };
    let admitted;
    try {
      admitted = await throttle.attempt(attempt);
    } catch (error) {
      if (!(error instanceof TooManyAttemptsError)) throw error;
      if (error.limit) await audit.record({ event: 'login.throttled', actor: user?.id ?? (input.username ?? '').slice(0, 320), ...(user ? { subject: user.id } : {}), client: auditClient(app), ip, detail: { limit: error.limit, call: 'user/edit' } });
      return UC.EDIT_WRONG_OLD_PASSWORD;
    }
    const oldPassword = input.oldpw ?? '';
    let ok: boolean;
    try {
      ok = await throttle.checking(admitted, () => hasher.verify(user?.passwordHash, oldPassword));
    } catch (error) {
      // Busy: given back, nothing changed, and said so in the one code Discuz! stops on.
      if (error instanceof BusyError) return UC.EDIT_REFUSED;
      throw error;
    }
    if (!user || !ok || user.disabled) {
      await throttle.failed(admitted);
      return UC.EDIT_WRONG_OLD_PASSWORD;
    }
    // Read beside the success (one wait), and only after the right password: a wrong one learns
    // nothing of the account's second step.
    const [, withTwoStep] = await Promise.all([throttle.succeeded(admitted), twoStep.isEnabled(user.id)]);
    if (withTwoStep) {
      // Audited as user/login's refusal for want of the second step: the right password of a
      // two-step user, the strongest sign of a stolen one, in the main log.
      await audit.record({ event: 'login.password', actor: user.id, subject: user.id, client: auditClient(app), ip, detail: { next: 'two-step', call: 'user/edit' } });
      return UC.EDIT_REFUSED;
    }
    const newEmail = (input.email ?? '').trim();
    const emailChanges = Boolean(newEmail) && foldAddress(newEmail) !== foldAddress(user.email);
    if (emailChanges) {
      // As check_email answers this application: whether another account holds the address only
      // to one that may create users. Any other gets a free address's answer (the change below
      // then sends that address no link, as the account page does): -6 was shown by Discuz!'s
      // profile page to any member, who could ask it about every address (an attacker's review).
      const code = await this.checkEmailFor(app, { email: newEmail });
      if (code < 0) return code;
    }
    const newPassword = input.newpw ?? '';
    if (!newPassword && !emailChanges) return UC.EDIT_NOTHING_CHANGED;
    // The account page's rules (which include the stored password's length bounds), before
    // anything is written: a refused password leaves the e-mail address too.
    if (newPassword) {
      if (newPassword === oldPassword) return UC.EDIT_NOTHING_CHANGED;
      try {
        await passwords.check(newPassword, { username: user.username, email: user.email, name: user.name });
      } catch (error) {
        if (error instanceof PasswordRejectedError) return UC.EDIT_REFUSED;
        throw error;
      }
    }
    // A new address is proven by a link sent to it: where the hub sends no mail, nothing changes.
    if (emailChanges && !emailChange.available) return UC.EMAIL_NOT_ALLOWED;
    // The user as stored after a new password: the e-mail change is stamped with the new password.
    let current = user;
    let ended: Record<string, number> = {};
    if (newPassword) {
      try {
        current = await users.setPassword(user.id, newPassword);
      } catch (error) {
        if (error instanceof BusyError) return UC.EDIT_REFUSED; // not hashed: nothing written
        throw error;
      }
      // Before the e-mail change is asked for: ending every session renews the sign-in generation,
      // which an e-mail change link carries (a link asked for before the sessions ended dies with them).
      ended = await lifecycle.signOutEverywhere(user.id);
      current = (await users.findById(user.id)) ?? current;
    }
    let emailRequested = false;
    if (emailChanges) {
      // Never on the application's word alone: the account page's change, a single-use link to the
      // new address and a notice to the old; the address changes once the link is used (nobody
      // can take an address they cannot read). Asked after a new password is set: a change asked
      // before it would die with it, as the account page's do.
      try {
        await emailChange.requestProven(current, newEmail, user.locale ?? 'en', ip);
        emailRequested = true;
      } catch (error) {
        if (!(error instanceof HubError)) throw error;
        // Too many mails this hour, say: the address stays; with no new password nothing changed.
        if (!newPassword) return UC.EMAIL_NOT_ALLOWED;
      }
    }
    await audit.record({ event: 'admin.user.password', actor: user.id, subject: user.id, client: auditClient(app), ip, detail: { password: Boolean(newPassword), email: emailRequested, ...ended } });
    // The owner hears of it, as after a change on the account page: whoever had the old password
    // (a phished one) changed it at a forum and signed the owner out everywhere (a review: no mail).
    if (newPassword) this.deps.notices.passwordChanged(current, user.locale ?? 'en');
    return 1;
  }

  /**
   * The synlogin/synlogout notes for every application with sync on (but `exceptAppId`, the
   * one asking), as beacons for the hub's sync page. A synlogin note names uid and username
   * only: never a password or a hash.
   */
  async noteBeacons(act: SyncAction, user?: { uid: number; username: string }, exceptAppId?: number): Promise<Beacon[]> {
    if (act === 'login' && !user) return [];
    return UcenterService.#beacons(await this.#syncApps(exceptAppId), act, user);
  }

  /** The applications with sync on, but `exceptAppId`. */
  async #syncApps(exceptAppId?: number): Promise<UcenterApp[]> {
    return (await this.deps.apps.list()).filter((app) => app.synlogin && app.appId !== exceptAppId);
  }

  static #beacons(apps: UcenterApp[], act: SyncAction, user?: { uid: number; username: string }): Beacon[] {
    return apps.map((app) => ({
      clientId: auditClient(app),
      url: act === 'login' ? noteRequestUrl(app, 'synlogin', { uid: user!.uid, username: user!.username }) : noteRequestUrl(app, 'synlogout'),
      transport: 'script' as const,
      ucenter: true,
      // Discuz! X's api/uc.php sets or clears its cookie in a header: an image does it where no script may run.
      ...(app.type === 'DISCUZX' ? { asImage: true } : {}),
    }));
  }

  /** The sync page's UCenter beacons for a user signing in at the hub (or out). */
  async syncBeacons(act: SyncAction, accountId: string | undefined): Promise<Beacon[]> {
    if (act === 'logout') return this.noteBeacons('logout');
    if (!accountId) return [];
    // The applications first: with none (most hubs), a sign-in need not read its user again.
    const apps = await this.#syncApps();
    if (apps.length === 0) return [];
    const user = await this.deps.users.findById(accountId);
    if (!user) return [];
    return UcenterService.#beacons(apps, 'login', { uid: await this.deps.users.uidOf(user), username: user.username });
  }

  /** user/synlogin → script tags for the other applications, or '' (UCenter's answer for an unknown uid). */
  async synlogin(app: UcenterApp, input: UcInput): Promise<string> {
    if (!app.synlogin) return '';
    const user = await this.deps.users.findByUid(whole(input.uid));
    if (!user || user.disabled) return '';
    const beacons = await this.noteBeacons('login', { uid: await this.deps.users.uidOf(user), username: user.username }, app.appId);
    return beacons.map((beacon) => scriptTag(beacon.url)).join('');
  }

  /**
   * user/synlogout → script tags that sign the browser out of the other UCenter applications
   * and of the hub's OIDC subsites (their synclogout beacons, as scripts: the kit answers
   * those with an empty body).
   */
  async synlogout(app: UcenterApp): Promise<string> {
    if (!app.synlogin) return '';
    const tags = (await this.noteBeacons('logout', undefined, app.appId)).map((beacon) => scriptTag(beacon.url));
    const plan = await this.deps.sync.forEverySubsite('logout');
    for (const beacon of plan.beacons) if (!beacon.ucenter) tags.push(scriptTag(beacon.url));
    return tags.join('');
  }

  /** app/ls → the hub's entry and every application by app id, with UCenter's fields (app-rows.ts). */
  async appList(): Promise<Record<string, UcValue>> {
    return appLsList(await this.deps.apps.list(), this.deps.hub);
  }
}
