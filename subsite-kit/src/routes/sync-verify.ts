import type { Request, Response } from 'express';
import type { KitContext } from '../context.js';
import { InvalidToken } from '../errors.js';
import { verifySyncCode, type SyncAction, type SyncClaims } from '../sync-code.js';

/** The sync code verifier for this kit. */
export function syncVerifier(ctx: KitContext) {
  return {
    issuers: ctx.options.issuers,
    audience: ctx.options.clientId,
    keys: ctx.options.syncKeys,
    clockSkewSeconds: ctx.options.clockSkewSeconds,
    store: ctx.kitStore,
    storeKeys: ctx.keys,
  };
}

/**
 * Verifies the sync code of a synclogin / synclogout request. A rejected code is logged with its
 * reason (rate-limited), so a wrong sync key cannot silently stop hub sign-outs reaching this
 * site. Resolves `undefined` after answering a hub integration check (`act=test`) itself.
 */
export async function verifySyncRequest(ctx: KitContext, req: Request, res: Response, act: Exclude<SyncAction, 'test'>): Promise<SyncClaims | undefined> {
  let claims: SyncClaims;
  try {
    claims = await verifySyncCode(req.query.code, req.query.time, act, syncVerifier(ctx));
  } catch (error) {
    if (error instanceof InvalidToken) {
      ctx.syncLog.warn(`${act}:${error.message}`, `subsite-kit: ${req.baseUrl}${req.path}: ${error.message}`);
    }
    throw error;
  }
  if (claims.act !== 'test') return claims;
  // The hub's integration check: the key, audience and URL are right. Nothing changes here.
  res.set('Cache-Control', 'no-store');
  res.status(200).json({ sync: 'ok', endpoint: `sync${act}`, client_id: ctx.options.clientId });
  return undefined;
}
