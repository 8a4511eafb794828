import argon2 from 'argon2';
import { isLegacyHash, verifyLegacyHash } from './legacy-hash.js';

export interface PasswordPolicy {
  memoryCost: number; // KiB
  timeCost: number; // iterations
  parallelism: number;
}

/** argon2id hashing at (or above) OWASP's floor; hashes carry their own parameters. */
export class PasswordHasher {
  /** A real hash of a random password, verified for unknown users so timing does not tell them apart. */
  #decoy: Promise<string>;

  constructor(readonly policy: PasswordPolicy) {
    this.#decoy = this.hash(`decoy-${Math.random()}`);
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id, ...this.policy });
  }

  /**
   * Every password check goes through here (portal, password grant, UCenter user/login), so
   * an imported UCenter md5 hash is accepted wherever a user signs in; the caller then sees
   * `needsRehash` and replaces it by argon2id.
   */
  async verify(hash: string | undefined, password: string): Promise<boolean> {
    if (isLegacyHash(hash)) return verifyLegacyHash(hash, password);
    try {
      const ok = await argon2.verify(hash ?? (await this.#decoy), password);
      return ok && hash !== undefined;
    } catch {
      return false;
    }
  }

  /** True when a stored hash was made with weaker parameters than the current policy. */
  needsRehash(hash: string): boolean {
    if (isLegacyHash(hash)) return true;
    return argon2.needsRehash(hash, this.policy);
  }
}
