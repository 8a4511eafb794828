import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import type { Sealed } from './secret-box.js';

/** A two-step set-up waiting for its first code: the sealed secret and a digest of the hub session that started it. */
export interface PendingEnrolment {
  secret: Sealed;
  holder: string;
}

/**
 * The holder of a set-up an older hub (before 76fabb4) started: its record is the bare sealed
 * secret, which that version showed to every session of the user.
 */
export const OLDER_HUB_HOLDER = '';

/** A user's two-step sign-in, as stored: the TOTP secret sealed, recovery codes only as digests. */
export interface TwoStepRecord {
  v: 1;
  secret: Sealed;
  enabledAt: number; // epoch seconds
  /** Digests of the recovery codes issued with the last (re)generation; each has a key while unused. */
  recovery: string[];
  recoveryIssuedAt: number; // epoch seconds
}

/**
 * Two-step enrolments in the store. Storage only: sealing and verifying are the service's
 * (`two-step-service.ts`), so the admin CLI can list and reset enrolments without the
 * hub's encryption keys.
 */
export class TwoStepRepository {
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  async find(userId: string): Promise<TwoStepRecord | undefined> {
    const raw = await this.store.get(this.keys.twoStep(userId));
    return raw ? (JSON.parse(raw) as TwoStepRecord) : undefined;
  }

  async isEnabled(userId: string): Promise<boolean> {
    return (await this.store.get(this.keys.twoStep(userId))) !== null;
  }

  /** Turns two-step on (or replaces it): the record, one key per recovery code; an old enrolment's codes go. */
  async save(userId: string, record: TwoStepRecord): Promise<void> {
    const previous = await this.find(userId);
    if (previous) await this.#dropCodes(userId, previous.recovery.filter((code) => !record.recovery.includes(code)));
    await Promise.all(record.recovery.map((code) => this.store.set(this.keys.twoStepRecoveryCode(userId, code), '1')));
    await this.store.set(this.keys.twoStep(userId), JSON.stringify(record));
  }

  /** Uses a recovery code: true once per code (GETDEL), false for an unknown or spent one. */
  async takeRecoveryCode(userId: string, codeDigest: string): Promise<boolean> {
    return (await this.store.take(this.keys.twoStepRecoveryCode(userId, codeDigest))) !== null;
  }

  /** Whether a recovery code is still unused (read only: {@link takeRecoveryCode} spends it). */
  async hasRecoveryCode(userId: string, codeDigest: string): Promise<boolean> {
    return (await this.store.get(this.keys.twoStepRecoveryCode(userId, codeDigest))) !== null;
  }

  /** How many of the record's recovery codes are still unused. */
  async unusedRecoveryCodes(userId: string, record: TwoStepRecord): Promise<number> {
    if (record.recovery.length === 0) return 0;
    const values = await this.store.getMany(record.recovery.map((code) => this.keys.twoStepRecoveryCode(userId, code)));
    return values.filter((value) => value !== null).length;
  }

  /** Whether {@link claimStep} would claim `step` now (read only: nothing is claimed). */
  async stepIsFree(userId: string, step: number): Promise<boolean> {
    const last = await this.store.get(this.keys.twoStepLastStep(userId));
    return last === null || Number(last) < step;
  }

  /**
   * The replay guard: claims TOTP time step `step` for the user, true only if no code of this
   * or a later step was accepted before (compare-and-set, so two concurrent uses of one code
   * cannot both pass). Kept `ttlSeconds`, as long as a code of that step could still verify.
   */
  async claimStep(userId: string, step: number, ttlSeconds: number): Promise<boolean> {
    const key = this.keys.twoStepLastStep(userId);
    const last = await this.store.get(key);
    if (last !== null && Number(last) >= step) return false;
    return this.store.swap(key, last, String(step), ttlSeconds);
  }

  /**
   * An enrolment started and not yet confirmed (expires on its own), with the session that
   * started it (`holder`, a digest): one per user, the newest replacing any other.
   */
  async savePending(userId: string, pending: PendingEnrolment, ttlSeconds: number): Promise<void> {
    await this.store.set(this.keys.twoStepPending(userId), JSON.stringify(pending), { ttlSeconds });
  }

  async findPending(userId: string): Promise<PendingEnrolment | undefined> {
    const raw = await this.store.get(this.keys.twoStepPending(userId));
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as PendingEnrolment | Sealed;
    // One saved before enrolments had a holder (an older hub) is the bare sealed secret.
    return 'secret' in parsed && 'holder' in parsed ? parsed : { secret: parsed as Sealed, holder: OLDER_HUB_HOLDER };
  }

  async dropPending(userId: string): Promise<void> {
    await this.store.del(this.keys.twoStepPending(userId));
  }

  /** Turns two-step off: the record, its recovery codes, a pending enrolment, the replay guard. Returns whether it was on. */
  async remove(userId: string): Promise<boolean> {
    const record = await this.find(userId);
    if (record) await this.#dropCodes(userId, record.recovery);
    const removed = await this.store.del(this.keys.twoStep(userId), this.keys.twoStepPending(userId), this.keys.twoStepLastStep(userId));
    return record !== undefined && removed > 0;
  }

  async #dropCodes(userId: string, digests: string[]): Promise<void> {
    if (digests.length > 0) await this.store.del(...digests.map((code) => this.keys.twoStepRecoveryCode(userId, code)));
  }
}
