import { ConflictError, HubError, msg, TooManyAttemptsError, ValidationError } from '../errors.js';
import type { WindowLimit } from '../security/window-limit.js';
import { digest } from '../store/keys.js';
import type { LoginThrottle, SignInAttempt } from '../security/login-throttle.js';
import { looksLikeRecoveryCode, newRecoveryCodes, newRecoverySalt, recoveryCodeDigest, saltedRecoveryCodeDigest, recoverySaltOf } from './recovery-codes.js';
import { SealError, type Sealed, type SecretBox } from './secret-box.js';
import { looksLikeTotp, newTotpSecret, STEP_MEMORY_SECONDS, totpStep, totpUri } from './totp.js';
import { CHANGE_ATTEMPTS, listsRecoveryCode, OLDER_HUB_HOLDER, type TwoStepRecord, type TwoStepRepository } from './two-step-repository.js';

/**
 * qrcode (with pngjs) is loaded on the first enrolment, not at start-up: a running hub draws a
 * QR code only when someone turns two-step sign-in on (hub/src/lazy-modules.test.ts checks it).
 */
async function qrCode(): Promise<typeof import('qrcode')> {
  return (await import('qrcode')).default;
}

/** How the second step was passed; it decides the `amr` values of the sign-in (RFC 8176). */
export type SecondFactor = 'totp' | 'recovery';

/** A right second-step answer not yet used up: `spend()` uses it (once; false when it was used meanwhile). */
export interface HeldFactor {
  factor: SecondFactor;
  spend(): Promise<boolean>;
}

/** RFC 8176 `amr` values: the password, then a one-time password (TOTP) or a recovery code; both are multi-factor. */
export function amrFor(factor?: SecondFactor): string[] {
  if (factor === 'totp') return ['pwd', 'otp', 'mfa'];
  if (factor === 'recovery') return ['pwd', 'mfa'];
  return ['pwd'];
}

/**
 * A user's two-step secret is sealed with a key this hub does not have (the store lost
 * `secrets:two-step-keys` and a new one was made, or HUB_TOTP_KEYS changed): app codes cannot
 * be checked. Recovery codes, kept as digests, still work. A page says so instead of a bare 500.
 */
export class TwoStepKeyMissingError extends HubError {
  override readonly name = 'TwoStepKeyMissingError';
  constructor(cause: SealError) {
    super(500, msg('errors:twoStepKeyMissing'), { cause });
  }
}

const PENDING_ENROLMENT_SECONDS = 15 * 60; // a started enrolment waits this long for its first code

export interface TwoStepStatus {
  enabled: boolean;
  enabledAt?: number; // epoch seconds
  recoveryCodesLeft: number;
}

export interface Enrolment {
  /** Base32, for typing into an app by hand. */
  secret: string;
  uri: string;
  /** The QR code of `uri` as a `data:image/png` URL (the hub's CSP allows `img-src data:`, no inline markup). */
  qrDataUrl: string;
}

/** Sets of recovery codes one account makes in an hour at most (each set is ten argon2id runs). */
export const RECOVERY_SETS_PER_HOUR = 5;

/**
 * Two-step sign-in (TOTP, RFC 6238, with ten single-use recovery codes): enrolment,
 * verification with replay protection and its own throttle, removal. Secrets are sealed
 * with the hub's key-encryption keys; recovery codes are kept as digests only.
 */
export class TwoStepService {
  constructor(
    private readonly repository: TwoStepRepository,
    private readonly box: SecretBox,
    /** Failures at the second step, counted like password failures (device cookies, backoff), in pools of their own. */
    private readonly throttle: LoginThrottle,
    /** The issuer name authenticator apps show next to the account. */
    private readonly issuerName: string,
    /** Runs an argon2 operation in its turn (the password hasher's turns): recovery codes' digests. */
    private readonly argon2Turn: <T>(work: () => Promise<T>) => Promise<T> = (work) => work(),
    /** Counts new sets of recovery codes per account ({@link RECOVERY_SETS_PER_HOUR}); unset: not limited (tests of the service alone). */
    private readonly recoverySets?: WindowLimit,
  ) {}

  /** A new set of recovery codes: the codes to show once, their salted digests and the salt. */
  async #newRecoverySet(): Promise<{ codes: string[]; recovery: string[]; recoverySalt: string }> {
    const codes = newRecoveryCodes();
    const recoverySalt = newRecoverySalt();
    // The ten digests in one turn, one after another: ten turns at once took ten places of the
    // queue (its limit refused an enrolment where it is small) and ran ahead of sign-ins waiting.
    const recovery = await this.argon2Turn(async () => {
      const digests: string[] = [];
      for (const code of codes) digests.push(await saltedRecoveryCodeDigest(code, recoverySalt));
      return digests;
    });
    return { codes, recovery, recoverySalt };
  }

  /** The digest a code has in this enrolment: salted argon2id, or SHA-256 in codes an older hub made. */
  #recoveryDigest(record: TwoStepRecord, answer: string): Promise<string> | string {
    const salt = recoverySaltOf(record);
    return salt ? saltedRecoveryCodeDigest(answer, salt, this.argon2Turn) : recoveryCodeDigest(answer);
  }

  async status(userId: string): Promise<TwoStepStatus> {
    const record = await this.repository.find(userId);
    if (!record) return { enabled: false, recoveryCodesLeft: 0 };
    return { enabled: true, enabledAt: record.enabledAt, recoveryCodesLeft: await this.repository.unusedRecoveryCodes(userId, record) };
  }

  isEnabled(userId: string): Promise<boolean> {
    return this.repository.isEnabled(userId);
  }

  /**
   * Starts (or shows again) an enrolment: a secret kept pending until a first code confirms it,
   * held by the hub session that started it (`sessionUid`). Another session of the user (a
   * second browser, or a stolen session) never sees it: its visit starts a set-up of its own,
   * which replaces the first (whose confirmation is then refused as expired, and starts again).
   */
  async beginEnrolment(userId: string, accountLabel: string, sessionUid: string): Promise<Enrolment> {
    const holder = digest(sessionUid);
    const pending = await this.repository.findPending(userId);
    // A set-up of another session, or sealed with a key this hub does not have, starts afresh.
    let secret = pending && pending.holder === holder ? this.#openPending(pending.secret, userId) : undefined;
    if (!secret) {
      secret = newTotpSecret();
      await this.repository.savePending(userId, { secret: this.box.seal(secret, userId), holder }, PENDING_ENROLMENT_SECONDS);
    }
    const uri = totpUri(secret, this.issuerName, accountLabel);
    return { secret, uri, qrDataUrl: await (await qrCode()).toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 220 }) };
  }

  /**
   * Confirms a pending enrolment with a first code from the app: two-step is on and the
   * recovery codes come back, to be shown once. Otherwise why not: the set-up expired, or
   * the code is wrong.
   */
  async confirmEnrolment(userId: string, sessionUid: string, code: string): Promise<{ codes: string[] } | { refused: 'enrolExpired' | 'enrolCode' }> {
    const pending = await this.repository.findPending(userId);
    // Only the session that started the set-up confirms it (see beginEnrolment). One an older hub
    // started (a rolling update: its page on an older process, the code sent to this one) is held
    // by no session, as that version showed it to every session of the user: the code confirms it
    // here as it would have there (it was refused as expired, and a new QR code shown).
    const held = pending && (pending.holder === digest(sessionUid) || pending.holder === OLDER_HUB_HOLDER);
    const secret = held ? this.#openPending(pending.secret, userId) : undefined;
    if (!secret) return { refused: 'enrolExpired' };
    const step = totpStep(secret, code);
    if (step === undefined || !(await this.repository.claimStep(userId, step, STEP_MEMORY_SECONDS))) return { refused: 'enrolCode' };
    const { codes, recovery, recoverySalt } = await this.#newRecoverySet();
    const now = Math.floor(Date.now() / 1000);
    // Only while no enrolment is stored, in the write itself: the page checks that two-step is off
    // before this, and an enrolment of another session (another tab) that landed since is not
    // replaced (its authenticator and codes would stop working); this set-up is refused as
    // expired, and the page then shows two-step on.
    const record = { v: 1 as const, secret: this.box.seal(secret, userId), enabledAt: now, recovery, recoveryIssuedAt: now, recoverySalt };
    if (!(await this.repository.replace(userId, undefined, record))) return { refused: 'enrolExpired' };
    await this.repository.dropPending(userId);
    return { codes };
  }

  /**
   * New recovery codes; the old ones stop working. Compare-and-set on the enrolment: two at once
   * leave one set working (the other is made again over it), and two-step turned off meanwhile
   * stays off (ValidationError, as for an account without it). Past {@link RECOVERY_SETS_PER_HOUR}
   * sets this hour: TooManyAttemptsError, nothing made.
   */
  async regenerateRecoveryCodes(userId: string): Promise<string[]> {
    // A set is ten argon2id runs, ten times the password check that proves the request: without a
    // limit one account (anyone's, with open sign-up) could keep the hub's argon2 turns busy.
    const wait = await this.recoverySets?.count(userId);
    if (wait !== undefined) throw new TooManyAttemptsError(wait);
    for (let attempt = 0; attempt < CHANGE_ATTEMPTS; attempt += 1) {
      const stored = await this.repository.read(userId);
      if (!stored) throw new ValidationError(msg('errors:twoStepNotOn'));
      const { codes, recovery, recoverySalt } = await this.#newRecoverySet();
      const record = { ...stored.record, recovery, recoveryIssuedAt: Math.floor(Date.now() / 1000), recoverySalt };
      if (await this.repository.replace(userId, stored, record)) return codes;
    }
    throw new ConflictError(msg('errors:busyRecord'));
  }

  /** Turns two-step off; true if it was on. */
  disable(userId: string): Promise<boolean> {
    return this.repository.remove(userId);
  }

  /**
   * Checks a second-step answer, a TOTP code or a recovery code, without the throttle: a
   * TOTP code is accepted once (its time step is claimed), a recovery code is spent.
   */
  async verify(userId: string, input: string): Promise<SecondFactor | undefined> {
    const answer = input.trim().slice(0, 64);
    if (looksLikeTotp(answer)) {
      const record = await this.repository.find(userId);
      if (!record) return undefined;
      const step = totpStep(this.#open(record.secret, userId), answer);
      if (step === undefined) return undefined;
      // Replay: a code already used (or older than one used) is refused within its window.
      return (await this.repository.claimStep(userId, step, STEP_MEMORY_SECONDS)) ? 'totp' : undefined;
    }
    if (looksLikeRecoveryCode(answer)) {
      // Only a code the enrolment lists: a key left behind (a change cut off part-way) never works.
      const record = await this.repository.find(userId);
      if (!record) return undefined;
      const codeDigest = await this.#recoveryDigest(record, answer);
      if (!listsRecoveryCode(record, codeDigest)) return undefined;
      return (await this.repository.takeRecoveryCode(userId, codeDigest)) ? 'recovery' : undefined;
    }
    return undefined;
  }

  /**
   * What {@link verify} decides, without using the answer up (one read more than `verify`,
   * which checks and spends in one write): a right answer comes back held,
   * spent only by its `spend()` (false when it was used elsewhere meanwhile: a recovery code
   * taken, a TOTP step claimed). For an action that may still be refused after the second step
   * (the last admin's self-deletion): a refusal costs the owner no single-use code.
   */
  async #check(userId: string, input: string): Promise<HeldFactor | undefined> {
    const answer = input.trim().slice(0, 64);
    if (looksLikeTotp(answer)) {
      const record = await this.repository.find(userId);
      if (!record) return undefined;
      const step = totpStep(this.#open(record.secret, userId), answer);
      // Replay: a code already used (or older than one used) is refused within its window.
      if (step === undefined || !(await this.repository.stepIsFree(userId, step))) return undefined;
      return { factor: 'totp', spend: () => this.repository.claimStep(userId, step, STEP_MEMORY_SECONDS) };
    }
    if (looksLikeRecoveryCode(answer)) {
      const record = await this.repository.find(userId);
      if (!record) return undefined;
      const codeDigest = await this.#recoveryDigest(record, answer);
      if (!listsRecoveryCode(record, codeDigest)) return undefined;
      if (!(await this.repository.hasRecoveryCode(userId, codeDigest))) return undefined;
      return { factor: 'recovery', spend: () => this.repository.takeRecoveryCode(userId, codeDigest) };
    }
    return undefined;
  }

  /** A pending set-up's secret; undefined when it does not open (it is replaced by a new one). */
  #openPending(sealed: Sealed, userId: string): string | undefined {
    try {
      return this.box.open(sealed, userId);
    } catch (error) {
      if (error instanceof SealError) return undefined;
      throw error;
    }
  }

  #open(sealed: Sealed, userId: string): string {
    try {
      return this.box.open(sealed, userId);
    } catch (error) {
      if (error instanceof SealError) throw new TwoStepKeyMissingError(error);
      throw error;
    }
  }

  /**
   * `verify` under the second step's throttle: throws TooManyAttemptsError while the attempt's
   * pool waits out its delay; a wrong answer counts as a failure, a right one clears its pool.
   */
  async verifyThrottled(attempt: SignInAttempt, input: string): Promise<SecondFactor | undefined> {
    return this.#throttled(attempt, () => this.verify(attempt.account, input));
  }

  /**
   * As {@link verifyThrottled}, but a right answer is held, not used up (see `#check`): the
   * throttle judges the answer now (a wrong one counts as a failure), the caller spends it once
   * nothing else can refuse the action it proves.
   */
  checkThrottled(attempt: SignInAttempt, input: string): Promise<HeldFactor | undefined> {
    return this.#throttled(attempt, () => this.#check(attempt.account, input));
  }

  async #throttled<T>(attempt: SignInAttempt, check: () => Promise<T | undefined>): Promise<T | undefined> {
    const admitted = await this.throttle.attempt(attempt);
    let passed: T | undefined;
    try {
      passed = await check();
    } catch (error) {
      // Not checked (the store failed): neither a failure nor a held pool.
      await this.throttle.release(admitted).catch(() => undefined);
      throw error;
    }
    if (passed) await this.throttle.succeeded(admitted);
    else await this.throttle.failed(admitted);
    return passed;
  }
}
