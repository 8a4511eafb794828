import { foldName } from '../store/keys.js';

/**
 * The form a typed login is looked up in: a login that has an '@' once folded (no username has
 * one, so it can only match the address index) as the address index compares it (lower case,
 * `Keys.userByEmail`), anything else as a username (`foldName`, NFKC and lower case). Two logins
 * in one form find the same account, or both none: the sign-in throttle keys an unknown login's
 * pools by it, so the pools tell nothing about which accounts exist. (Folding ｂob@x or bob＠x into
 * bob@x there, while the lookup finds no account for them, told an address with an account, whose
 * failures go to its own pool, from one without.)
 */
export function loginForm(login: string): string {
  const folded = foldName(login);
  return folded.includes('@') ? login.toLowerCase() : folded;
}
