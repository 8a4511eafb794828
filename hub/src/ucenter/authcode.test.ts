import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { authcodeDecode, authcodeEncode } from './authcode.js';

/**
 * Vectors derived independently: a small PHP implementation written for these tests
 * (hub/test/php/authcode.php) encodes and decodes; the TypeScript side must agree byte for
 * byte. CI installs php-cli (.ci/run); without PHP these tests fail rather than skip.
 */
const SCRIPT = fileURLToPath(new URL('../../test/php/authcode.php', import.meta.url));
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function php(...args: (string | number)[]): string {
  return execFileSync('php', [SCRIPT, String(args[0]), ...args.slice(1).map((arg) => b64(String(arg)))], { encoding: 'utf8' });
}

const NOW = 1_700_000_000;
const CASES: { key: string; data: string }[] = [
  { key: 'uc-key-0123456789', data: 'action=synlogin&username=alice&uid=7&time=1700000000' },
  { key: 'Kz8q', data: 'username=bob&password=s3cret&isuid=0&agent=d41d8cd98f00b204e9800998ecf8427e&time=1700000000' },
  { key: '🔑 unicode key', data: 'username=张三&email=zhang@example.com' },
  { key: 'x', data: '' },
  { key: 'long', data: 'a'.repeat(1000) },
];

describe('UCenter authcode (RC4 variant, ckey_length 4)', () => {
  it.each(CASES)('ENCODE with a pinned keyc matches PHP byte for byte ($key)', ({ key, data }) => {
    for (const expiry of [0, 3600]) {
      expect(authcodeEncode(data, key, { keyc: 'a1b2', now: NOW, expirySeconds: expiry })).toBe(php('encode', key, data, 'a1b2', NOW, expiry));
    }
  });

  it.each(CASES)('PHP decodes what TypeScript encodes, and TypeScript decodes what PHP encodes ($key)', ({ key, data }) => {
    const ours = authcodeEncode(data, key, { now: NOW });
    expect(php('decode', key, ours, NOW)).toBe(`OK:${data}`);
    const theirs = php('encode', key, data, 'f00d', NOW, 0);
    expect(authcodeDecode(theirs, key, NOW)).toBe(data);
  });

  it('the code has no base64 padding and starts with its 4-character dynamic key', () => {
    for (let length = 0; length < 8; length += 1) {
      const code = authcodeEncode('x'.repeat(length), 'k', { keyc: 'zz99' });
      expect(code.startsWith('zz99')).toBe(true);
      expect(code).not.toContain('=');
    }
  });

  it('expiry: accepted before, refused at and after the embedded time, on both sides', () => {
    const code = php('encode', 'k', 'action=test', 'beef', NOW, 60);
    expect(authcodeDecode(code, 'k', NOW + 59)).toBe('action=test');
    expect(authcodeDecode(code, 'k', NOW + 60)).toBeUndefined();
    expect(authcodeDecode(code, 'k', NOW + 3600)).toBeUndefined();
    const ours = authcodeEncode('action=test', 'k', { now: NOW, expirySeconds: 60 });
    expect(php('decode', 'k', ours, NOW + 59)).toBe('OK:action=test');
    expect(php('decode', 'k', ours, NOW + 61)).toBe('FAIL');
  });

  it('a flipped byte anywhere in the ciphertext is refused (the 64-bit tag), on both sides', () => {
    const data = 'action=deleteuser&ids=42&time=1700000000';
    const code = authcodeEncode(data, 'k', { keyc: '0a0a', now: NOW });
    const raw = Buffer.from(code.slice(4), 'base64');
    for (let index = 0; index < raw.length; index += 1) {
      const flipped = Buffer.from(raw);
      flipped[index] = flipped[index]! ^ 0x01;
      const tampered = code.slice(0, 4) + flipped.toString('base64').replace(/=+$/, '');
      expect(authcodeDecode(tampered, 'k', NOW)).toBeUndefined();
      if (index % 7 === 0) expect(php('decode', 'k', tampered, NOW)).toBe('FAIL');
    }
  });

  it('a wrong key, a changed dynamic key, a truncated code or junk is refused', () => {
    const code = authcodeEncode('uid=1', 'right', { now: NOW });
    expect(authcodeDecode(code, 'wrong', NOW)).toBeUndefined();
    expect(authcodeDecode(`ffff${code.slice(4)}`, 'right', NOW)).toBeUndefined();
    expect(authcodeDecode(code.slice(0, 20), 'right', NOW)).toBeUndefined();
    expect(authcodeDecode('', 'right', NOW)).toBeUndefined();
    expect(authcodeDecode('abcd!!!!', 'right', NOW)).toBeUndefined();
  });

  it('a random dynamic key makes two encodings of one message differ', () => {
    expect(authcodeEncode('same', 'k')).not.toBe(authcodeEncode('same', 'k'));
  });
});
