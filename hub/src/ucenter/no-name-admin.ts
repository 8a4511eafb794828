import type { UcValue } from './xml.js';

/**
 * UCenter's name administration (`user/addprotected`, `deleteprotected`, `getprotected`,
 * `merge`, `merge_remove`), for a hub that keeps no protected-name list and merges no accounts
 * (names are the hub's: an application creates one only through `user/register`, under the
 * hub's rules). Each is answered in UCenter's words for "not done" or "none", never "Action not
 * found!", which PHP 8 takes as done: a caller's `if($uid <= 0)` after `uc_user_merge()` compares
 * the text with 0 as a string and reads it as a new uid (Discuz! 6/7's rename-on-login, other
 * UCenter clients). Adding or removing a protected name answers -1 (UCenter's failure), a merge
 * 0 (its callers show "undefined action"), the list of protected names is UCenter's XML of an
 * empty list. Discuz! X's installer calls `uc_user_addprotected()` for its
 * admin and ignores the answer.
 */
export const NO_NAME_ADMIN: Readonly<Record<string, () => UcValue[] | number>> = {
  addprotected: () => -1,
  deleteprotected: () => -1,
  getprotected: () => [],
  merge: () => 0,
  merge_remove: () => 0,
};

/** The `m/a` names of {@link NO_NAME_ADMIN}: they change nothing, so an older uc_client's unbound input may ask them. */
export const NO_NAME_ADMIN_OPERATIONS: readonly string[] = Object.keys(NO_NAME_ADMIN).map((action) => `user/${action}`);
