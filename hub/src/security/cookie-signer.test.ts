import { describe, expect, test } from '@jest/globals';
import Keygrip from 'keygrip';
import { CookieSigner } from './cookie-signer.js';

const KEYS = ['first-cookie-key-0123456789abcdef', 'second-cookie-key-0123456789abcdef'];
const DATA = ['hub_interaction=Jb5MpQ6bCU3MxtvDlsYhR', 'hub_session=x', '', 'ünïcødé=✓', 'a'.repeat(4096)];

describe('CookieSigner (oidc-provider cookies.keys)', () => {
  test('signs as keygrip does by default, byte for byte (cookies signed before still verify)', () => {
    const keygrip = new Keygrip(KEYS);
    const signer = new CookieSigner(KEYS);
    for (const data of DATA) {
      expect(signer.sign(data)).toBe(keygrip.sign(data));
      expect(signer.index(data, keygrip.sign(data))).toBe(0);
      expect(keygrip.index(data, signer.sign(data))).toBe(0);
    }
  });

  test('the first key signs, every key verifies (rotation), and says which', () => {
    const before = new CookieSigner([KEYS[1]!]);
    const rotated = new CookieSigner(KEYS);
    const data = DATA[0]!;
    expect(rotated.index(data, before.sign(data))).toBe(1);
    expect(rotated.verify(data, before.sign(data))).toBe(true);
    expect(before.index(data, rotated.sign(data))).toBe(-1);
  });

  test('refuses a signature of other data, another key, another length, or none', () => {
    const signer = new CookieSigner(KEYS);
    const sig = signer.sign(DATA[0]!);
    expect(signer.verify(DATA[1]!, sig)).toBe(false);
    expect(signer.verify(DATA[0]!, new CookieSigner(['other-key']).sign(DATA[0]!))).toBe(false);
    expect(signer.verify(DATA[0]!, sig.slice(1))).toBe(false);
    expect(signer.verify(DATA[0]!, `${sig}A`)).toBe(false);
    expect(signer.verify(DATA[0]!, '')).toBe(false);
    // One character changed: same length, different bytes.
    expect(signer.verify(DATA[0]!, (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1))).toBe(false);
  });

  test('needs a key', () => {
    expect(() => new CookieSigner([])).toThrow(TypeError);
  });
});
