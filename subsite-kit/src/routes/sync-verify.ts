import type { Request, Response } from 'express';
import type { KitContext } from '../context.js';
import { InvalidToken } from '../errors.js';
import { checkSyncCode, claimSyncCode, refuseSpentSyncCode, type SyncAction, type SyncClaims } from '../sync-code.js';

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

/** Logs a rejected code with its reason (rate-limited) and passes the error on. */
function logRejected(ctx: KitContext, req: Request, act: SyncAction, error: unknown): never {
  if (error instanceof InvalidToken) {
    ctx.syncLog.warn(`${act}:${error.message}`, `subsite-kit: ${req.baseUrl}${req.path}: ${error.message}`);
  }
  throw error;
}

/**
 * Verifies the sync code of a synclogin / synclogout request (refusing one already spent),
 * without spending it: the handler
 * does its idempotent work, then calls {@link claimSyncRequest} (single use) before answering,
 * so a store failure half-way leaves the code good for the browser's retry. A rejected code is
 * logged with its reason (rate-limited), so a wrong sync key cannot silently stop hub
 * sign-outs reaching this site. Resolves `undefined` after answering a hub integration check
 * (`act=test`, claimed here as it changes nothing) itself.
 */
export async function verifySyncRequest(ctx: KitContext, req: Request, res: Response, act: Exclude<SyncAction, 'test'>): Promise<SyncClaims | undefined> {
  let claims: SyncClaims;
  try {
    claims = await checkSyncCode(req.query.code, req.query.time, act, syncVerifier(ctx));
    // A spent code is refused before any work: a replay (an old beacon, or someone else's
    // code put in a page) changes nothing here.
    if (claims.act !== 'test') await refuseSpentSyncCode(claims, syncVerifier(ctx));
  } catch (error) {
    logRejected(ctx, req, act, error);
  }
  if (claims.act !== 'test') return claims;
  await claimSyncRequest(ctx, req, claims);
  // The hub's integration check: the key, audience and URL are right. Nothing changes here.
  res.set('Cache-Control', 'no-store');
  res.status(200).json({ sync: 'ok', endpoint: `sync${act}`, client_id: ctx.options.clientId });
  return undefined;
}

/** Spends a verified sync code (single use); a replay is refused 400 "already used" and logged. */
export async function claimSyncRequest(ctx: KitContext, req: Request, claims: SyncClaims): Promise<void> {
  try {
    await claimSyncCode(claims, syncVerifier(ctx));
  } catch (error) {
    logRejected(ctx, req, claims.act, error);
  }
}
