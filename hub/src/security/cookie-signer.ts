import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * The signer of oidc-provider's cookies (its `cookies.keys`, which takes "your own KeyGrip
 * instance"): the signatures keygrip makes by default (HMAC-SHA1 of the cookie's `name=value`,
 * base64url without padding), byte for byte, so cookies signed before still verify; the first
 * key signs, every key verifies (rotation).
 *
 * Not keygrip itself: keygrip compares with tsscmp, which draws 32 random bytes and computes two
 * more HMACs per comparison, and with an array of keys Koa builds a new keygrip per request. On
 * a sign-in POST (the interaction cookie's check) that was ~100 µs of the main thread under load
 * (perf, 2026-12-05: a `randomBytes` call and an HMAC's set-up cost 15–70 µs each there). Here a
 * signature is compared in constant time with `timingSafeEqual` (its length is public: 27 characters).
 */
export class CookieSigner {
  readonly #keys: KeyObject[];

  constructor(keys: readonly (string | Buffer)[]) {
    if (keys.length === 0) throw new TypeError('cookie signing needs at least one key');
    this.#keys = keys.map((key) => createSecretKey(Buffer.from(key)));
  }

  /** The signature of `data` with the first key. */
  sign(data: unknown): string {
    return CookieSigner.#mac(this.#keys[0]!, data);
  }

  /** Whether `digest` is `data`'s signature under one of the keys. */
  verify(data: unknown, digest: string): boolean {
    return this.index(data, digest) > -1;
  }

  /** The index of the key `digest` is `data`'s signature with, or -1. */
  index(data: unknown, digest: string): number {
    const given = Buffer.from(String(digest));
    for (let i = 0; i < this.#keys.length; i += 1) {
      const expected = Buffer.from(CookieSigner.#mac(this.#keys[i]!, data));
      if (expected.length === given.length && timingSafeEqual(expected, given)) return i;
    }
    return -1;
  }

  static #mac(key: KeyObject, data: unknown): string {
    return createHmac('sha1', key).update(String(data)).digest('base64url');
  }
}
