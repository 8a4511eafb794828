import { foldAddress, foldName } from '../store/keys.js';

/**
 * The form a typed login is looked up in: a login that has an '@' once folded (no username has
 * one, so it can only match the address index) as the address index compares it (lower case,
 * `Keys.userByEmail`), anything else as a username (`foldName`, NFKC and lower case). Two logins
 * in one form find the same account, or both none: the sign-in throttle keys an unknown login's
 * pools by it, so the pools tell nothing about which accounts exist. (Folding ｂob@x into bob@x
 * there, while the lookup finds no account for it, told an address with an account, whose failures
 * go to its own pool, from one without.)
 *
 * A login with no '@' of its own whose NFKC form has one (bob＠example.com, or the whole address
 * typed full-width, as a Chinese or Japanese input method in full-width mode writes it) is an
 * address in that form: no stored address lacks an '@', so as typed it could match none, and the
 * lookup (`addressForm`, UserRepository.findByLogin) and the throttle both take it folded. Before,
 * such a sign-in was "the username or password is incorrect" with the right password (a review).
 */
export function loginForm(login: string): string {
  const folded = foldName(login);
  if (!folded.includes('@')) return folded;
  return foldAddress(addressForm(login));
}

/** The address a login that names one is looked up by: as typed, or NFKC when only that form has an '@' (see loginForm). */
export function addressForm(login: string): string {
  return login.includes('@') ? login : login.normalize('NFKC');
}
