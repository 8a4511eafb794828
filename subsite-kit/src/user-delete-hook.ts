import { randomUUID } from 'node:crypto';
import { thrownAt } from './after-callback.js';
import { KitError } from './errors.js';
import type { KitStore } from './store/store.js';
import type { KitKeys } from './store/keys.js';

/** What the `onUserDelete` hook is told of a userdelete notice from the hub. */
export interface UserDeleteEvent {
  /** The user (the hub's `sub`, as in `req.user.sub`). */
  readonly sub: string;
  /**
   * `'deleted'` (the account is gone: delete the user's local data), `'disabled'` or
   * `'password-reset'` (the account stays: keep the data); `undefined` from a hub that does not
   * say, which may be any of the three (keep the data).
   */
  readonly reason: string | undefined;
  /** When it happened at the hub (epoch seconds, the hub's clock); `undefined` from a hub that does not say. */
  readonly at: number | undefined;
  /** How many local sessions of the user the notice ended (0 for a user never signed in here). */
  readonly sessionsEnded: number;
}

/** The `onUserDelete` option: told of every userdelete notice, after the user's sessions here ended. */
export type OnUserDelete = (event: UserDeleteEvent) => void | Promise<void>;

/**
 * The site's `onUserDelete` hook threw or rejected. The sessions have ended; the notice answers
 * 503, which the hub's delivery queue retries (a fresh token each time), so the hook runs again.
 * Logged with the error's name and where it was thrown, never its message (the site's data may be in it).
 */
export class UserDeleteHookFailed extends KitError {
  override readonly name = 'UserDeleteHookFailed';
  readonly logMessage: string;
  constructor(error: unknown) {
    super(503, 'temporarily_unavailable', 'onUserDelete failed', { cause: error });
    this.logMessage = `this site's onUserDelete threw ${thrownAt(error)}: the user's sessions here have ended; the notice answers 503 and the hub retries it (fix the hook, and keep it idempotent)`;
  }
}

/**
 * How long one run of the hook holds its event (seconds): a retry of the same notice in that time
 * is answered 503 (the hub tries again later) rather than running the hook a second time beside
 * the first. A hook still running after this (or a process that died in it) lets a retry run it again.
 */
export const USER_DELETE_HOOK_LOCK_SECONDS = 15 * 60;
/** How long a hook's success is remembered: past the hub's last retry (`DELIVERY_MAX_AGE_SECONDS`, 7 days). */
export const USER_DELETE_DONE_SECONDS = 8 * 24 * 3600;
/** What a retry that arrives while the hook runs is told to wait (`Retry-After`, seconds). */
export const USER_DELETE_RUNNING_RETRY_AFTER_SECONDS = 30;

/**
 * What makes two attempts one event, as the keys of the kit's store that stand for it. The hub's
 * event id is the same in every attempt at one notice; the user, reason and time of the event
 * (`at`, the queue item's, stable across retries) are sent by hubs with and without ids. During a
 * rolling update one attempt may come from a hub without ids and its retry from one with them (or
 * the other way round): both must find the same run (an upgrade review; before, the hook ran once
 * for each). So:
 * - `lock`: the run's lock, by `at` whenever there is one (two events of one second then run one
 *   after the other; the second is told to come back);
 * - `doneIf`: the hook ran for this event if any of these is marked: the id's mark, and from an
 *   attempt without an id the mark of its `at` (an event with an id is not taken for another
 *   event of the same second that had its own id);
 * - `mark`: what a run marks.
 * `undefined` from a hub that sends neither id nor `at`: each attempt runs the hook.
 *
 * Each key starts with the site's client id (`site`): sites on one Redis under one `redisPrefix`
 * (the default, `sso-kit:`, on a Redis twenty sites share) get notices of one event with the same
 * sub, reason and `at`. Unscoped, one site's run held the others' lock (a 503 and a retry for
 * each), and from a hub without ids its mark said `done` to the others, whose hooks never ran
 * while the hub was told the notice was handled (a subsite developer's review). The id's mark as
 * kits before this wrote it (unscoped) is still read: ids are the hub's per notice, so per site.
 */
export interface UserDeleteEventKeys {
  lock: string;
  doneIf: string[];
  mark: string[];
}

export function userDeleteEventKeys(site: string, notice: { sub: string; reason?: string | undefined; at?: number | undefined; id?: string | undefined }): UserDeleteEventKeys | undefined {
  const scoped = (key: string) => `site\0${site}\0${key}`;
  const unscopedId = notice.id !== undefined ? `id\0${notice.id}` : undefined;
  const byId = unscopedId !== undefined ? scoped(unscopedId) : undefined;
  const byAt = notice.at !== undefined ? scoped(`at\0${notice.sub}\0${notice.reason ?? ''}\0${notice.at}`) : undefined;
  const byAtWithoutId = byAt !== undefined ? `at-without-id\0${byAt}` : undefined;
  if (byId !== undefined && byAt !== undefined) return { lock: byAt, doneIf: [byId, byAtWithoutId!, unscopedId!], mark: [byId, byAt] };
  if (byId !== undefined) return { lock: byId, doneIf: [byId, unscopedId!], mark: [byId] };
  if (byAt !== undefined) return { lock: byAt, doneIf: [byAt], mark: [byAt, byAtWithoutId!] };
  return undefined;
}

/** `ran`: the hook ran now (or there is none); `done`: it ran for an earlier attempt; `running`: it is running for another attempt now. */
export type UserDeleteHookOutcome = 'ran' | 'done' | 'running';

/** Runs the hook, if any. Throws {@link UserDeleteHookFailed} when it fails (a kit error of a call it made goes on as it is). */
export async function runUserDeleteHook(hook: OnUserDelete | undefined, event: UserDeleteEvent): Promise<void> {
  if (!hook) return;
  try {
    await hook(Object.freeze({ ...event }));
  } catch (error) {
    if (error instanceof KitError) throw error;
    throw new UserDeleteHookFailed(error);
  }
}

/**
 * Runs the hook once per event (`eventKeys`, see {@link userDeleteEventKeys}): the hub retries a
 * notice whose answer it did not get in time (a hook slower than its delivery timeout), each time
 * with a fresh token, so the token's `jti` cannot tell a retry from a new event. The run holds a
 * lock in the kit's store; a retry meanwhile gets `running`, one after a success `done`. A hook
 * that fails releases the lock and is run again by the next retry.
 */
export async function runUserDeleteHookOnce(
  store: KitStore,
  keys: KitKeys,
  eventKeys: UserDeleteEventKeys | undefined,
  hook: OnUserDelete | undefined,
  event: UserDeleteEvent,
  onDoneNotSaved: (error: unknown) => void,
): Promise<UserDeleteHookOutcome> {
  if (!hook) return 'ran';
  if (eventKeys === undefined) {
    await runUserDeleteHook(hook, event);
    return 'ran';
  }
  const isDone = async () => (await Promise.all(eventKeys.doneIf.map((key) => store.isClaimed(keys.userDeleteDone(key))))).some(Boolean);
  if (await isDone()) return 'done';
  const running = keys.userDeleteRunning(eventKeys.lock);
  const owner = randomUUID();
  if (!(await store.claimOnce(running, USER_DELETE_HOOK_LOCK_SECONDS, owner))) {
    // Another attempt holds the event: still running, or it finished between the two reads.
    return (await isDone()) ? 'done' : 'running';
  }
  try {
    await runUserDeleteHook(hook, event);
  } catch (error) {
    await store.releaseClaim(running, owner).catch(() => undefined); // else it lapses: the retry waits until then
    throw error;
  }
  // The hook has run: the notice is answered 200 even if this cannot be recorded (the hub then
  // stops, and only a retry of an answer it lost could run the hook again).
  try {
    for (const key of eventKeys.mark) await store.claimOnce(keys.userDeleteDone(key), USER_DELETE_DONE_SECONDS);
    await store.releaseClaim(running, owner);
  } catch (error) {
    onDoneNotSaved(error);
  }
  return 'ran';
}
