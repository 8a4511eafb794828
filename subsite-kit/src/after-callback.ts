import type { Request } from 'express';
import { KitError } from './errors.js';
import { logText } from './log-text.js';
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

/**
 * The site's `afterCallback` hook threw (its own bug, or a lookup of its own that failed) or
 * returned something the kit cannot keep. Not an outage of the hub or the store: the sign-in
 * fails with a 500 page (a silent check drops `Request-Login` rather than coming back every 30 s
 * to the same failure), and the log line says it was the hook, with the error's name and where
 * it was thrown (its first stack frame), never its message (the site's data may be in it).
 */
export class AfterCallbackFailed extends KitError {
  override readonly name = 'AfterCallbackFailed';
  readonly logMessage: string;
  constructor(what: string, options: { cause?: unknown } = {}) {
    super(500, 'server_error', 'afterCallback failed', options);
    this.logMessage = `this site's afterCallback ${what}: the sign-in is refused and no session is made (fix the hook; the hub and the store are not at fault)`;
  }
}

/** `TypeError at file:///srv/site/app.js:17:40`: the error's name (and code) and its first stack frame. */
export function thrownAt(error: unknown): string {
  const { name, code, stack } = (error ?? {}) as { name?: unknown; code?: unknown; stack?: unknown };
  const label = typeof name === 'string' ? `${name}${typeof code === 'string' ? ` (${code})` : ''}` : `a ${typeof error}`;
  const frame = typeof stack === 'string' ? /^\s+at (.+)$/m.exec(stack)?.[1] : undefined;
  return frame ? `${label} at ${logText(frame.slice(0, 200))}` : label;
}

/** Runs the hook, if any, and returns the user to keep. Throws {@link SignInRefused} on refusal, {@link AfterCallbackFailed} when the hook fails. */
export async function applyAfterCallback(hook: AfterCallback | undefined, context: AfterCallbackContext): Promise<SsoUser> {
  if (!hook) return context.user;
  let result: Awaited<ReturnType<AfterCallback>>;
  try {
    result = await hook(context);
  } catch (error) {
    // SignInRefused, and the kit's own errors from calls the hook made (the store down: 503).
    if (error instanceof KitError) throw error;
    throw new AfterCallbackFailed(`threw ${thrownAt(error)}`, { cause: error });
  }
  if (result === false) throw new SignInRefused();
  if (result === undefined) return context.user;
  if (typeof result !== 'object' || result === null || result.sub !== context.user.sub) {
    throw new AfterCallbackFailed('returned something other than a user with the same sub, false, or nothing');
  }
  return result;
}
