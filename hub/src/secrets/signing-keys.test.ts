import { effectiveJwks, liveKeys, signingKid, type KeySet } from './signing-keys.js';

const HOUR = 3_600_000;
const key = (kid: string, activatesAt?: number) => ({ kty: 'RSA', kid, ...(activatesAt !== undefined ? { activatesAt } : {}) });

describe('signing key set rules', () => {
  const now = 10 * HOUR;

  test('the newest activated key signs; a key not yet active is published but does not sign', () => {
    const set: KeySet = { keys: [key('next', now + 60_000), key('current', now - HOUR), key('old', now - 5 * HOUR)] };
    expect(signingKid(set, now)).toBe('current');
    expect(effectiveJwks(set, now, 2 * HOUR).keys.map((k) => k.kid)).toEqual(['current', 'next', 'old']);
    expect(effectiveJwks(set, now, HOUR / 2).keys.map((k) => k.kid)).toEqual(['current', 'next']);
    expect(signingKid(set, now + 60_000)).toBe('next');
  });

  test('a replaced key stays published for the retirement period after its successor activates, then goes', () => {
    const set: KeySet = { keys: [key('new', now - 30 * 60_000), key('old', now - 5 * HOUR)] };
    expect(liveKeys(set, now, HOUR).map((k) => k.kid)).toEqual(['new', 'old']);
    expect(liveKeys(set, now + 31 * 60_000, HOUR).map((k) => k.kid)).toEqual(['new']);
  });

  test('keys stored before live rotation (no activatesAt): the first signs, none retires until a rotation', () => {
    const set: KeySet = { keys: [key('first'), key('second')] };
    expect(signingKid(set, now)).toBe('first');
    expect(liveKeys(set, now, 0).map((k) => k.kid)).toEqual(['first', 'second']);
    const rotated: KeySet = { keys: [key('rotated', now), ...set.keys] };
    expect(signingKid(rotated, now)).toBe('rotated');
    expect(liveKeys(rotated, now + HOUR, HOUR).map((k) => k.kid)).toEqual(['rotated']);
  });

  test('the metadata never reaches the published keys', () => {
    expect(effectiveJwks({ keys: [key('a', 1)] }, now, HOUR).keys[0]).toEqual({ kty: 'RSA', kid: 'a' });
  });
});
