import { timingSafeEqual } from 'node:crypto';
import { ConflictError, msg } from '../errors.js';
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

/** Tries of a change that another change to the same enrolment came before (compare-and-set), before it gives up (409). */
export const CHANGE_ATTEMPTS = 5;

/** A user's two-step sign-in, as stored: the TOTP secret sealed, recovery codes only as digests. */
export interface TwoStepRecord {
  v: 1;
  secret: Sealed;
  enabledAt: number; // epoch seconds
  /** Digests of the recovery codes issued with the last (re)generation; each has a key while unused. */
  recovery: string[];
  recoveryIssuedAt: number; // epoch seconds
  /**
   * The salt of the set's argon2id digests (recovery-codes.ts); absent in an enrolment an older
   * hub made, whose digests are SHA-256.
   */
  recoverySalt?: string;
}

/** An enrolment as read: the record, and its stored text, which a change expects to find still there (compare-and-set). */
export interface StoredTwoStep {
  record: TwoStepRecord;
  raw: string;
}

/** Whether the record lists a recovery code (by digest), compared in constant time. */
export function listsRecoveryCode(record: TwoStepRecord, codeDigest: string): boolean {
  const given = Buffer.from(codeDigest);
  let found = false;
  for (const listed of record.recovery) {
    const candidate = Buffer.from(listed);
    if (candidate.length === given.length && timingSafeEqual(candidate, given)) found = true;
  }
  return found;
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
    return (await this.read(userId))?.record;
  }

  /** The enrolment with its stored text, for {@link replace} and {@link remove}. */
  async read(userId: string): Promise<StoredTwoStep | undefined> {
    const raw = await this.store.get(this.keys.twoStep(userId));
    return raw ? { record: JSON.parse(raw) as TwoStepRecord, raw } : undefined;
  }

  async isEnabled(userId: string): Promise<boolean> {
    return (await this.store.get(this.keys.twoStep(userId))) !== null;
  }

  /**
   * Turns two-step on, or replaces the enrolment, only if the one stored is still `expected`
   * (undefined: none), in one compare-and-set: false, and nothing changed, when another change
   * came first. Read-modify-write without it let two changes at once both land: a disable (or an
   * administrator's reset, or the account's deletion) undone by new recovery codes written over
   * it, two-step on again with the old secret; two sets of new codes both working while the
   * enrolment listed one (an audit, hub/src/two-step/two-step-races.test.ts).
   * The codes' keys are written after the record: a code works only while the record lists it
   * (the service checks), so none works early, and keys a later change left behind are dropped.
   */
  async replace(userId: string, expected: StoredTwoStep | undefined, record: TwoStepRecord): Promise<boolean> {
    const key = this.keys.twoStep(userId);
    const raw = JSON.stringify(record);
    if (!(await this.store.swap(key, expected?.raw ?? null, raw))) return false;
    await Promise.all(record.recovery.map((code) => this.store.set(this.keys.twoStepRecoveryCode(userId, code), '1')));
    if (expected) await this.#dropCodes(userId, expected.record.recovery.filter((code) => !record.recovery.includes(code)));
    // Removed or replaced while the keys were written (that change dropped the codes it knew of,
    // perhaps before these landed): the ones it does not list go, else they outlive it with no TTL.
    const now = await this.read(userId);
    if (now?.raw !== raw) await this.#dropCodes(userId, record.recovery.filter((code) => !now?.record.recovery.includes(code)));
    return true;
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

  /**
   * Turns two-step off: the record, its recovery codes, a pending enrolment, the replay guard.
   * Returns whether it was on. The record goes by compare-and-set (see {@link replace}): a change
   * that lands first is read again and removed too, so two-step turned off stays off.
   */
  async remove(userId: string): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      const stored = await this.read(userId);
      if (stored && !(await this.store.swap(this.keys.twoStep(userId), stored.raw, null))) {
        if (attempt < CHANGE_ATTEMPTS) continue;
        throw new ConflictError(msg('errors:busyRecord'));
      }
      if (stored) await this.#dropCodes(userId, stored.record.recovery);
      await this.store.del(this.keys.twoStepPending(userId), this.keys.twoStepLastStep(userId));
      return stored !== undefined;
    }
  }

  async #dropCodes(userId: string, digests: string[]): Promise<void> {
    if (digests.length > 0) await this.store.del(...digests.map((code) => this.keys.twoStepRecoveryCode(userId, code)));
  }
}
