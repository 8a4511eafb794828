import { sameToken } from './csrf.js';

test('sameToken: the stored token, and only it, matches; nothing stored or nothing given never does', () => {
  const stored = 'a3f0c9d2e1b4a5c6d7e8f90112233445';
  expect(sameToken(stored, stored)).toBe(true);
  expect(sameToken(`${stored.slice(0, -1)}6`, stored)).toBe(false); // the last character
  expect(sameToken(stored.slice(0, -1), stored)).toBe(false); // a prefix
  expect(sameToken(`${stored}0`, stored)).toBe(false);
  expect(sameToken('', stored)).toBe(false);
  expect(sameToken(undefined, stored)).toBe(false);
  expect(sameToken(stored, undefined)).toBe(false);
  expect(sameToken(stored, null)).toBe(false);
  expect(sameToken('', '')).toBe(false); // an empty stored token matches nothing
});
