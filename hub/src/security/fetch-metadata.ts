/**
 * Fetch Metadata (W3C): with `Sec-Fetch-Dest` a browser says what it fetches a URL for. A page
 * the user opens (the address bar, a link, a redirect, a form) is `document`; an `<img>`, a
 * script, a `fetch()` or a frame is something else. A request without the header (an older
 * browser, a program) says nothing, and is taken as a page.
 *
 * The sign-in and sign-out pages are only ever opened as pages (and none may be framed:
 * `frame-ancestors 'none'`). Another site's page could otherwise embed hundreds of them as
 * images: each one, sent by the visitor's own browser from the visitor's address, would count
 * against that address's limit of sign-in pages, and lock the visitor (and everyone behind the
 * same address) out of signing in (an outside review).
 */
export function isEmbeddedRequest(secFetchDest: string | undefined): boolean {
  return secFetchDest !== undefined && secFetchDest !== '' && secFetchDest.toLowerCase() !== 'document';
}

/**
 * With `Sec-Fetch-Mode` a browser says how it fetches: `navigate` for a page the user opens or a
 * form the user sends, `cors`/`same-origin`/`no-cors` for a `fetch()`, an XMLHttpRequest or a
 * subresource, whose answer a script may read. A request without the header is taken as a
 * navigation, as above. The admin console answers navigations only (admin-routes.ts).
 */
export function isNavigation(secFetchMode: string | undefined): boolean {
  return secFetchMode === undefined || secFetchMode === '' || secFetchMode.toLowerCase() === 'navigate';
}
