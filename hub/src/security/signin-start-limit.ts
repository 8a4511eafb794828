import type { NextFunction, Request, Response } from 'express';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { HubError, messageOf, msg } from '../errors.js';
import { clientIp } from '../http/client-ip.js';
import { addressKey } from './address-key.js';
import { translator } from '../i18n/i18n.js';
import { localeOfContext } from '../i18n/locale-middleware.js';
import type { RedisClient } from '../store/redis.js';
import { StoreUnavailableError } from '../store/store.js';
import { refuseFromHook, storeDownFromHook, type HookPageRender } from '../oidc/hook-answer.js';
import { cameFromPostedForm } from '../oidc/posted-forms.js';
import { WindowLimit } from './window-limit.js';
import { isEmbeddedRequest } from './fetch-metadata.js';
import { signInBindingCookieName, signInBindingMatches } from './sign-in-binding.js';

/**
 * oidc-provider's endpoints that may store a record for a browser nobody signed in with: the
 * authorization endpoint and its resume path (an Interaction), and the end-session pages (an
 * anonymous GET /session/end stores a session for its form's xsrf token), but the signed-out page
 * `/session/end/success`, which stores nothing: counted, a user signed out past the budget (let
 * through, see SIGN_OUT_PATH) ended on a 429 page there (a diff review). Its routing ignores case.
 */
const RECORD_WRITING_PATH = /^\/(?!session\/end\/success\/?$)(auth|session\/end)(\/|$)/i;

/**
 * The pushed authorization request endpoint (RFC 9126) stores a request for a minute. A client
 * authenticating with HTTP Basic is a server the hub knows (its sign-ins must not be limited per
 * address); without that header (a public client, or a secret in the body) it counts like a
 * sign-in start, so nobody can fill the store from one address.
 */
const PAR_PATH = /^\/request\/?$/i;

/**
 * The sign-out question and its confirmation. A signed-in browser's sign-out writes no new record
 * (the question's token goes into its own session, the confirmation ends it), so it is never
 * refused for its address's budget: ASVS 5 V7.4.1, and anyone at the same address (a NAT, a
 * carrier's CGNAT) could otherwise spend the budget and keep everyone behind it signed in.
 */
const SIGN_OUT_PATH = /^\/session\/end(\/confirm)?\/?$/i;

/** oidc-provider's resume path, `/auth/:uid` (its routing ignores case). */
const RESUME_PATH = /^\/auth\/([^/]+)\/?$/i;

type SessionReader = { get(ctx: unknown): Promise<{ accountId?: string }> };
type InteractionReader = { find(uid: string): Promise<{ result?: { browser?: { uid?: unknown; digest?: unknown } } } | undefined> };

/**
 * Whether this browser finished, with the password, the sign-in the resume at this path carries
 * on (the interaction's sign-in binding matches the browser's cookie: security/sign-in-binding.ts).
 * Such a resume writes records for one interaction only, once (oidc-provider destroys it), and
 * that interaction was counted when it started; without the binding it is refused as before.
 */
async function finishedSignInHere(ctx: KoaContextWithOIDC, secureCookies: boolean): Promise<boolean> {
  const match = RESUME_PATH.exec(ctx.path);
  if (!match) return false;
  let uid: string;
  try {
    uid = decodeURIComponent(match[1]!);
  } catch {
    return false;
  }
  const { Interaction } = ctx.app as unknown as { Interaction: InteractionReader };
  const browser = (await Interaction.find(uid))?.result?.browser;
  if (typeof browser?.uid !== 'string') return false;
  return signInBindingMatches(browser.digest, ctx.cookies.get(signInBindingCookieName(secureCookies, browser.uid), { signed: false }));
}

/** Whether the request carries a hub session someone is signed in to (one store read; a stale or absent cookie is none). */
async function signedInAtHub(ctx: KoaContextWithOIDC): Promise<boolean> {
  const { Session } = ctx.app as unknown as { Session: SessionReader };
  return Boolean((await Session.get(ctx)).accountId);
}

/** The authorization endpoint itself (not its resume path `/auth/:uid`). */
const AUTHORIZATION_PATH = /^\/auth\/?$/i;

/**
 * A silent check (`prompt=none`) stores nothing: oidc-provider answers it at once, with a code or
 * an error, and never opens an interaction. Not counted, so the sign-in pages strangers at the same
 * address open (a shared NAT, or someone spending the budget on purpose) never turn a signed-in
 * user's silent check at a subsite into the hub's "too many" page.
 */
function isSilentCheck(ctx: KoaContextWithOIDC): boolean {
  return AUTHORIZATION_PATH.test(ctx.path) && ctx.query.prompt === 'none';
}

function writesRecord(ctx: KoaContextWithOIDC): boolean {
  if (RECORD_WRITING_PATH.test(ctx.path)) return !isSilentCheck(ctx) && !cameFromPostedForm(ctx.req); // a kept form's GET: counted at its POST
  return PAR_PATH.test(ctx.path) && !/^basic /i.test(ctx.get('authorization'));
}

/**
 * The address a counted GET can be loaded again at (its path and query on the hub), for the
 * store-down page's "Try again"; none for a POST. Counted paths start with one `/` (never `//host`).
 */
function reloadable(ctx: KoaContextWithOIDC): string | undefined {
  if (ctx.method !== 'GET' || !RECORD_WRITING_PATH.test(ctx.path)) return undefined;
  const url = ctx.originalUrl;
  // The path test above already means the address starts with /auth or /session/end; the checks
  // below are defence in depth, should that test ever widen (never a protocol-relative href).
  return url.startsWith('/') && !url.startsWith('//') && !url.startsWith('/\\') ? url : undefined;
}

/** A sign-in or sign-out page fetched as an image, a script, a frame or by `fetch()` ({@link isEmbeddedRequest}): refused, not counted. */
export class EmbeddedSignInPageError extends HubError {
  override readonly name = 'EmbeddedSignInPageError';
  constructor() {
    super(400, msg('errors:embeddedSignInPage'));
  }
}

/** Raised when one address opens sign-in pages faster than any person does. */
export class TooManySignInStartsError extends HubError {
  override readonly name = 'TooManySignInStartsError';
  constructor(readonly retryAfterSeconds: number) {
    super(429, msg('errors:tooManySignInStarts'));
  }
}

export interface SignInStartLimitOptions {
  perIp: number;
  /** Whether the hub's cookies are Secure (the sign-in binding cookie's name depends on it): the resume past the budget reads that cookie. */
  secureCookies: boolean;
  windowSeconds: number;
  keyPrefix: string;
  redis?: RedisClient;
}

/**
 * Every `GET /login` and every authorization request (`/auth`) may write a record before
 * anyone signed in (a portal session, an oidc-provider Interaction). Counted per client
 * address, so a flood from one address creates at most `perIp` records per window (each
 * expires on its own) while people elsewhere are not affected.
 */
export class SignInStartLimit {
  readonly #limit: WindowLimit;
  readonly #secureCookies: boolean;

  constructor(options: SignInStartLimitOptions) {
    this.#secureCookies = options.secureCookies;
    this.#limit = new WindowLimit({ name: 'starts', points: options.perIp, windowSeconds: options.windowSeconds, keyPrefix: options.keyPrefix, redis: options.redis });
  }

  /**
   * Counts one start from `ip`; throws TooManySignInStartsError over the limit, and
   * StoreUnavailableError when the store fails or does not answer within the deadline.
   */
  async count(ip: string): Promise<void> {
    const wait = await this.#limit.count(addressKey(ip));
    if (wait !== undefined) throw new TooManySignInStartsError(wait);
  }

  /**
   * Express middleware: 429 with Retry-After (a page, or RFC 6749-style JSON for a client that asks for JSON).
   * With `counted`, only the requests it picks are counted (and refused); the others pass as they are.
   */
  middleware(counted?: (req: Request) => boolean) {
    return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      // HEAD too: express answers it with the GET route, which stores the same record (a HEAD /login flood went uncounted).
      if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') return next();
      if (counted && !counted(req)) return next();
      if (!counted && isEmbeddedRequest(req.get('sec-fetch-dest'))) return next(new EmbeddedSignInPageError());
      try {
        await this.count(clientIp(req));
        next();
      } catch (error) {
        if (!(error instanceof TooManySignInStartsError)) return next(error);
        res.setHeader('Retry-After', String(error.retryAfterSeconds));
        if (req.accepts(['html', 'json']) === 'json') {
          res.status(429).json({ error: 'temporarily_unavailable', error_description: error.publicMessage });
          return;
        }
        next(error);
      }
    };
  }

  /**
   * The same limit on oidc-provider's authorization and end-session endpoints (a ProtocolHooks `before` hook):
   * 429 with Retry-After, a page from `render` or JSON; store down, 503. `false` when it answered.
   */
  authorizationHook(render: HookPageRender) {
    const check = async (ctx: KoaContextWithOIDC): Promise<boolean> => {
      // Pages only: a public client's pushed request (PAR) is a program's fetch(), with CORS (a review found it refused).
      if (RECORD_WRITING_PATH.test(ctx.path) && isEmbeddedRequest(ctx.get('sec-fetch-dest'))) {
        const t = translator(localeOfContext(ctx));
        const error = new EmbeddedSignInPageError();
        refuseFromHook(ctx, render, { status: 400, title: t('errors:titles.notAPage'), description: messageOf(error, t), jsonDescription: error.publicMessage, error: 'invalid_request' });
        return false;
      }
      try {
        await this.count(ctx.ip);
      } catch (error) {
        if (error instanceof StoreUnavailableError) {
          // Nothing was read or written for the page yet: a GET can be loaded again as it is
          // (a resume `/auth/:uid` included), so that is the page's "Try again".
          storeDownFromHook(ctx, render, reloadable(ctx));
          return false;
        }
        if (!(error instanceof TooManySignInStartsError)) throw error;
        // Read only past the budget: the session of a browser signing out (the store down: a 503, as any failure of a hook).
        if (SIGN_OUT_PATH.test(ctx.path) && (await signedInAtHub(ctx))) return true;
        // And a sign-in whose password this browser has just given: it is finished, not refused.
        if (ctx.method === 'GET' && (await finishedSignInHere(ctx, this.#secureCookies))) return true;
        const t = translator(localeOfContext(ctx));
        refuseFromHook(ctx, render, {
          status: 429,
          retryAfter: String(error.retryAfterSeconds),
          title: t('errors:titles.tooManyRequests'),
          description: messageOf(error, t),
          jsonDescription: error.publicMessage,
        });
        return false;
      }
      return true;
    };
    // Every protocol request passes here: only those that may write a record pay for a promise.
    return (ctx: KoaContextWithOIDC): boolean | Promise<boolean> => (writesRecord(ctx) ? check(ctx) : true);
  }
}
