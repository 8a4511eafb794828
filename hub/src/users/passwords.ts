import argon2 from 'argon2';
import { HashingTurns, type HashingTurnsOptions } from './hashing-turns.js';
import { isLegacyHash, verifyLegacyHash } from './legacy-hash.js';

/** The argon2 operations the hasher uses: the argon2 package itself, unless a test counts them. */
export type Argon2 = Pick<typeof argon2, 'hash' | 'verify' | 'needsRehash'>;

export interface PasswordPolicy {
  memoryCost: number; // KiB
  timeCost: number; // iterations
  parallelism: number;
}

/**
 * argon2id hashing at (or above) OWASP's floor; hashes carry their own parameters. Every
 * argon2 operation waits for its turn (`turns`): a burst of sign-ins must not hold every
 * libuv pool thread, and past the queue limit a check throws BusyError instead of waiting.
 */
export class PasswordHasher {
  /** A real hash of a random password, verified for unknown users so timing does not tell them apart. */
  #decoy: Promise<string>;
  readonly turns: HashingTurns;

  readonly #argon2: Argon2;
  /** How argon2 writes the start of a hash made with this policy (version 0x13 = 19; parameters in its order, m, p, t). */
  readonly #currentPrefix: string;

  constructor(readonly policy: PasswordPolicy, turns: HashingTurnsOptions, primitives: Argon2 = argon2) {
    this.#argon2 = primitives;
    this.#currentPrefix = `$argon2id$v=19$m=${policy.memoryCost},p=${policy.parallelism},t=${policy.timeCost}$`;
    this.turns = new HashingTurns(turns);
    this.#decoy = this.hash(`decoy-${Math.random()}`);
  }

  hash(password: string): Promise<string> {
    return this.turns.run(() => this.#argon2.hash(password, { type: argon2.argon2id, ...this.policy }));
  }

  /**
   * Every password check goes through here (portal, password grant, UCenter user/login), so
   * an imported UCenter md5 hash is accepted wherever a user signs in; the caller then sees
   * `needsRehash` and replaces it by argon2id.
   */
  async verify(hash: string | undefined, password: string): Promise<boolean> {
    const legacy = isLegacyHash(hash);
    // Unknown users and imported (md5) hashes are checked against the decoy too: every check
    // costs one argon2id verification and one turn, so neither time nor a busy answer tells
    // an unknown login, an imported account and a current one apart.
    const stored = hash === undefined || legacy ? await this.#decoy : hash;
    // A full queue (BusyError) is thrown: the password was not checked, so it is no failure.
    return this.turns.run(async () => {
      let ok: boolean;
      try {
        ok = await this.#argon2.verify(stored, password);
      } catch {
        ok = false;
      }
      if (legacy) return verifyLegacyHash(hash, password);
      return ok && hash !== undefined;
    });
  }

  /** True when a stored hash was made with weaker parameters than the current policy. */
  needsRehash(hash: string): boolean {
    const stored: string = hash; // isLegacyHash's guard would leave `never` below
    if (isLegacyHash(stored)) return true;
    // A hash this policy made starts with exactly this (the `$` after `p=` ends the list): no
    // second parse of the hash after verify's (@phc/format, ~50 µs of a sign-in under load).
    if (hash.startsWith(this.#currentPrefix)) return false;
    return this.#argon2.needsRehash(hash, this.policy);
  }
}
