import { randomBytes } from 'node:crypto';
import { digest, type Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';

/** What a single-use link is for; each purpose has its own key space. */
export type TokenPurpose = 'password-reset' | 'email-change' | 'email-undo' | 'email-verify' | 'signup-invite';

const TOKEN_BYTES = 32; // 256 bits of randomness, base64url in the link

/**
 * Single-use tokens for links sent by e-mail. The token itself is only in the link: the
 * store keeps its SHA-256 digest as the key (a leaked store dump holds no usable link), the
 * record expires on its own (TTL) and is taken atomically (GETDEL), so a link works once even
 * when two requests race. Looking a token up is a key lookup by digest: no string comparison
 * whose timing depends on the token.
 */
export class AccountTokens {
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  /** A new token for `data`, valid `ttlSeconds`. */
  async issue<T>(purpose: TokenPurpose, data: T, ttlSeconds: number): Promise<string> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    await this.store.set(this.#key(purpose, token), JSON.stringify(data), { ttlSeconds });
    return token;
  }

  /** The data of a live token without using it up (the page that asks for the new password). */
  async peek<T>(purpose: TokenPurpose, pasted: string): Promise<T | undefined> {
    const token = AccountTokens.#clean(pasted);
    if (!AccountTokens.#plausible(token)) return undefined;
    const raw = await this.store.get(this.#key(purpose, token));
    return raw ? (JSON.parse(raw) as T) : undefined;
  }

  /** Uses the token up and returns its data; undefined when unknown, expired or already used. */
  async take<T>(purpose: TokenPurpose, pasted: string): Promise<T | undefined> {
    const token = AccountTokens.#clean(pasted);
    if (!AccountTokens.#plausible(token)) return undefined;
    const raw = await this.store.take(this.#key(purpose, token));
    return raw ? (JSON.parse(raw) as T) : undefined;
  }

  /**
   * Replaces a live token's data, `from` (as {@link peek} returned it) with `to`, keeping what is
   * left of its expiry: a compare-and-set, so of two requests that peeked the same data one
   * replaces it and the other gets false (as for a token unknown, expired or used meanwhile).
   * A link whose work takes several writes claims it this way and is used up ({@link take}) only
   * once the work is done: a request cut off by the store part-way leaves the link usable, so
   * sending the form again finishes the job (DESIGN: a request that answered 503 is safe to retry).
   */
  async replace<T>(purpose: TokenPurpose, pasted: string, from: T, to: T): Promise<boolean> {
    const token = AccountTokens.#clean(pasted);
    if (!AccountTokens.#plausible(token)) return false;
    const key = this.#key(purpose, token);
    const left = await this.store.ttl(key);
    if (left <= 0) return false; // gone (-2), or no expiry (-1): never made by issue()
    // The data round-trips: issue() and this write it with JSON.stringify, peek() parses it.
    return this.store.swap(key, JSON.stringify(from), JSON.stringify(to), left);
  }

  /**
   * A link pasted with what followed it in the mail or the chat (`…?token=T).`, a space, a
   * Chinese full stop) still works: a token is base64url, so anything else around it is not
   * part of it. A wrong or extra letter is still a wrong token.
   */
  static #clean(pasted: string): string {
    // Cut first: the trailing class is quadratic on a long run of junk (16,000 characters, 181 ms),
    // and a token is at most 100 characters. The routes cut at 200 already; this does not rely on them.
    return pasted.slice(0, 300).replace(/^[^A-Za-z0-9_-]+|[^A-Za-z0-9_-]+$/g, '');
  }

  static #plausible(token: string): boolean {
    return /^[A-Za-z0-9_-]{20,100}$/.test(token);
  }

  #key(purpose: TokenPurpose, token: string): string {
    return this.keys.accountToken(purpose, digest(token));
  }
}
