import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Imported UCenter password hashes: `md5(md5(password) . salt)`. Kept in the user record as
 * `$ucenter-md5$<salt as hex>$<md5 hex>` until the first sign-in that proves the password,
 * which replaces it by argon2id (PasswordHasher.needsRehash is true for these).
 */
export const LEGACY_PREFIX = '$ucenter-md5$';

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

export function isLegacyHash(hash: string | undefined): hash is string {
  return typeof hash === 'string' && hash.startsWith(LEGACY_PREFIX);
}

/** The stored form of a `uc_members` row's `password` and `salt`; undefined when they are not a UCenter md5 hash. */
export function legacyHashFrom(md5Hex: string, salt: string): string | undefined {
  if (!/^[0-9a-f]{32}$/i.test(md5Hex)) return undefined;
  return `${LEGACY_PREFIX}${Buffer.from(salt, 'utf8').toString('hex')}$${md5Hex.toLowerCase()}`;
}

/** Checks a password against a legacy hash in constant time (for equal-length digests). */
export function verifyLegacyHash(hash: string, password: string): boolean {
  const [salt, digest] = hash.slice(LEGACY_PREFIX.length).split('$');
  if (salt === undefined || digest === undefined || !/^[0-9a-f]{32}$/.test(digest)) return false;
  const computed = md5(md5(Buffer.from(password, 'utf8')) + Buffer.from(salt, 'hex').toString('utf8'));
  return timingSafeEqual(Buffer.from(computed), Buffer.from(digest));
}
