import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const SHA1_HEX = /^[0-9a-fA-F]{40}$/;
const DIGEST_BYTES = 20;

function sha1(value: string): Buffer {
  return createHash('sha1').update(value, 'utf8').digest();
}

/**
 * A list of known-breached passwords (ASVS 5 §6.2.12), from a file of one entry a line: a
 * password, or its SHA-1 in hex (upper or lower case, optionally `HASH:count` as in the Have I
 * Been Pwned downloads). Kept as sorted 20-byte digests in one buffer and searched by
 * bisection: a million entries take 20 MB and a lookup about 20 comparisons.
 */
export class BreachedPasswords {
  readonly #digests: Buffer;
  readonly size: number;

  constructor(lines: Iterable<string>) {
    const digests: Buffer[] = [];
    for (const raw of lines) {
      const line = raw.replace(/\r$/, '');
      if (!line.trim() || line.startsWith('#')) continue;
      const hash = line.split(':', 1)[0]!.trim();
      digests.push(SHA1_HEX.test(hash) ? Buffer.from(hash, 'hex') : sha1(line));
    }
    digests.sort(Buffer.compare);
    const unique = digests.filter((digest, index) => index === 0 || !digest.equals(digests[index - 1]!));
    this.#digests = Buffer.concat(unique);
    this.size = unique.length;
  }

  /** Reads the file once (at start-up); a missing or unreadable file is the caller's start-up error. */
  static fromFile(path: string): BreachedPasswords {
    return new BreachedPasswords(readFileSync(path, 'utf8').split('\n'));
  }

  has(password: string): boolean {
    const wanted = sha1(password);
    let low = 0;
    let high = this.size - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const order = this.#digests.compare(wanted, 0, DIGEST_BYTES, middle * DIGEST_BYTES, (middle + 1) * DIGEST_BYTES);
      if (order === 0) return true;
      if (order > 0) high = middle - 1;
      else low = middle + 1;
    }
    return false;
  }
}
