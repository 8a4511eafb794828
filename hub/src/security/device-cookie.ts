import { createHmac, timingSafeEqual } from 'node:crypto';
import { randomPool } from '../secrets/random-pool.js';
import type { CookieOptions } from 'express';

/** How long a browser stays a known device of an account after a sign-in, in seconds (one year). */
export const DEVICE_COOKIE_TTL = 365 * 86_400;
/** The device cookie is only sent where passwords are checked. */
export const DEVICE_COOKIE_PATH = '/interaction';
const NAME_PREFIX = 'hub_device_';
/** Domain separation: these HMACs can never be mistaken for another use of the cookie keys. */
const SIGN_LABEL = 'sso-hub device cookie v2';
const NAME_LABEL = 'sso-hub device cookie name v1';
const NONCE_BYTES = 16;
/** Cookie names remembered per key (accounts that signed in lately); past this the memory starts over. */
const NAMES_REMEMBERED = 1_000;

export interface IssuedDeviceCookie {
  name: string;
  value: string;
  options: CookieOptions;
}

/**
 * OWASP's device cookies: proof that this browser signed in to this account before. The value
 * is `nonce.HMAC(key, label | account | generation | nonce)` with the hub's cookie keys (the
 * first signs, all verify, so rotating the keys keeps known devices). The account is inside the
 * MAC, so a cookie can be neither forged nor moved to another account; the nonce is the device's
 * id, under which its own failures are counted. So is the account's sign-in generation, which
 * every password change or reset, two-step enrolment and "sign out everywhere" renews: a
 * browser that signed in before then is a known device no more. Someone who once knew the
 * password could otherwise keep a cookie per sign-in, each with its own allowance of guesses
 * outside the account's shared count and the per-address limit (an outside review: 75 wrong
 * passwords after a reset, 60 wrong codes after two-step enrolment, none refused). One cookie per account, named by an HMAC of the account id (a
 * shared browser can be a known device of several accounts, and the name tells no user id;
 * each key names its own cookies, so a cookie issued before a key rotation is still found).
 */
export class DeviceCookies {
  readonly #keys: string[];
  readonly #secure: boolean;
  /**
   * Each key's cookie name per account, as computed: a sign-in asked for it twice (verify, then
   * issue), an HMAC each, and an HMAC's set-up is 15–30 µs of the main thread under sign-in
   * load (perf, 2026-12-05). A name is a pure function of the key and the account.
   */
  readonly #names: Map<string, string>[];

  constructor(keys: string[], secure: boolean) {
    if (keys.length === 0) throw new TypeError('device cookies need at least one cookie key');
    this.#keys = [...keys]; // a copy: the remembered names are per key, by position
    this.#secure = secure;
    this.#names = keys.map(() => new Map());
  }

  static #mac(key: string, label: string, ...parts: string[]): string {
    return createHmac('sha256', key).update([label, ...parts].join('\u0000')).digest('base64url');
  }

  static #nameFor(key: string, accountId: string): string {
    return NAME_PREFIX + DeviceCookies.#mac(key, NAME_LABEL, accountId).slice(0, 22);
  }

  /** {@link #nameFor} of the `index`th key, remembered. */
  #name(index: number, accountId: string): string {
    const names = this.#names[index]!;
    let name = names.get(accountId);
    if (name === undefined) {
      if (names.size >= NAMES_REMEMBERED) names.clear();
      name = DeviceCookies.#nameFor(this.#keys[index]!, accountId);
      names.set(accountId, name);
    }
    return name;
  }

  /** A fresh device cookie for an account (at its sign-in `generation`), after a successful sign-in. */
  issue(accountId: string, generation: string): IssuedDeviceCookie {
    const nonce = randomPool.token(NONCE_BYTES);
    return {
      name: this.#name(0, accountId),
      value: `${nonce}.${DeviceCookies.#mac(this.#keys[0]!, SIGN_LABEL, accountId, generation, nonce)}`,
      options: { httpOnly: true, secure: this.#secure, sameSite: 'strict', path: DEVICE_COOKIE_PATH, maxAge: DEVICE_COOKIE_TTL * 1000 },
    };
  }

  /**
   * The device id in a valid device cookie for `accountId` at its current sign-in `generation`,
   * among the request's cookies, or undefined. The MAC is compared in constant time against every key.
   */
  verify(accountId: string, generation: string, cookies: Record<string, unknown> | undefined): string | undefined {
    for (let index = 0; index < this.#keys.length; index += 1) {
      const nonce = DeviceCookies.#check(this.#keys[index]!, accountId, generation, cookies?.[this.#name(index, accountId)]);
      if (nonce) return nonce;
    }
    return undefined;
  }

  static #check(key: string, accountId: string, generation: string, value: unknown): string | undefined {
    if (typeof value !== 'string' || value.length > 200) return undefined;
    const [nonce, mac, extra] = value.split('.');
    if (!nonce || !mac || extra !== undefined) return undefined;
    const given = Buffer.from(mac);
    const expected = Buffer.from(DeviceCookies.#mac(key, SIGN_LABEL, accountId, generation, nonce));
    return expected.length === given.length && timingSafeEqual(expected, given) ? nonce : undefined;
  }
}
