import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;

/**
 * Random bytes drawn from a pool that is refilled from the CSPRNG 4 KB at a time: `randomBytes(12)`
 * costs about 6 µs (a native job per call), a pooled draw about 0.2 µs. For values drawn on hot
 * paths, such as the IV of every recorded redemption answer. Each byte is handed out once; the
 * pool is per process (a Node process does not fork after start), like Node's own UUID pool.
 */
export class RandomPool {
  #pool = Buffer.alloc(0);
  #offset = 0;

  constructor(private readonly size: number = POOL_BYTES) {}

  /** `count` fresh random bytes (at most the pool's size), in a buffer of their own. */
  draw(count: number): Buffer {
    const at = this.#take(count);
    return Buffer.from(this.#pool.subarray(at, at + count));
  }

  /** `count` fresh random bytes as base64url (no padding): what `randomBytes(count).toString('base64url')` gives. */
  token(count: number): string {
    const at = this.#take(count);
    return this.#pool.toString('base64url', at, at + count);
  }

  /** The offset of `count` bytes no draw had before, refilling the pool when it runs short. */
  #take(count: number): number {
    if (!Number.isInteger(count) || count < 1 || count > this.size) throw new RangeError(`draw between 1 and ${this.size} bytes, not ${count}`);
    if (this.#offset + count > this.#pool.length) {
      this.#pool = randomFillSync(Buffer.allocUnsafeSlow(this.size));
      this.#offset = 0;
    }
    const at = this.#offset;
    this.#offset += count;
    return at;
  }
}

/**
 * The process's pool for random values drawn on a sign-in's path (portal session ids, device
 * cookie nonces): on the hub's main thread under sign-in load a `randomBytes` call cost 30–70 µs
 * (perf, 2026-12-05: a native job per call, OpenSSL's DRBG under its lock, beside argon2id's
 * threads), a pooled draw a fraction of a microsecond.
 */
export const randomPool = new RandomPool();
