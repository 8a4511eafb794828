import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * UCenter's `authcode`: the cipher every UCenter application speaks (client API `input`,
 * notes' `code`, Discuz!'s own cookies). Written here from the published algorithm:
 *
 * - key = md5(appKey); keya = md5(key[0..16]); keyb = md5(key[16..32]);
 * - keyc = 4 random characters sent in clear in front of the code (so one key never
 *   encrypts twice with the same stream); the stream key is keya . md5(keya . keyc);
 * - plaintext = 10-digit expiry (0 = none) . md5(data . keyb)[0..16] . data;
 * - an RC4 key schedule and keystream XOR over those bytes, then base64 without `=`.
 *
 * Security: this is RC4 with a 64-bit integrity tag (16 hex digits). It is offered only for
 * applications that cannot speak anything else (per application, opt-in), with short
 * expiries; it is never used for anything the hub keeps.
 */

const CKEY_LENGTH = 4;

function md5(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}

/** The RC4 keystream of `cryptkey`, XORed over `input` (the same operation both ways). */
function rc4(cryptkey: Buffer, input: Buffer): Buffer {
  const box = new Uint8Array(256);
  for (let i = 0; i < 256; i += 1) box[i] = i;
  for (let i = 0, j = 0; i < 256; i += 1) {
    j = (j + box[i]! + cryptkey[i % cryptkey.length]!) % 256;
    [box[i], box[j]] = [box[j]!, box[i]!];
  }
  const out = Buffer.alloc(input.length);
  for (let n = 0, a = 0, j = 0; n < input.length; n += 1) {
    a = (a + 1) % 256;
    j = (j + box[a]!) % 256;
    [box[a], box[j]] = [box[j]!, box[a]!];
    out[n] = input[n]! ^ box[(box[a]! + box[j]!) % 256]!;
  }
  return out;
}

function subkeys(key: string): { keya: string; keyb: string } {
  const hashed = md5(Buffer.from(key, 'utf8'));
  return { keya: md5(hashed.slice(0, 16)), keyb: md5(hashed.slice(16, 32)) };
}

export interface EncodeOptions {
  /** Seconds from `now` after which the code is refused; 0 or absent = no expiry (UCenter's default). */
  expirySeconds?: number;
  /** Epoch seconds; defaults to the clock. */
  now?: number;
  /** The 4-character dynamic key; random unless given (tests pin it to compare bytes). */
  keyc?: string;
}

/** authcode(data, 'ENCODE', key, expiry). */
export function authcodeEncode(data: string, key: string, options: EncodeOptions = {}): string {
  const { keya, keyb } = subkeys(key);
  const keyc = options.keyc ?? randomBytes(2).toString('hex');
  if (keyc.length !== CKEY_LENGTH) throw new TypeError('keyc must have 4 characters');
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const expiry = options.expirySeconds ? options.expirySeconds + now : 0;
  const payload = Buffer.from(data, 'utf8');
  const tag = md5(Buffer.concat([payload, Buffer.from(keyb, 'latin1')])).slice(0, 16);
  const plain = Buffer.concat([Buffer.from(String(expiry).padStart(10, '0') + tag, 'latin1'), payload]);
  const cipher = rc4(Buffer.from(keya + md5(keya + keyc), 'latin1'), plain);
  return keyc + cipher.toString('base64').replace(/=+$/, '');
}

/** PHP's `(int)` of a string: its leading integer, or 0. */
function phpInt(text: string): number {
  const match = /^[ \t\n\r\v\f]*[+-]?\d+/.exec(text);
  return match ? Number.parseInt(match[0], 10) : 0;
}

/**
 * authcode(code, 'DECODE', key): the data, or undefined when the tag does not match (wrong
 * key, a flipped byte, a truncated code) or the embedded expiry has passed.
 */
export function authcodeDecode(code: string, key: string, now: number = Math.floor(Date.now() / 1000)): string | undefined {
  return authcodeDecodeBytes(code, key, now)?.toString('utf8');
}

/** authcodeDecode's data as the bytes the sender encrypted (an application's charset, say). */
export function authcodeDecodeBytes(code: string, key: string, now: number = Math.floor(Date.now() / 1000)): Buffer | undefined {
  if (typeof code !== 'string' || code.length <= CKEY_LENGTH) return undefined;
  const { keya, keyb } = subkeys(key);
  const keyc = code.slice(0, CKEY_LENGTH);
  const body = code.slice(CKEY_LENGTH);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) return undefined;
  const plain = rc4(Buffer.from(keya + md5(keya + keyc), 'latin1'), Buffer.from(body, 'base64'));
  if (plain.length < 26) return undefined;
  const expiry = phpInt(plain.subarray(0, 10).toString('latin1'));
  if (expiry !== 0 && expiry - now <= 0) return undefined;
  const payload = plain.subarray(26);
  const expected = Buffer.from(md5(Buffer.concat([payload, Buffer.from(keyb, 'latin1')])).slice(0, 16), 'latin1');
  // Constant-time compare of the integrity tag.
  if (!timingSafeEqual(plain.subarray(10, 26), expected)) return undefined;
  return payload;
}
