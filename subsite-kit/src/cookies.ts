import type { CookieOptions, Request, Response } from 'express';
import type { ResolvedOptions } from './options.js';

/** How long a silent check that failed with a 503 (hub or store unreachable) waits before a page view tries again. */
export const SILENT_RETRY_AFTER_SECONDS = 30;

/** The kit's marker cookies (`Request-Login`, `checked`, `remember`, `consent-required`): set, read and cleared with the same attributes. */
export class KitCookies {
  constructor(private readonly options: ResolvedOptions) {}

  hasRequestLogin(req: Request): boolean {
    return typeof req.cookies?.[this.options.cookies.requestLogin] === 'string';
  }

  /**
   * Whether a page view should check with the hub now: `Request-Login` is set and not held
   * back (see {@link setRequestLoginLater}).
   */
  requestLoginDue(req: Request, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
    const value: unknown = req.cookies?.[this.options.cookies.requestLogin];
    if (typeof value !== 'string') return false;
    const later = /^later\.(\d{1,12})(?:\.stray)?$/.exec(value);
    return !later || Number(later[1]) <= nowSeconds;
  }

  /** Long-lived marker: "the hub signed someone in; check on the next page view". Not a login by itself. */
  setRequestLogin(res: Response): void {
    this.#dropPending(res, this.options.cookies.requestLogin); // e.g. a clear queued earlier in this answer
    res.cookie(this.options.cookies.requestLogin, '1', { ...this.#base(), maxAge: this.options.requestLoginMaxAgeSeconds * 1000 });
  }

  /**
   * `Request-Login`, held back for `seconds`: a silent check that failed because the hub or the
   * store was unavailable is tried again on a page view after that, not on every page view
   * (which would send every page of the site through the hub while it is down).
   */
  setRequestLoginLater(res: Response, seconds: number): void {
    this.#dropPending(res, this.options.cookies.requestLogin);
    const at = Math.floor(Date.now() / 1000) + seconds;
    res.cookie(this.options.cookies.requestLogin, `later.${at}`, { ...this.#base(), maxAge: this.options.requestLoginMaxAgeSeconds * 1000 });
  }

  /**
   * Holds a due `Request-Login` back for `seconds` (see {@link setRequestLoginLater}); one already
   * held back, or none, is left as it is. For an answer at the callback that matches no request of
   * this browser: the sign-in the cookie tells of is not lost, and no page view loops through the hub.
   */
  holdBackRequestLogin(req: Request, res: Response, seconds: number): void {
    const value: unknown = req.cookies?.[this.options.cookies.requestLogin];
    if (typeof value !== 'string') return;
    const nowSeconds = Math.floor(Date.now() / 1000);
    // Held back once for such an answer already, and the check made after it answered astray
    // again (a browser that never keeps the pending cookie): cleared, as any failed check's, so
    // the site does not send every page view through the hub each time the hold-back ends (a diff
    // review; DESIGN §4: never loop). Another such answer within the hold-back (several tabs'
    // answers at once) leaves it.
    const stray = /^later\.(\d{1,12})\.stray$/.exec(value);
    if (stray) {
      if (Number(stray[1]) <= nowSeconds) this.clearRequestLogin(req, res);
      return;
    }
    if (!this.requestLoginDue(req, nowSeconds)) return;
    this.#dropPending(res, this.options.cookies.requestLogin);
    res.cookie(this.options.cookies.requestLogin, `later.${nowSeconds + seconds}.stray`, { ...this.#base(), maxAge: this.options.requestLoginMaxAgeSeconds * 1000 });
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

  hasRemember(req: Request): boolean {
    return typeof req.cookies?.[this.options.cookies.remember] === 'string';
  }

  /**
   * Long-lived marker of a successful sign-in here. The session cookie dies with the browser;
   * this one does not, so the first page view of the next browser session checks silently
   * once with the hub, and the hub session ("keep me signed in" or not) decides.
   */
  setRemember(res: Response): void {
    res.cookie(this.options.cookies.remember, '1', { ...this.#base(), maxAge: this.options.requestLoginMaxAgeSeconds * 1000 });
  }

  clearRemember(req: Request, res: Response): void {
    if (this.hasRemember(req)) res.clearCookie(this.options.cookies.remember, this.#base());
  }

  hasConsentRequired(req: Request): boolean {
    return typeof req.cookies?.[this.options.cookies.consent] === 'string';
  }

  /** Browser-session marker: the hub has a session but wants this site's consent ("one click to continue"). */
  setConsentRequired(res: Response): void {
    res.cookie(this.options.cookies.consent, '1', this.#base());
  }

  clearConsentRequired(req: Request, res: Response): void {
    if (this.hasConsentRequired(req)) res.clearCookie(this.options.cookies.consent, this.#base());
  }

  /** Clears every marker that could start a silent check: at sign-out and synclogout. */
  clearSignInMarkers(req: Request, res: Response): void {
    this.clearRequestLogin(req, res);
    this.clearRemember(req, res);
    this.clearConsentRequired(req, res);
  }

  /** Removes the Set-Cookie lines for `name` queued so far in this answer (the last one would win anyway). */
  #dropPending(res: Response, name: string): void {
    const lines = res.getHeader('set-cookie');
    if (!Array.isArray(lines)) {
      if (typeof lines === 'string' && lines.startsWith(`${name}=`)) res.removeHeader('set-cookie');
      return;
    }
    const kept = lines.filter((line) => !line.startsWith(`${name}=`));
    if (kept.length !== lines.length) res.setHeader('set-cookie', kept);
  }

  #base(): CookieOptions {
    return { httpOnly: true, sameSite: 'lax', secure: this.options.secureCookies, path: '/' };
  }
}
