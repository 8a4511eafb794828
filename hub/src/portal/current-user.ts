import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import type { User } from '../users/user.js';
import type { UserRepository } from '../users/user-repository.js';

export interface SignedIn {
  user: User;
  /** Client ids this browser session has signed in to. */
  clientIds: string[];
}

type SessionModel = { accountId?: string; authorizations?: Record<string, unknown> };
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
  return { user, clientIds: Object.keys(session.authorizations ?? {}) };
}
