import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { digest } from '../store/keys.js';

/** Ten codes, as GitHub and Google hand out. */
export const RECOVERY_CODE_COUNT = 10;
/** Crockford's base32: no i, l, o or u to misread. 32 symbols, so one byte & 31 picks one without bias. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const CODE_LENGTH = 10; // 50 bits: far beyond guessing under the sign-in throttle

/** New recovery codes, shown to the user once, as `xxxxx-xxxxx`. */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const chars = [...randomBytes(CODE_LENGTH)].map((byte) => ALPHABET[byte & 31]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/**
 * A code as typed, in canonical form: full-width letters, digits and dashes read as themselves
 * (NFKC: ｋ３ｖｈ６－３ｆｓｇｙ, a Chinese input method in full-width mode), case, spaces and
 * dashes ignored, Crockford's look-alikes mapped.
 */
export function normaliseRecoveryCode(input: string): string {
  return input.normalize('NFKC').toLowerCase().replace(/[\s\-\u2010-\u2015\u2212]+/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
}

export function looksLikeRecoveryCode(input: string): boolean {
  const code = normaliseRecoveryCode(input);
  return code.length === CODE_LENGTH && [...code].every((char) => ALPHABET.includes(char));
}

/**
 * What the store kept of a code before sets had a salt: its SHA-256 digest. Still checked for
 * an enrolment made by an older hub (no `recoverySalt`), until its codes are made anew.
 */
export function recoveryCodeDigest(input: string): string {
  return digest(`recovery:${normaliseRecoveryCode(input)}`);
}

/**
 * argon2id's cost for recovery codes: OWASP's floor (19 MiB, two passes), fixed, not the
 * `ARGON2_*` settings, so that a change of those never turns the stored digests into others.
 */
const RECOVERY_ARGON2 = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1, hashLength: 32, raw: true } as const;

/** A new salt for one set of recovery codes (128 random bits, base64url). */
export function newRecoverySalt(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * What the store keeps of a code of a set made with a salt: argon2id of its canonical form with
 * that salt (base64url). ASVS 5 V6.5.2: a lookup secret with less than 112 bits of entropy (these
 * carry 50) is kept under an approved password hash with a random salt, so a copy of the store
 * cannot be searched for every user's codes at once with a fast digest (2^50 SHA-256 is hours for
 * one GPU). The salt is one per set, in the enrolment; the digest stays a key, so a code is still
 * spent by one GETDEL. `run` is the hub's argon2 turns (the same queue as password checks).
 */
export async function saltedRecoveryCodeDigest(input: string, salt: string, run: <T>(work: () => Promise<T>) => Promise<T> = (work) => work()): Promise<string> {
  const hash = await run(() => argon2.hash(`recovery:${normaliseRecoveryCode(input)}`, { ...RECOVERY_ARGON2, salt: Buffer.from(salt, 'base64url') }));
  return `${SALTED_PREFIX}${Buffer.from(hash).toString('base64url')}`;
}

const SALTED_PREFIX = 'a2:';

/**
 * The salt of an enrolment's codes when they are salted argon2id digests, told by the digests
 * themselves, not by the salt's presence. An older hub that makes new codes for an enrolment a newer one made
 * keeps the record's other fields, the salt among them, beside the SHA-256 digests it writes
 * (a rolling update); reading those as salted would refuse every one of the new codes.
 */
export function recoverySaltOf(record: { recovery: string[]; recoverySalt?: string }): string | undefined {
  return record.recovery.some((listed) => listed.startsWith(SALTED_PREFIX)) ? record.recoverySalt : undefined;
}
