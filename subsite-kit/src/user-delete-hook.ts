import { thrownAt } from './after-callback.js';
import { KitError } from './errors.js';

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
