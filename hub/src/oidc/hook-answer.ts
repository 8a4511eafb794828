import type { IncomingMessage } from 'node:http';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { translator } from '../i18n/i18n.js';
import { localeOfContext } from '../i18n/locale-middleware.js';
import { STORE_RETRY_AFTER } from '../store/store.js';

/** The endpoints only programs call (token, PAR, introspection, revocation, userinfo, keys, discovery). */
const PROGRAM_ENDPOINTS = /^\/(token(\/(introspection|revocation))?|request|me|jwks|\.well-known\/[^/]+)\/?$/i; // oidc-provider's router takes one trailing slash, in any letter case

/**
 * Whether an error answer is JSON: always at an endpoint only programs call (a client that
 * sends no Accept, or `*\/*`, must not get the error page), else when the request prefers it.
 */
export function wantsJson(ctx: KoaContextWithOIDC): boolean {
  return isProgramEndpoint(ctx) || ctx.accepts('html', 'json') === 'json';
}

/** Whether the request is at an endpoint only programs call: its errors are JSON whatever `Accept` prefers. */
export function isProgramEndpoint(ctx: Pick<KoaContextWithOIDC, 'path'>): boolean {
  return PROGRAM_ENDPOINTS.test(ctx.path);
}

/** Renders the hub's error page for a protocol request (the page's title and text, and a "Try again" link when there is one). */
export type HookPageRender = (ctx: KoaContextWithOIDC, title: string, description: string, retry?: string) => string;

export interface HookRefusal {
  status: number;
  /** Seconds, for `Retry-After` (a refusal that waiting does not mend has none). */
  retryAfter?: string;
  /** The page's title and text, in the reader's language. */
  title: string;
  description: string;
  /** The RFC 6749-style `error_description` for a program (English, as the protocol's are). */
  jsonDescription: string;
  /** The RFC 6749 `error` code for a program: `temporarily_unavailable` unless said. */
  error?: string;
  /** A path on the hub the page's "Try again" loads (only for an answer that waiting mends). */
  retry?: string;
}

/**
 * Answers a protocol request from a `before` hook (oidc-provider has not run): the hub's error
 * page for a browser, RFC 6749-style `temporarily_unavailable` JSON for a client that asks for
 * JSON. Used where the answer is "not now, try again" (too many sign-in pages, the store down).
 */
export function refuseFromHook(ctx: KoaContextWithOIDC, render: HookPageRender, refusal: HookRefusal): void {
  ctx.status = refusal.status;
  if (refusal.retryAfter !== undefined) ctx.set('Retry-After', refusal.retryAfter);
  if (wantsJson(ctx)) {
    ctx.body = { error: refusal.error ?? 'temporarily_unavailable', error_description: refusal.jsonDescription };
    return;
  }
  ctx.type = 'html';
  ctx.body = render(ctx, refusal.title, refusal.description, refusal.retry);
}

/**
 * {@link refuseFromHook} for a store that failed or did not answer in time: 503, the hub's usual
 * words; `retry`, a path on the hub that can be loaded again as it is, becomes the page's "Try again".
 */
export function storeDownFromHook(ctx: KoaContextWithOIDC, render: HookPageRender, retry?: string): void {
  const t = translator(localeOfContext(ctx));
  refuseFromHook(ctx, render, {
    status: 503,
    retryAfter: STORE_RETRY_AFTER,
    title: t('errors:titles.unavailable'),
    description: t('errors:descriptions.unavailableShortly'),
    jsonDescription: translator('en')('errors:descriptions.unavailableShortly'),
    ...(retry !== undefined ? { retry } : {}),
  });
}

/**
 * An error nothing else answered (a bug in a hook, not the store): RFC 6749 `server_error` JSON
 * for a client, the hub's generic error page for a browser, status 500; never koa's bare text.
 * Says `false` when the answer has started, for koa to cut it off.
 */
export function serverErrorFromHook(ctx: KoaContextWithOIDC, render: HookPageRender): boolean {
  if (ctx.headerSent) return false;
  ctx.status = 500;
  ctx.remove('Retry-After');
  const t = translator(localeOfContext(ctx));
  if (wantsJson(ctx)) {
    ctx.body = { error: 'server_error', error_description: translator('en')('errors:generic.description') };
    return true;
  }
  ctx.type = 'html';
  ctx.body = render(ctx, t('errors:generic.title'), t('errors:generic.description'));
  return true;
}

/**
 * Whether the client went away before it had sent the whole request (a body cut short, then the
 * connection closed): the request log's 499, the client's doing. Its error (Node's "Parse Error"
 * as the body is read) is not the hub's failure, so it is not logged as one (a review: anyone
 * could write error lines with a stack trace into the hub's log this way).
 */
export function cutOffByClient(error: unknown, ctx: { req?: IncomingMessage } | undefined): boolean {
  const req = ctx?.req;
  const code = (error as { code?: unknown } | undefined)?.code;
  // Node's HTTP parser (HPE_*) or the socket (reset, aborted) said so: not any error that merely came after the client left.
  const fromTheConnection = typeof code === 'string' && (code.startsWith('HPE_') || code === 'ECONNRESET' || code === 'ECONNABORTED');
  return fromTheConnection && req !== undefined && !req.complete && (req.destroyed || req.socket?.destroyed === true);
}
