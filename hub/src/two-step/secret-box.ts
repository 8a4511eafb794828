import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const ALG = 'aes-256-gcm';
const IV_BYTES = 12; // GCM's standard nonce size
const KEY_BYTES = 32;

/** A secret sealed at rest: the data key wrapped by a key-encryption key, the secret by the data key. */
export interface Sealed {
  v: 1;
  /** Which key-encryption key wrapped the data key (a digest of it, never the key). */
  kid: string;
  /** The per-secret data key, AES-256-GCM under the KEK: iv.ciphertext.tag (base64url). */
  dek: string;
  /** The secret, AES-256-GCM under the data key: iv.ciphertext.tag (base64url). */
  data: string;
}

/** Raised when a sealed value cannot be opened: an unknown key id, or tampered ciphertext. */
export class SealError extends Error {
  override readonly name = 'SealError';
}

function encrypt(key: Buffer, plain: Buffer, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALG, key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return [iv, body, cipher.getAuthTag()].map((part) => part.toString('base64url')).join('.');
}

function decrypt(key: Buffer, sealed: string, aad: string): Buffer {
  const [iv, body, tag] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
  if (!iv || !body || !tag) throw new SealError('malformed sealed value');
  const decipher = createDecipheriv(ALG, key, iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new SealError('sealed value does not open with its key (tampered, or bound to another record)');
  }
}

/**
 * Envelope encryption for secrets the hub must read back (TOTP seeds): each secret gets a
 * fresh 256-bit data key; the data key is wrapped with a key-encryption key (KEK) derived
 * from the configured secrets (HKDF-SHA256). Both layers are AES-256-GCM with the record's
 * owner as associated data, so a sealed value copied onto another user's record does not open.
 * The first KEK seals; every KEK opens (rotation: put the new one first, keep the old ones
 * until `rewrap` has run over every record, or until users re-enrol).
 */
export class SecretBox {
  #keks: { kid: string; key: Buffer }[] = [];

  constructor(secrets: string[]) {
    this.use(secrets);
  }

  /**
   * Takes another list of key-encryption secrets (the first seals, all open): the running hub
   * adopts the stored list when processes merged theirs after the store lost it (OwnedState).
   */
  use(secrets: string[]): void {
    if (secrets.length === 0) throw new TypeError('SecretBox needs at least one key-encryption secret');
    this.#keks = secrets.map((secret) => ({
      kid: createHash('sha256').update(`kid:${secret}`).digest('base64url').slice(0, 12),
      key: Buffer.from(hkdfSync('sha256', secret, 'sso-hub', 'two-step secret KEK v1', KEY_BYTES)),
    }));
  }

  seal(plain: string, owner: string): Sealed {
    const kek = this.#keks[0]!;
    const dataKey = randomBytes(KEY_BYTES);
    try {
      return { v: 1, kid: kek.kid, dek: encrypt(kek.key, dataKey, owner), data: encrypt(dataKey, Buffer.from(plain, 'utf8'), owner) };
    } finally {
      dataKey.fill(0);
    }
  }

  open(sealed: Sealed, owner: string): string {
    const kek = this.#keks.find((candidate) => candidate.kid === sealed.kid);
    if (!kek || sealed.v !== 1) throw new SealError('sealed with a key this hub does not have (HUB_TOTP_KEYS)');
    const dataKey = decrypt(kek.key, sealed.dek, owner);
    try {
      return decrypt(dataKey, sealed.data, owner).toString('utf8');
    } finally {
      dataKey.fill(0);
    }
  }

  /** Whether a sealed value is under the current (first) KEK. */
  isCurrent(sealed: Sealed): boolean {
    return sealed.kid === this.#keks[0]!.kid;
  }
}
