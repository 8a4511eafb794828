import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Hands an async handler's rejection to `next(error)`, so the kit's error handlers answer it.
 * Express 5 does this by itself; Express 4 ignores a rejected promise, and the request would
 * hang with an unhandled rejection. The kit supports both, so every async handler it mounts
 * goes through here.
 */
export function catchRejections(handler: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      const result: unknown = handler(req, res, next);
      if (result instanceof Promise) result.catch(next);
    } catch (error) {
      next(error);
    }
  };
}
