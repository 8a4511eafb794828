/**
 * Subsites on one port, one per path `/s<i>`, subsite i reached on its own loopback address
 * (`subsiteOrigin(i, PORT)`: every subsite has an origin of its own, as in production). `BENCH_MODE=kit`: each is a subsite built on
 * the kit's public API (router + lazyLogin, `req.user` on its page). `BENCH_MODE=bare`: the
 * same page with bare express-session + connect-redis and a hand-made `req.session.user`,
 * the baseline a team without the kit would write; `/s<i>/bench-login` starts its session.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import express, { type Request, type Response } from 'express';
import session from 'express-session';
import { RedisStore } from 'connect-redis';
import type { SsoUser } from '@sso-hub/subsite-kit';
import { kitRedisClient } from '../lib/kit-redis.js';
import { withCounters } from '../lib/counting.js';
import { derivedSecret, required, serve, subsiteHost, subsiteId, subsiteOrigin } from '../lib/fixtures.js';

declare module 'express-session' {
  interface SessionData {
    /** The bare baseline's signed-in user. */
    benchUser?: SsoUser;
    benchTokens?: { idToken: string; accessToken: string; loggedInAt: number };
  }
}

// The kit as npm ships it (built by run.ts into bench/kit/dist), not its TypeScript through tsx:
// users run the compiled package, and tsx's transform (a `__name` call around every function
// made at run time) is a cost they never pay. Its baseline, express-session, is plain JS too.
const { createSubsiteKit } = (await import(required('BENCH_KIT_MODULE'))) as typeof import('@sso-hub/subsite-kit');

const port = Number(required('PORT'));
const mode = required('BENCH_MODE');
const salt = required('BENCH_SALT');
const prefix = required('BENCH_PREFIX');
const count = Number(process.env.BENCH_SUBSITES ?? 1);
const hubUrl = process.env.BENCH_HUB_URL ?? 'http://127.0.0.1:9';
const SESSION_TTL = 86_400; // one day, in seconds: the kit's default session lifetime
const ID_TOKEN_LENGTH = 900; // characters of an RS256 ID token with the hub's profile and email claims

const redis = await kitRedisClient(required('REDIS_URL'));

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page both variants serve: who is signed in. */
function page(req: Request, res: Response): void {
  const who = req.user ? `Signed in as ${escapeHtml(req.user.preferred_username ?? req.user.sub)}` : 'Not signed in';
  res.type('html').send(`<!doctype html><title>Forum</title><h1>Forum</h1><p data-user>${who}</p>`);
}

const app = express();
app.disable('x-powered-by');
for (let i = 0; i < count; i += 1) {
  const id = subsiteId(i);
  const site = express.Router();
  if (mode === 'kit') {
    const sso = await createSubsiteKit({
      hubUrl,
      clientId: id,
      clientSecret: derivedSecret(salt, `${id}-secret`),
      redirectUri: `${subsiteOrigin(i, port)}/${id}/sso/callback`,
      syncKey: derivedSecret(salt, `${id}-sync`),
      sessionSecret: derivedSecret(salt, 'subsite-session'),
      redis,
      redisPrefix: `${prefix}${id}:`,
      cookiePrefix: `${id}.`,
      secureCookies: false,
      logger: { warn: (message) => process.stderr.write(`${message}\n`) },
    });
    site.use(sso.router);
    site.use(sso.lazyLogin);
  } else if (mode === 'bare') {
    site.use(
      session({
        name: `${id}.sid`,
        secret: derivedSecret(salt, 'subsite-session'),
        store: new RedisStore({ client: redis, prefix: `${prefix}${id}:sess:`, ttl: SESSION_TTL }),
        resave: false,
        saveUninitialized: false,
        cookie: { httpOnly: true, sameSite: 'lax', secure: false, path: '/' },
      }),
    );
    site.use((req, _res, next) => {
      req.user = req.session.benchUser;
      next();
    });
    site.get('/bench-login', (req, res, next) => {
      req.session.regenerate((error) => {
        if (error) return next(error);
        // What a hand-made OIDC sign-in keeps too (the user, the ID token for logout, the
        // access token), at the sizes the hub issues, so both variants read the same bytes.
        const user = String(req.query.user ?? 'bench-user-0');
        req.session.benchUser = { sub: randomUUID(), name: user, preferred_username: user, email: `${user}@bench.test`, claims: {} };
        req.session.benchTokens = { idToken: 'x'.repeat(ID_TOKEN_LENGTH), accessToken: 'y'.repeat(43), loggedInAt: Math.floor(Date.now() / 1000) };
        res.redirect(302, `/${id}/page`);
      });
    });
  } else {
    throw new Error(`unknown BENCH_MODE ${mode}`);
  }
  site.get('/page', page);
  app.use(`/${id}`, site);
}

const handler = withCounters(app);
// One listener per subsite address; the control routes (/__bench/…) on 127.0.0.1.
const extra = await Promise.all(
  Array.from({ length: count }, async (_, i) => {
    const listener = createServer(handler);
    listener.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, subsiteHost(i), resolve);
    });
    return listener;
  }),
);
const server = createServer(handler);
server.keepAliveTimeout = 60_000;
await serve(server, port, async () => {
  for (const listener of extra) {
    listener.closeAllConnections();
    listener.close();
  }
  if (redis.isOpen) await redis.close();
});
