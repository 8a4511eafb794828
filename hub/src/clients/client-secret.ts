import { createHash, timingSafeEqual } from 'node:crypto';
import type { SubsiteClient } from './client.js';
import { seenDigest } from '../security/seen-digest.js';

/**
 * A client secret at rest: its SHA-256, never the secret (RFC 6819 §5.1.4.1.3). A secret the hub
 * makes is 256 random bits and one an operator gives has at least 32 characters, so nothing can be
 * guessed from the digest and a slow hash (argon2) would only slow every token request down: the
 * check is one SHA-256 and one constant-time comparison. The prefix names the algorithm, so a
 * later version can tell another kind of digest apart.
 */
const DIGEST_PREFIX = 'sha256:';

/** The digest stored for a client secret. */
export function secretDigest(secret: string): string {
  return DIGEST_PREFIX + createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** The 32 bytes of a stored digest; undefined for a value this version cannot read. */
function digestBytes(stored: string): Buffer | undefined {
  if (!stored.startsWith(DIGEST_PREFIX)) return undefined;
  const bytes = Buffer.from(stored.slice(DIGEST_PREFIX.length), 'base64url');
  return bytes.length === 32 ? bytes : undefined;
}

/**
 * Whether `given` is the secret of `stored` (a digest), in constant time: the comparison is of two
 * SHA-256 digests, always 32 bytes, so neither the time nor an early length check tells anything of
 * the secret or of how much of it was right.
 */
function digestMatches(stored: string, given: Buffer): boolean {
  const expected = digestBytes(stored);
  return expected !== undefined && timingSafeEqual(expected, given);
}

/**
 * The previous secret of a rotation with overlap while it is still valid (its end is exclusive).
 * None when an older hub process rotated the secret since: it replaces only the clear
 * `clientSecret` and carries the rest over, so the digest beside it no longer matches it; its
 * rotation stops every other secret at once (a leaked one), and so does this.
 */
export function livePreviousSecret(client: Pick<SubsiteClient, 'previousSecret' | 'clientSecret' | 'clientSecretDigest'>, nowMs = Date.now()): SubsiteClient['previousSecret'] {
  const previous = client.previousSecret;
  if (!previous || nowMs >= previous.validUntil * 1000) return undefined;
  if (client.clientSecret !== undefined && client.clientSecretDigest !== undefined && secretDigest(client.clientSecret) !== client.clientSecretDigest) return undefined;
  return previous;
}

/** Which of a client's secrets `given` is: the current one, the previous one of a rotation's overlap, or none. */
export type SecretMatch = 'current' | 'previous' | false;

/**
 * Checks a secret a client presented against its record: the digest (or, on a record an older hub
 * wrote, the secret it holds in clear, compared as digests too), then the previous secret while a
 * rotation's overlap lasts. Both are always computed, so the time does not tell which matched.
 */
export function matchClientSecret(client: Pick<SubsiteClient, 'clientSecret' | 'clientSecretDigest' | 'previousSecret'>, given: unknown, nowMs = Date.now()): SecretMatch {
  if (typeof given !== 'string' || given.length === 0) return false;
  const presented = createHash('sha256').update(given, 'utf8').digest();
  const current = currentSecretDigest(client);
  const currentMatches = current !== undefined && digestMatches(current, presented);
  const previous = livePreviousSecret(client, nowMs);
  const previousMatches = previous !== undefined && digestMatches(previous.digest, presented);
  if (currentMatches) return 'current';
  return previousMatches ? 'previous' : false;
}

/**
 * The digest of a client's current secret. A record holding the secret in clear (an older hub's,
 * or one this version keeps for older processes) goes by that: an older process that rotates the
 * secret replaces `clientSecret` and carries the rest of the record over, the digest beside it
 * included, which then names the secret it replaced.
 */
export function currentSecretDigest(client: Pick<SubsiteClient, 'clientSecret' | 'clientSecretDigest'>): string | undefined {
  return client.clientSecret !== undefined ? secretDigest(client.clientSecret) : client.clientSecretDigest;
}

/**
 * Which client secret a console page showed its rotate form for (`_secretSeen`): a digest of the
 * current secret's digest, so nothing of the secret is on the page. A rotation pressed on a page
 * from before another rotation (another tab, another admin) is refused rather than stopping the
 * secret the other rotation just handed out.
 */
export function secretSeen(client: Pick<SubsiteClient, 'clientSecret' | 'clientSecretDigest'>): string {
  return seenDigest('secret-seen', currentSecretDigest(client) ?? '');
}

/**
 * Which sync key a console page showed its "Rotate sync key" form for (`_syncKeySeen`): a digest of
 * the key, so the key is not on the page. A rotation pressed on a page from before another rotation
 * (another tab, another admin, `clients rotate-sync-key`) is refused: it would make the key that
 * rotation showed the previous one, and through the overlap the hub would sign with a key the
 * subsite was never given.
 */
export function syncKeySeen(client: Pick<SubsiteClient, 'sync'>): string {
  return seenDigest('sync-key-seen', client.sync?.key ?? '');
}
