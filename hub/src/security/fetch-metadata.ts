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
