import type { Request } from 'express';

/** The client address as express sees it (X-Forwarded-For only when trust proxy is on). */
export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}
