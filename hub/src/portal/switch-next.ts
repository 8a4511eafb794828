/**
 * Where the language switcher of a portal page goes back to (`GET /lang?next=`). A page read by
 * GET comes back to itself. A page that answers a form (a wrong password, a refused setting)
 * has no URL of its own to come back to: the switcher goes to the page that form was on, so that
 * switching language in the middle of a sign-in does not drop the pending sign-in (the
 * relying party's request) or an admin's place in the console. Anything else: the start page.
 */
const FORM_PAGES: ReadonlyArray<readonly [RegExp, (match: RegExpExecArray) => string]> = [
  // /interaction/:uid/login, /two-step, /confirm, /abort: the sign-in's own page.
  [/^\/interaction\/([^/]+)\/[^/]+$/, (m) => `/interaction/${m[1]}`],
  // Forms that a GET of the same path shows.
  [/^\/(?:signup|signup\/resend|password\/forgot|admin\/users|admin\/clients|admin\/ucenter)$/, (m) => m[0]],
  [/^\/account\/two-step\/[^/]+$/, () => '/account/two-step'],
  [/^\/account(?:\/.*)?$/, () => '/account'],
  [/^\/admin\/(users|clients)\/([^/]+)(?:\/.*)?$/, (m) => `/admin/${m[1]}/${m[2]}`],
  [/^\/admin\/ucenter\/.+$/, () => '/admin/ucenter'],
  [/^\/admin\/deliveries\/.+$/, () => '/admin/deliveries'],
  [/^\/admin\/invites$/, () => '/admin/users'],
];

/** The switcher's `next` for a page answering `method` at `originalUrl` (path and query). */
export function switchNextOf(method: string | undefined, originalUrl: string): string {
  if (method === 'GET') return originalUrl;
  const path = originalUrl.split('?', 1)[0]!;
  for (const [pattern, target] of FORM_PAGES) {
    const match = pattern.exec(path);
    if (match) return target(match);
  }
  return '/';
}
