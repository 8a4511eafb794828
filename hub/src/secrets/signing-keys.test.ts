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

describe('signing key set rules, one alg at a time (RS256, ES256, EdDSA)', () => {
  const now = 10 * HOUR;
  const typed = (kid: string, kty: string, crv: string | undefined, alg: string, activatesAt: number) => ({ kty, ...(crv ? { crv } : {}), alg, kid, activatesAt });
  const rsa = (kid: string, at: number) => typed(kid, 'RSA', undefined, 'RS256', at);
  const ec = (kid: string, at: number) => typed(kid, 'EC', 'P-256', 'ES256', at);
  const ed = (kid: string, at: number) => typed(kid, 'OKP', 'Ed25519', 'EdDSA', at);

  test('each alg has its own signing key; every signer comes before the keys that do not sign', () => {
    const set: KeySet = { keys: [ec('ec-next', now + 60_000), rsa('rsa', now - HOUR), ec('ec', now - HOUR), ed('ed', now - 2 * HOUR)] };
    expect(signingKid(set, now, 'RS256')).toBe('rsa');
    expect(signingKid(set, now, 'ES256')).toBe('ec');
    expect(signingKid(set, now, 'EdDSA')).toBe('ed');
    expect(effectiveJwks(set, now, 2 * HOUR).keys.map((k) => k.kid)).toEqual(['rsa', 'ec', 'ed', 'ec-next']);
    expect(signingKid(set, now + 60_000, 'ES256')).toBe('ec-next');
    expect(effectiveJwks(set, now + 60_000, 2 * HOUR).keys.map((k) => k.kid)).toEqual(['ec-next', 'rsa', 'ed', 'ec']);
  });

  test('a newer key retires only older keys of its own alg', () => {
    const set: KeySet = { keys: [ed('ed-new', now - 2 * HOUR), rsa('rsa-old', now - 5 * HOUR), ec('ec-old', now - 5 * HOUR), ed('ed-old', now - 5 * HOUR)] };
    expect(liveKeys(set, now, HOUR).map((k) => k.kid)).toEqual(['ed-new', 'rsa-old', 'ec-old']);
  });

  test('keys written without alg count by their type (RSA keys from before: RS256)', () => {
    const set: KeySet = { keys: [{ kty: 'RSA', kid: 'legacy' }, ec('ec', now - HOUR)] };
    expect(signingKid(set, now, 'RS256')).toBe('legacy');
    expect(signingKid(set, now, 'ES256')).toBe('ec');
  });
});
