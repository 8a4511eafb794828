import type { UcValue } from './xml.js';
import type { UcInput } from './ucenter-service.js';

/**
 * UCenter's private-message actions (`pm/*`), for a hub that keeps no private messages: every
 * user has none, in the shapes UCenter answers for a user with none. Discuz! X3.5 reads them on
 * ordinary pages (the top bar's new-message check, the Messages page) and indexes the answers
 * as arrays: "Action not found!" there was a PHP 8 fatal error ("Cannot access offset of type
 * string on string"). Sending, deleting and blacklists change nothing and say so (0).
 */
export const NO_MESSAGES: Record<string, (input: UcInput) => UcValue[] | Record<string, UcValue> | string | number> = {
  // uc_pm_checknew($uid, $more): a count for more=0, the counts by kind for 1-4.
  check_newpm: (input): Record<string, UcValue> | number => {
    const more = Number.parseInt(input.more ?? '0', 10) || 0;
    if (more === 1) return { newpm: 0, newprivatepm: 0 };
    if (more === 2 || more === 4) return { newpm: 0, newprivatepm: 0, newchatpm: 0 };
    if (more === 3) return { newpm: 0, newprivatepm: 0, newchatpm: 0, lastdate: 0, lastmsgfromid: 0, lastmsgfrom: '', lastmsg: '' };
    return 0;
  },
  // uc_pm_list: the page of conversations and their count.
  ls: () => ({ data: [], count: 0 }),
  view: () => [],
  viewnum: () => 0,
  viewnode: () => [],
  chatpmmemberlist: () => [],
  blackls_get: () => '',
  ignore: () => 0,
  readstatus: () => 0,
  sendpm: () => 0,
  delete: () => 0,
  deletechat: () => 0,
  deleteuser: () => 0,
  kickchatpm: () => 0,
  appendchatpm: () => 0,
  blackls_set: () => 0,
  blackls_add: () => 0,
  blackls_delete: () => 0,
};
