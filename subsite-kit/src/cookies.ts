import type { CookieOptions, Request, Response } from 'express';
import type { ResolvedOptions } from './options.js';

/** The `Request-Login` and `checked` cookies: set, read and cleared with the same attributes. */
export class KitCookies {
  constructor(private readonly options: ResolvedOptions) {}

  hasRequestLogin(req: Request): boolean {
    return typeof req.cookies?.[this.options.cookies.requestLogin] === 'string';
  }

  /** Long-lived marker: "the hub signed someone in; check on the next page view". Not a login by itself. */
  setRequestLogin(res: Response): void {
    res.cookie(this.options.cookies.requestLogin, '1', { ...this.#base(), maxAge: this.options.requestLoginMaxAgeSeconds * 1000 });
  }

  clearRequestLogin(req: Request, res: Response): void {
    // Only send the deletion when there is something to delete, so responses stay small.
    if (this.hasRequestLogin(req)) res.clearCookie(this.options.cookies.requestLogin, this.#base());
  }

  hasChecked(req: Request): boolean {
    return typeof req.cookies?.[this.options.cookies.checked] === 'string';
  }

  /** Browser-session marker of the one silent check in crossSite mode (no maxAge). */
  setChecked(res: Response): void {
    res.cookie(this.options.cookies.checked, '1', this.#base());
  }

  #base(): CookieOptions {
    return { httpOnly: true, sameSite: 'lax', secure: this.options.secureCookies, path: '/' };
  }
}
