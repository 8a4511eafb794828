import type { Request } from 'express';

/**
 * Whether a request is a real page view: a GET or HEAD that accepts HTML and, where the
 * browser sends Fetch Metadata, a top-level or frame navigation that is not a prefetch.
 * Only these may be redirected to the hub; API calls, form posts, images and scripts never are.
 */
export function isPageRequest(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (!(req.get('accept') ?? '').toLowerCase().includes('text/html')) return false;
  const mode = req.get('sec-fetch-mode');
  if (mode !== undefined && mode !== 'navigate') return false;
  const purpose = req.get('sec-purpose') ?? req.get('purpose');
  if (purpose !== undefined && purpose.toLowerCase().includes('prefetch')) return false;
  return true;
}

/**
 * Fetch Metadata: fetched as something else than a page of its own (`Sec-Fetch-Dest` an image, a
 * frame, a script, `fetch()`). Absent (an older browser, a program) is a page.
 */
export function isEmbeddedFetch(req: Request): boolean {
  const dest = req.get('sec-fetch-dest');
  return dest !== undefined && dest !== '' && dest.toLowerCase() !== 'document';
}
