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
 * A hash made from the password's NFKC form carries this as argon2's associated data (`data=` in
 * the hash, which argon2 reads back when it verifies): the same password typed as composed or
 * decomposed letters (é as one code point or e + ◌́, as some keyboards and systems send it), or
 * in full-width forms (an IME's ｐａｓｓ１２３), is one password (NIST SP 800-63B §5.1.1.2:
 * normalise with NFKC or NFKD). Hashes made before have none and are checked as before.
 */
const NORMALIZED = Buffer.from('nfkc');
const NORMALIZED_PARAM = `,data=${NORMALIZED.toString('base64').replace(/=+$/, '')}$`;

/** Whether `hash` was made from the NFKC form of its password (see {@link NORMALIZED}). */
function isNormalizedHash(hash: string): boolean {
  const end = hash.indexOf('$', hash.indexOf('$m=') + 1);
  return end > 0 && hash.startsWith(NORMALIZED_PARAM, end - NORMALIZED_PARAM.length + 1);
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
  /** How argon2 writes the start of a hash made with this policy (version 0x13 = 19; parameters in its order, m, p, t, data). */
  readonly #currentPrefix: string;
  /** The same for a hash made before passwords were normalised (no `data`): current, no rehash for that alone. */
  readonly #unnormalizedPrefix: string;

  constructor(readonly policy: PasswordPolicy, turns: HashingTurnsOptions, primitives: Argon2 = argon2) {
    this.#argon2 = primitives;
    this.#unnormalizedPrefix = `$argon2id$v=19$m=${policy.memoryCost},p=${policy.parallelism},t=${policy.timeCost}$`;
    this.#currentPrefix = `${this.#unnormalizedPrefix.slice(0, -1)}${NORMALIZED_PARAM}`;
    this.turns = new HashingTurns(turns);
    this.#decoy = this.hash(`decoy-${Math.random()}`);
  }

  /** A hash of the password's NFKC form, marked so (see {@link NORMALIZED}). */
  hash(password: string): Promise<string> {
    return this.turns.run(() => this.#argon2.hash(password.normalize('NFKC'), { type: argon2.argon2id, ...this.policy, associatedData: NORMALIZED }));
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
      // A marked hash (and the decoy) is of the NFKC form; an older one of the password as typed
      // then, so it is checked as typed, as before: one argon2id check for every account, never a
      // second one for another form (that would tell an older account from an unknown login by
      // its time). An older hash takes the other forms once its next sign-in rehashed it.
      const ok = await this.#check(stored, isNormalizedHash(stored) ? password.normalize('NFKC') : password);
      if (legacy) return verifyLegacyHash(hash, password);
      return ok && hash !== undefined;
    });
  }

  async #check(stored: string, password: string): Promise<boolean> {
    try {
      return await this.#argon2.verify(stored, password);
    } catch {
      return false;
    }
  }

  /**
   * True when a stored hash was made with weaker parameters than the current policy, or (given
   * the password it was just verified with) from a password that NFKC normalisation changes,
   * before passwords were normalised: rehashed, it holds the password's NFKC form, so the other
   * forms of it work too. An older hash of an NFKC-stable password (any ASCII one) is kept: it
   * is the same hash but for the mark, and every account rehashed at its next sign-in would
   * double the argon2id work of the sign-ins after an upgrade.
   */
  needsRehash(hash: string, verifiedWith?: string): boolean {
    const stored: string = hash; // isLegacyHash's guard would leave `never` below
    if (isLegacyHash(stored)) return true;
    // A hash this policy made starts with exactly this (the `$` after the last parameter ends the
    // list): no second parse of the hash after verify's (@phc/format, ~50 µs of a sign-in under load).
    if (hash.startsWith(this.#currentPrefix)) return false;
    if (verifiedWith !== undefined && !isNormalizedHash(hash) && verifiedWith.normalize('NFKC') !== verifiedWith) return true;
    if (hash.startsWith(this.#unnormalizedPrefix)) return false;
    return this.#argon2.needsRehash(hash, this.policy);
  }
}
