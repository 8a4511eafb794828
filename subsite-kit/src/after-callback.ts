import type { Request } from 'express';
import { KitError } from './errors.js';
import type { SsoUser } from './session.js';

/** What an {@link AfterCallback} hook is given. */
export interface AfterCallbackContext {
  /** Every claim of the validated ID token (read-only). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The user the kit would keep: `sub`, the profile fields and `claims`. */
  readonly user: SsoUser;
  /** The callback request (e.g. for the site's own lookups). */
  readonly req: Request;
}

/**
 * The `afterCallback` option: map claims or refuse a user. Return a user to keep instead of the
 * default (its `sub` must stay the hub's), `false` to refuse, or nothing to keep the default.
 */
export type AfterCallback = (context: AfterCallbackContext) => SsoUser | false | undefined | void | Promise<SsoUser | false | undefined | void>;

/**
 * Thrown by an `afterCallback` hook (or returned as `false`) to refuse a sign-in: the visitor
 * sees a 403 page with `message` and stays anonymous; no session is created, nothing loops.
 */
export class SignInRefused extends KitError {
  override readonly name = 'SignInRefused';
  constructor(message = 'This account may not sign in to this site.') {
    super(403, 'access_denied', message);
  }
}

/** Runs the hook, if any, and returns the user to keep. Throws {@link SignInRefused} on refusal. */
export async function applyAfterCallback(hook: AfterCallback | undefined, context: AfterCallbackContext): Promise<SsoUser> {
  if (!hook) return context.user;
  const result = await hook(context);
  if (result === false) throw new SignInRefused();
  if (result === undefined) return context.user;
  if (typeof result !== 'object' || result === null || result.sub !== context.user.sub) {
    throw new TypeError('subsite-kit: afterCallback must return a user with the same sub, false, or nothing');
  }
  return result;
}
