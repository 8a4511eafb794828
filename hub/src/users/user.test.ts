import { hasForbiddenNameCharacter, isUnverifiedSignUp, mayBeRemovedUnverified } from './user.js';

describe('display names', () => {
  test.each([
    ['Alice Liddell'],
    ['张三'],
    ['Zoë'],
    ['\u0645\u062D\u0645\u062F\u200C\u0631\u0636\u0627'], // Persian with a zero-width non-joiner
    ['\u{1F469}\u200D\u{1F469}\u200D\u{1F467}'], // an emoji family (zero-width joiners)
    ['\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}'], // a subdivision flag (tag characters)
  ])('%j is a name', (name) => {
    expect(hasForbiddenNameCharacter(name)).toBe(false);
  });

  test.each([
    ['bad\u0007name'], // a control character
    ['line\u2028break'],
    ['\u202Eevil'], // right-to-left override: shows reversed
    ['a\u200Bb'], // zero-width space: looks like "ab"
    ['\uFEFFalice'], // byte order mark
    ['x\u2066y\u2069'], // a bidirectional isolate
    ['\u200Ealice'], // left-to-right mark
  ])('%j is refused', (name) => {
    expect(hasForbiddenNameCharacter(name)).toBe(true);
  });
});

describe('an unverified self-sign-up that may be removed', () => {
  const waiting = { signedUp: true, emailVerified: false, roles: [] as string[] };
  test.each([
    ['waiting for its verification', waiting, true, true],
    ['an older record without emailVerified', { signedUp: true, roles: [] }, true, true],
    ['verified', { ...waiting, emailVerified: true }, false, false],
    ['signed in before verifying', { ...waiting, signedInUnverifiedAt: 1_700_000_000 }, false, false],
    ['made by an admin (not signed up)', { emailVerified: false, roles: [] }, false, false],
    ['signedUp false', { ...waiting, signedUp: false }, false, false],
    ['given a role by an admin', { ...waiting, roles: ['admin'] }, true, false],
  ])('%s', (_label, user, unverified, removable) => {
    expect(isUnverifiedSignUp(user)).toBe(unverified);
    expect(mayBeRemovedUnverified(user)).toBe(removable);
  });
});
