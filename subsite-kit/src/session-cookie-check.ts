import cookieParser from 'cookie-parser';
import type { Request } from 'express';
import type { RateLimitedLog } from './rate-limited-log.js';

/**
 * Says in the log (at most once a minute) when a browser sends a session cookie under this
 * site's name that none of its `sessionSecret`s signed. express-session then silently starts an
 * anonymous session, so the visitor looks signed out. The usual cause is a second site on the
 * same host: browsers do not scope cookies by port, so http://localhost:3000 and :3001 share
 * `sso.sid`, and signing in to one signs the other out. Checked only when no signed-in session
 * was loaded (a signed-in page view costs nothing here).
 */
export class SessionCookieCheck {
  readonly #secrets: readonly string[];

  constructor(private readonly cookieName: string, secret: string | readonly string[], private readonly log: RateLimitedLog) {
    this.#secrets = typeof secret === 'string' ? [secret] : secret;
  }

  /** `value` is the session cookie as the browser sent it (`s:<id>.<signature>`, as express-session signs it). */
  inspect(req: Request, value: string): void {
    // express-session took it (the id it unsigned is the request's): no second signature check.
    if (value.startsWith('s:') && value.slice(2, value.lastIndexOf('.')) === req.sessionID) return;
    if (this.#signedHere(value)) return;
    this.log.warn(
      'foreign session cookie',
      `subsite-kit: ${req.baseUrl}${req.path}: a session cookie ${this.cookieName} came that this site's sessionSecret did not sign, so the visitor is treated as signed out: ` +
        'most likely another site on this host uses the same cookie name (browsers share cookies across ports: localhost:3000 and localhost:3001 get the same cookies, so a sign-in to one signs the other out); ' +
        "give each site on one host its own cookiePrefix (e.g. cookiePrefix: 'forum.', or SSO_COOKIE_PREFIX); if sessionSecret was changed, keep the old secret as the second of sessionSecret for a while",
    );
  }

  #signedHere(value: string): boolean {
    // As express-session reads it: `s:` and a signature by one of the secrets (cookie-signature, through cookie-parser).
    return value.startsWith('s:') && cookieParser.signedCookie(value, [...this.#secrets]) !== false;
  }
}
