/**
 * One subsite built on the kit's public API for `bench/tools/faults-under-load.ts`: the kit's
 * router, lazy verification, health routes (`/healthz`, `/readyz`), its error handler and a page
 * that says who is signed in, on 127.0.0.1:`PORT`, with its sessions in the Redis at `REDIS_URL` (the one the
 * fault tool pauses, kills and fills). The kit's sources run through tsx (`--import tsx`).
 */
import { createServer } from 'node:http';
import express, { type Request, type Response } from 'express';
import { createSubsiteKit } from '../../subsite-kit/src/index.js';
import { kitRedisClient } from '../lib/kit-redis.js';
import { required, serve } from '../lib/fixtures.js';

const port = Number(required('PORT'));
const origin = `http://127.0.0.1:${port}`;

const redis = await kitRedisClient(required('REDIS_URL'));

const sso = await createSubsiteKit({
  hubUrl: required('HUB_URL'),
  clientId: required('CLIENT_ID'),
  clientSecret: required('CLIENT_SECRET'),
  redirectUri: `${origin}/sso/callback`,
  syncKey: required('SYNC_KEY'),
  sessionSecret: required('SESSION_SECRET'),
  redis,
  redisPrefix: required('REDIS_PREFIX'),
  secureCookies: false,
  logger: { warn: (message) => process.stderr.write(`${message}\n`) },
});

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const app = express();
app.disable('x-powered-by');
app.use(sso.healthRoutes());
app.use(sso.router);
app.use(sso.lazyLogin);
app.get('/page', (req: Request, res: Response) => {
  const who = req.user ? `Signed in as ${escapeHtml(req.user.preferred_username ?? req.user.sub)}` : 'Not signed in';
  res.type('html').send(`<!doctype html><title>Forum</title><h1>Forum</h1><p data-user>${who}</p>`);
});
app.use(sso.errorHandler); // last, as the kit's README says: a store or hub failure is its 503 page

const server = createServer(app);
await serve(server, port, async () => {
  if (redis.isOpen) await redis.close();
});
