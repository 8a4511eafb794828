/// <reference path="./cookie.d.ts" />
import type { Request, RequestHandler } from 'express';
import cookieParser from 'cookie-parser';
import { parse } from 'cookie';

/**
 * `req.cookies` as cookie-parser (without a secret) makes it, `j:` JSON cookies included, set
 * as the request's only new property. cookie-parser also sets `req.secret` and an empty
 * `req.signedCookies`; each property added to a request after express has set its prototype
 * costs V8 a new hidden class (~1.5–3 µs each, measured), on every page view.
 */
export function parseCookies(): RequestHandler {
  return (req, _res, next) => {
    if (req.cookies) return next();
    const header = req.headers.cookie;
    req.cookies = header ? cookieParser.JSONCookies(parse(header)) : Object.create(null);
    next();
  };
}

/**
 * The value of the cookie `name` as the browser sent it, for a request whose `req.cookies` no longer
 * has it because the site's own `cookieParser(secret)`, mounted before `sso.router` (as the
 * README has it, for the site's signed cookies), moved it: cookie-parser with a secret takes
 * every `s:` cookie, express-session's among them, out of `req.cookies` into
 * `req.signedCookies` (as `false` when that secret did not sign it). `undefined` when nothing
 * moved it (absent, or still in `req.cookies`).
 */
export function movedSignedCookie(req: Request, name: string): string | undefined {
  const signed = (req as { signedCookies?: Record<string, unknown> }).signedCookies;
  if (signed?.[name] === undefined || req.cookies?.[name] !== undefined) return undefined;
  const header = req.headers.cookie;
  return header ? parse(header)[name] : undefined;
}
