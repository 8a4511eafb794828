/**
 * UCenter actions that ask it to do something the hub does not keep: a credit exchange between
 * applications (`credit/request`), another application's credit (`user/getcredit`), its mail
 * queue (`mail/add`) and feeds (`feed/add`). Each is answered 0, UCenter's "not done" (its
 * `credit/request` answers 0 where no exchange rule is set, as none is here), never "Action not
 * found!": callers test the answer for truth, and a text is true. Discuz! X's credit exchange
 * (home.php?mod=spacecp&ac=credit&op=exchange, offered while the forum keeps the credit settings
 * its old UCenter sent, `uc_client/data/cache/creditsettings.php`) took the text as done: it
 * took the member's credits and said "transaction succeeded", and nothing reached the other
 * application. 0 shows its "data error" instead and takes nothing.
 */
export const NOT_SERVED: Readonly<Record<string, Readonly<Record<string, () => number>>>> = {
  credit: { request: () => 0 },
  user: { getcredit: () => 0 },
  mail: { add: () => 0 },
  feed: { add: () => 0 },
};

/** The `m/a` names of {@link NOT_SERVED}: they change nothing, so an older uc_client's unbound input may ask them. */
export const NOT_SERVED_OPERATIONS: readonly string[] = Object.entries(NOT_SERVED).flatMap(([module, actions]) => Object.keys(actions).map((action) => `${module}/${action}`));
