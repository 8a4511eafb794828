import { randomBytes } from 'node:crypto';
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

/** A code as typed, in canonical form: case, spaces and dashes ignored, Crockford's look-alikes mapped. */
export function normaliseRecoveryCode(input: string): string {
  return input.toLowerCase().replace(/[\s-]+/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
}

export function looksLikeRecoveryCode(input: string): boolean {
  const code = normaliseRecoveryCode(input);
  return code.length === CODE_LENGTH && [...code].every((char) => ALPHABET.includes(char));
}

/**
 * What the store keeps of a code: its SHA-256 digest (the codes carry 50 random bits, so a
 * fast digest is as good as a slow hash here, and lookups stay one GETDEL).
 */
export function recoveryCodeDigest(input: string): string {
  return digest(`recovery:${normaliseRecoveryCode(input)}`);
}
