import type { Request } from 'express';

/** Each request's address, once worked out: a sign-in asks for it two or three times. */
const addresses = new WeakMap<object, string>();

/**
 * The client address as express sees it (X-Forwarded-For only when trust proxy is on).
 * Remembered per request: `req.ip` parses X-Forwarded-For and walks the trust list on every read.
 */
export function clientIp(req: Request): string {
  const known = addresses.get(req);
  if (known !== undefined) return known;
  const address = req.ip;
  // Not remembered outside express (no `req.ip` yet): express would read it another way later.
  if (address === undefined) return req.socket.remoteAddress ?? 'unknown';
  addresses.set(req, address);
  return address;
}
