import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import { longCookieOptions } from '../oidc/provider.js';
import type { User } from '../users/user.js';
import type { UserRepository } from '../users/user-repository.js';

export interface SignedIn {
  user: User;
  /** Client ids this browser session has signed in to. */
  clientIds: string[];
  /** The hub session's uid (stable across id rotation): what "the other sessions" are told apart by. */
  sessionUid: string;
}

type SessionModel = {
  accountId?: string;
  uid: string;
  id: string;
  exp?: number;
  transient?: boolean;
  authorizations?: Record<string, unknown>;
  resetIdentifier(): void;
  save(ttl: number): Promise<unknown>;
};
type SessionGetter = { get(ctx: unknown): Promise<SessionModel> };

/**
 * Who is signed in at the hub, read from the hub's OIDC session (the one source of truth
 * that subsites' silent checks also use). A disabled or deleted user is not signed in.
 */
export async function currentUser(provider: Provider, users: UserRepository, req: Request, res: Response): Promise<SignedIn | undefined> {
  const ctx = provider.createContext(req, res);
  const session = await (provider.Session as unknown as SessionGetter).get(ctx);
  if (!session.accountId) return undefined;
  const user = await users.findById(session.accountId);
  if (!user || user.disabled) return undefined;
  return { user, clientIds: Object.keys(session.authorizations ?? {}), sessionUid: session.uid };
}

/**
 * Gives this browser's hub session a new id (and cookie), keeping what it holds: after a
 * password change, an id that may have leaked with the old password no longer works. The
 * session's uid, sign-in time and subsites stay; the old record is destroyed by `save`.
 */
export async function rotateHubSession(provider: Provider, req: Request, res: Response, secureCookies: boolean): Promise<void> {
  const ctx = provider.createContext(req, res);
  const session = await (provider.Session as unknown as SessionGetter).get(ctx);
  if (!session.accountId || typeof session.exp !== 'number') return;
  const ttl = session.exp - Math.floor(Date.now() / 1000);
  if (ttl <= 0) return;
  session.resetIdentifier();
  await session.save(ttl);
  ctx.cookies.set(provider.cookieName('session'), session.id, {
    ...longCookieOptions(secureCookies),
    // As oidc-provider sets it: a "keep me signed in" session outlives the browser, a transient one does not.
    ...(session.transient ? {} : { expires: new Date(session.exp * 1000) }),
  });
}

/**
 * Sends a browser that is no longer signed in to sign in, and back to `next` after. A form it
 * sent (signed out meanwhile, in another tab) was not acted on: the sign-in page says so, once,
 * instead of dropping the change without a word (a review).
 */
export function signInFirst(req: Request, res: Response, next: string): void {
  if (req.method === 'POST' && req.session) req.session.formNotSaved = true;
  res.redirect(303, `/login?next=${encodeURIComponent(next)}`);
}
