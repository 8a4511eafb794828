import cookieParser from 'cookie-parser';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { safeNext } from '../http/safe-next.js';
import { noStore } from '../security/headers.js';
import { DEFAULT_LOCALE, firstLocale, isLocale, normalizeLocale, pickLocale, type Locale } from './i18n.js';

/** The switcher's cookie: the reader's choice, over `Accept-Language`. */
export const LANG_COOKIE = 'lang';
const LANG_COOKIE_MAX_AGE = 365 * 24 * 3600 * 1000; // one year, in milliseconds

/** The locale chosen for this response by `localeMiddleware` (English where none ran). */
export function localeOf(res: Response): Locale {
  const locale: unknown = res.locals.locale;
  return isLocale(locale) ? locale : DEFAULT_LOCALE;
}

/**
 * Picks each request's locale (the `lang` cookie, else `Accept-Language`, else English) into
 * `res.locals.locale`, which `renderPage` and the error pages render in, and says that the
 * answer depends on both.
 */
export function localeMiddleware(): RequestHandler {
  const cookies = cookieParser();
  return (req, res, next) => {
    cookies(req, res, () => {
      const cookie: unknown = (req.cookies as Record<string, unknown> | undefined)?.[LANG_COOKIE];
      res.locals.locale = pickLocale(req.get('accept-language'), cookie);
      res.vary('Accept-Language');
      next();
    });
  };
}

/**
 * A sign-in's pages in the relying party's `ui_locales` (OIDC Core §3.1.2.1: the languages it
 * prefers for the user interface, in order), when one is a hub locale: over `Accept-Language`,
 * under the reader's own choice in the switcher (the `lang` cookie), which a click on it sets.
 */
export function useUiLocales(req: Request, res: Response, uiLocales: unknown): void {
  if (normalizeLocale((req.cookies as Record<string, unknown> | undefined)?.[LANG_COOKIE])) return;
  const locale = firstLocale(uiLocales);
  if (locale) res.locals.locale = locale;
}

/**
 * `GET /lang?to=zh-CN&next=/account`: the language switcher. Remembers the choice in the
 * `lang` cookie and goes back to `next`, a path on the hub only (`safeNext`: no open
 * redirect). A GET, so a plain link works on every page, also signed out; it changes
 * nothing but how pages read, so a forged link can do no harm beyond that.
 */
export function langRoutes(secure: boolean): Router {
  const router = Router();
  router.get('/lang', noStore, (req, res) => {
    const locale = normalizeLocale(req.query.to);
    const next = safeNext(req.query.next, '/');
    if (locale) {
      res.cookie(LANG_COOKIE, locale, { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: LANG_COOKIE_MAX_AGE });
    }
    res.redirect(303, next);
  });
  return router;
}

/** What oidc-provider's (koa) context offers for reading a request's locale. */
export interface KoaLikeContext {
  get(field: string): string;
  cookies: { get(name: string, options?: { signed?: boolean }): string | undefined };
}

/**
 * The locale of a page oidc-provider renders (sign-out, errors), chosen as `localeMiddleware`
 * does. The `lang` cookie is not signed (koa would check a signature by default).
 */
export function localeOfContext(ctx: KoaLikeContext): Locale {
  return pickLocale(ctx.get('accept-language') || undefined, ctx.cookies.get(LANG_COOKIE, { signed: false }));
}
