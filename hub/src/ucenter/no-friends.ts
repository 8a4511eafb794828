import type { UcValue } from './xml.js';

/**
 * UCenter's friend actions (`friend/*`, uc_server control/friend.php), for a hub that keeps no
 * friend lists: every user has none, in the shapes UCenter answers for a user with none. Callers
 * do arithmetic on `totalnum` (UCenter Home and Discuz! 6/7 page their buddy lists by it): on
 * PHP 8 "Action not found!" there was a TypeError and the page stopped. Adding and deleting
 * change nothing and say so (0).
 */
export const NO_FRIENDS: Record<string, () => UcValue[] | number> = {
  totalnum: () => 0,
  ls: () => [],
  add: () => 0,
  delete: () => 0,
};
