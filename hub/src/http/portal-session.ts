import { RedisStore } from 'connect-redis';
import session from 'express-session';
import type { RequestHandler } from 'express';
import type { RedisClient } from '../store/redis.js';

declare module 'express-session' {
  interface SessionData {
    /** csrf-sync's synchroniser token. */
    csrfToken?: string;
    /** Pending portal sign-ins started at GET /login: state → where to go after. */
    portalLogins?: Record<string, string>;
  }
}

const PORTAL_SESSION_TTL = 3600; // seconds; the portal session only carries CSRF and pending sign-ins

/**
 * The portal's own session (express-session; connect-redis in production). It carries the
 * CSRF token and pending sign-ins; who is signed in is the hub's OIDC session.
 */
export function portalSession(options: { secrets: string[]; secure: boolean; redis?: RedisClient; prefix: string }): RequestHandler {
  return session({
    name: 'hub_portal',
    secret: options.secrets,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    ...(options.redis ? { store: new RedisStore({ client: options.redis, prefix: options.prefix, ttl: PORTAL_SESSION_TTL }) } : {}),
    cookie: { httpOnly: true, sameSite: 'lax', secure: options.secure, maxAge: PORTAL_SESSION_TTL * 1000, path: '/' },
  });
}

/** Regenerate the session id at sign-in to prevent session fixation. */
export function regenerate(req: Express.Request & { session: session.Session }): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((error) => (error ? reject(error) : resolve())));
}
