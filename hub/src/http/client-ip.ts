import type { Request } from 'express';
import type { HubConfig } from '../config.js';

/**
 * Express's `trust proxy` for the hub's settings: the number of proxies to trust when
 * HUB_TRUST_PROXY_HOPS is set (the client address is the one the outermost saw), else
 * HUB_TRUST_PROXY (true: every X-Forwarded-For entry, the left-most taken). oidc-provider's
 * `ctx.ip` reads the same entry (provider.ts sets koa's `maxIpsCount` to the same number).
 */
export function trustProxySetting(config: Pick<HubConfig, 'HUB_TRUST_PROXY' | 'HUB_TRUST_PROXY_HOPS'>): boolean | number {
  return config.HUB_TRUST_PROXY && config.HUB_TRUST_PROXY_HOPS !== undefined ? config.HUB_TRUST_PROXY_HOPS : config.HUB_TRUST_PROXY;
}

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
