import { BusyError, TooManyAttemptsError } from '../errors.js';
import type { LoginThrottle, SignInAttempt } from '../security/login-throttle.js';
import { awaitsVerification } from '../signup/verification-gate.js';
import type { TwoStepService } from '../two-step/two-step-service.js';
import type { PasswordHasher } from './passwords.js';
import type { User } from './user.js';
import type { UserRepository } from './user-repository.js';

/**
 * Why a password check failed (each counted as a failure):
 * - `unknown`: the login names no user (checked against a decoy hash all the same);
 * - `password`: the password is wrong;
 * - `disabled`: the password is right but the account is disabled;
 * - `refused`: the password is right, and the caller's own condition (`accept`) said no.
 */
export type WrongReason = 'unknown' | 'password' | 'disabled' | 'refused';

/** What a password check came to. Callers answer each in their own way and write their own audit entries. */
export type PasswordCheckOutcome =
  /** Too many attempts: not checked, nothing counted; try again after `retryAfter` seconds. */
  | { kind: 'throttled'; retryAfter: number; error: TooManyAttemptsError }
  /** Too many checks waiting: not checked, the attempt given back (no failure). */
  | { kind: 'busy'; retryAfter: number; error: BusyError }
  /** Counted as a failure. `user` is the one the login names, if any. */
  | { kind: 'wrong'; reason: WrongReason; user: User | undefined }
  /** The right password (counted as a success), but the account waits for its address's verification (HUB_REQUIRE_VERIFIED_EMAIL). */
  | { kind: 'unverified'; user: User }
  /** The right password, but the account was removed a moment ago (an unverified sign-up past its days): answered as unknown. */
  | { kind: 'gone'; user: User }
  /** Signed in by password. `secondStep`: whether two-step sign-in is on, when it was asked for (`twoStep`). */
  | { kind: 'ok'; user: User; secondStep?: boolean };

export interface PasswordCheckRequest {
  /** The login as typed (the throttle's account key when it names no user). */
  login: string;
  /** The user the login names, looked up by the caller (by username, e-mail or uid). */
  user: User | undefined;
  password: string;
  ip: string;
  via: SignInAttempt['via'];
  /** The application the password came through, where it reports the address itself (UCenter's user/login): counted per application too. */
  app?: string;
  /** A valid device cookie's id for this user (the portal): judged by its own failures only. */
  device?: string;
  /**
   * Whether two-step sign-in is on is read too (`secondStep` of an `ok`), for a right password
   * of an enabled account only: `with-success` while the success is counted (one wait, not
   * two); `in-check` inside the check itself, where `accept` can judge by it. Unread by default.
   */
  twoStep?: 'with-success' | 'in-check';
  /** A condition of the caller's besides the password (UCenter's security question): false counts as a failure (`refused`). */
  accept?: (secondStep: boolean) => boolean;
}

export interface PasswordCheckDeps {
  users: UserRepository;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  twoStep: TwoStepService;
  /** HUB_REQUIRE_VERIFIED_EMAIL: self-signed-up accounts sign in only once their address is verified. */
  requireVerifiedEmail: boolean;
}

/**
 * The one password sign-in check of the portal's sign-in form, the password grant and UCenter's
 * user/login, so its security rules are written once: the throttle first (per device cookie,
 * else per account and IP, with growing delays; username and e-mail of one user share one
 * count), the password verified against a decoy hash for an unknown login (same time, same
 * answer), a busy hasher neither a failure nor a held place, a disabled account a failure,
 * the verification gate told only after the right password, an unverified sign-up that signs in
 * kept from then on, and the hash brought up to the current policy.
 */
export class PasswordCheck {
  constructor(private readonly deps: PasswordCheckDeps) {}

  async check(request: PasswordCheckRequest): Promise<PasswordCheckOutcome> {
    const { users, hasher, throttle, twoStep } = this.deps;
    const { user, password } = request;
    const attempt: SignInAttempt = { ip: request.ip, account: user?.id ?? request.login, via: request.via, ...(request.device ? { device: request.device } : {}), ...(request.app !== undefined ? { app: request.app } : {}) };
    let admitted;
    try {
      admitted = await throttle.attempt(attempt);
    } catch (error) {
      if (!(error instanceof TooManyAttemptsError)) throw error;
      return { kind: 'throttled', retryAfter: error.retryAfterSeconds, error };
    }
    let passwordOk: boolean;
    let secondStep: boolean | undefined;
    try {
      // Verified against a decoy hash for unknown users, so time and answer are the same.
      if (request.twoStep === 'in-check') {
        [passwordOk, secondStep] = await throttle.checking(admitted, async () => {
          const ok = await hasher.verify(user?.passwordHash, password);
          return [ok, user && ok && !user.disabled ? await twoStep.isEnabled(user.id) : false] as const;
        });
      } else {
        passwordOk = await throttle.checking(admitted, () => hasher.verify(user?.passwordHash, password));
      }
    } catch (error) {
      // Not checked (too many checks waiting): no failure (the attempt was given back).
      if (!(error instanceof BusyError)) throw error;
      return { kind: 'busy', retryAfter: error.retryAfterSeconds, error };
    }
    const reason: WrongReason | undefined = !user ? 'unknown' : !passwordOk ? 'password' : user.disabled ? 'disabled' : request.accept && !request.accept(secondStep ?? false) ? 'refused' : undefined;
    if (reason !== undefined || !user) {
      await throttle.failed(admitted);
      return { kind: 'wrong', reason: reason ?? 'unknown', user };
    }
    if (request.twoStep === 'with-success') [, secondStep] = await Promise.all([throttle.succeeded(admitted), twoStep.isEnabled(user.id)]);
    else await throttle.succeeded(admitted);
    // Told only after the right password: it reveals nothing to anyone who does not know it.
    if (awaitsVerification(user, this.deps.requireVerifiedEmail)) return { kind: 'unverified', user };
    if (!(await users.keepSignedIn(user))) return { kind: 'gone', user };
    if (hasher.needsRehash(user.passwordHash, password)) await users.rehash(user.id, password, user.passwordHash);
    return { kind: 'ok', user, ...(secondStep !== undefined ? { secondStep } : {}) };
  }
}
