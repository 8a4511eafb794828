import argon2 from 'argon2';

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

  async verify(hash: string | undefined, password: string): Promise<boolean> {
    try {
      const ok = await argon2.verify(hash ?? (await this.#decoy), password);
      return ok && hash !== undefined;
    } catch {
      return false;
    }
  }

  /** True when a stored hash was made with weaker parameters than the current policy. */
  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, this.policy);
  }
}
