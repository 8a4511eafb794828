import { HubError } from '../errors.js';
import type { BreachedPasswords } from './breached-passwords.js';

/** Why a new password was refused; `signup:password.<reason>` is its message in the locale files. */
export type PasswordRejection = 'too-short' | 'too-long' | 'too-weak' | 'breached';

export const MAX_PASSWORD_LENGTH = 256; // bounds the hashing work an attacker can ask for

/** A new password the policy refused: a 400 with a message the person can act on. */
export class PasswordRejectedError extends HubError {
  override readonly name = 'PasswordRejectedError';
  /** The translation key of the message, with `values`. */
  readonly messageKey: string;

  constructor(
    readonly reason: PasswordRejection,
    readonly values: Record<string, number> = {},
  ) {
    super(400, ENGLISH[reason](values));
    this.messageKey = `signup:password.${reason}`;
  }
}

const ENGLISH: Record<PasswordRejection, (values: Record<string, number>) => string> = {
  'too-short': ({ min }) => `The password needs at least ${min} characters.`,
  'too-long': ({ max }) => `The password may have at most ${max} characters.`,
  'too-weak': () => 'This password is too easy to guess. Try a longer one, for example a few unrelated words.',
  breached: () => 'This password has appeared in a data breach, so attackers try it first. Please choose another one.',
};

/** What the person told us about themselves: a password made of it is easy to guess. */
export interface PasswordContext {
  username?: string;
  email?: string;
  name?: string;
}

export interface PasswordPolicyOptions {
  /** At least 8 (ASVS 5 §6.2.1). */
  minLength: number;
  /** The lowest zxcvbn score accepted, 0 to 4. */
  minScore: number;
  breached?: BreachedPasswords;
}

/** What the policy needs of zxcvbn-ts's estimator. */
interface StrengthEstimator {
  check(password: string, userInputs: string[]): { score: number };
}

let shared: Promise<StrengthEstimator> | undefined;

/**
 * One estimator per process, loaded on first use: its dictionaries are about 11 MiB of heap
 * once imported and 12 MiB more once built (and about a second), and a running hub only needs
 * them when someone chooses a password. Nothing else may import zxcvbn-ts
 * (`hub/src/lazy-modules.test.ts` checks that creating the hub loads none of it).
 */
function estimator(): Promise<StrengthEstimator> {
  shared ??= loadEstimator().catch((error: unknown) => {
    shared = undefined; // the next check tries again
    throw error;
  });
  return shared;
}

async function loadEstimator(): Promise<StrengthEstimator> {
  const [{ ZxcvbnFactory }, common, en] = await Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]);
  return new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
  });
}

/**
 * The policy for passwords people choose themselves (sign-up, reset, change): a minimum and a
 * maximum length, a strength estimate (zxcvbn-ts with its common and English dictionaries, the
 * person's own username, e-mail and name counting as guessable), and, when configured, a list
 * of breached passwords. No composition rules (NIST SP 800-63B, ASVS 5 §6.2).
 */
export class PasswordPolicy {
  constructor(readonly options: PasswordPolicyOptions) {}

  /**
   * Rejects with PasswordRejectedError when the password is not acceptable. Asynchronous
   * because the strength estimator is loaded on the first check: callers must await it.
   */
  async check(typed: string, context: PasswordContext = {}): Promise<void> {
    const { minLength, minScore, breached } = this.options;
    // Judged as it is hashed (PasswordHasher: its NFKC form): ①②③④⑤⑥⑦⑧ is 12345678.
    const password = typed.normalize('NFKC');
    // Length in characters as people count them (code points), not UTF-16 units.
    const length = [...password].length;
    if (length < minLength) throw new PasswordRejectedError('too-short', { min: minLength });
    if (password.length > MAX_PASSWORD_LENGTH) throw new PasswordRejectedError('too-long', { max: MAX_PASSWORD_LENGTH });
    if (breached?.has(password)) throw new PasswordRejectedError('breached');
    const personal = [context.username, context.email, context.email?.split('@', 1)[0], ...(context.name?.split(/\s+/) ?? [])].filter(
      (value): value is string => typeof value === 'string' && value.length >= 3,
    );
    // zxcvbn's cost grows with the length; past 100 characters a password is long enough anyway.
    if ((await estimator()).check(password.slice(0, 100), personal).score < minScore) throw new PasswordRejectedError('too-weak');
  }
}
