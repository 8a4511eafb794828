import type { Request, RequestHandler } from 'express';
import type { KitContext } from '../context.js';
import { InvalidRequest } from '../errors.js';
import { verifyUserDeleteToken } from '../hub-token.js';
import { hubTokenVerifier } from './backchannel-logout.js';

function tokenOf(req: Request): unknown {
  const authorization = req.get('authorization');
  if (authorization !== undefined) {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization);
    if (!match) throw new InvalidRequest('Authorization must be "Bearer <token>"');
    return match[1];
  }
  return (req.body as Record<string, unknown> | undefined)?.token;
}

/**
 * `POST /sso/userdelete`: the hub deleted or disabled a user. The hub-signed token
 * (`typ: userdelete+jwt`) comes as a Bearer token or a `token` body field. Every local
 * session of its `sub` ends; an unknown user is fine (2xx), so the hub's queue can stop.
 */
export function userdelete(ctx: KitContext): RequestHandler {
  return async (req, res) => {
    const token = tokenOf(req);
    if (token === undefined) throw new InvalidRequest('token is required');
    const sub = await verifyUserDeleteToken(token, hubTokenVerifier(ctx));
    const ended = await ctx.index.endAllSessionsOf(sub);
    res.set('Cache-Control', 'no-store');
    res.status(200).json({ sessions_ended: ended });
  };
}
