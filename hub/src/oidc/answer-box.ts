import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { RandomPool } from '../secrets/random-pool.js';

/*
 * A redemption's recorded answer (see redemption.ts), encrypted (AES-256-GCM) with a key
 * derived from the code or refresh token itself, which the store never holds.
 */

/**
 * The key of a recorded answer: HMAC-SHA256 keyed with the code or token (a PRF, as HKDF's
 * extract step is), a quarter of `hkdfSync`'s cost on every refresh. Boxes sealed before it
 * (no `h.` prefix, replayable for at most a minute after an upgrade) used HKDF.
 */
const SEALED_WITH_HMAC = 'h.';

function outcomeKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('sso-hub redemption answer').digest();
}

function legacyOutcomeKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'sso-hub', 'redemption answer', 32));
}

/** IVs come from a pool: `randomBytes(12)` was 1 % of a refresh's CPU (perf, 2026-12-04). */
const ivs = new RandomPool();

/** Seals an answer given as its JSON text (the text the client is sent: it is serialized once). */
export function seal(secret: string, json: string): string {
  const iv = ivs.draw(12);
  const cipher = createCipheriv('aes-256-gcm', outcomeKey(secret), iv);
  const sealed = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
  return SEALED_WITH_HMAC + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

export function unseal(secret: string, box: string): Record<string, unknown> {
  const hmacKeyed = box.startsWith(SEALED_WITH_HMAC);
  const raw = Buffer.from(hmacKeyed ? box.slice(SEALED_WITH_HMAC.length) : box, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', hmacKeyed ? outcomeKey(secret) : legacyOutcomeKey(secret), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as Record<string, unknown>;
}

