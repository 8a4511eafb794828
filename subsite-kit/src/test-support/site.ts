import express from 'express';
import type { Express } from 'express';
import { createSubsiteKit } from '../kit.js';
import type { SubsiteKit } from '../kit.js';
import type { SubsiteKitOptions } from '../options.js';
import { CLIENT_ID, CLIENT_SECRET, HUB_URL, REDIRECT_URI, SESSION_SECRET, SYNC_KEY, type StubHub } from './stub-hub.js';

export const silentLogger = { warn: () => undefined };

/** Options for a kit talking to the stub hub. */
export function kitOptions(hub: StubHub | undefined, extra: Partial<SubsiteKitOptions> = {}): SubsiteKitOptions {
  return {
    hubUrl: HUB_URL,
    hubInternalUrl: hub?.url ?? 'http://127.0.0.1:9',
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    redirectUri: REDIRECT_URI,
    syncKey: SYNC_KEY,
    sessionSecret: SESSION_SECRET,
    secureCookies: false,
    logger: silentLogger,
    ...extra,
  };
}

/** A subsite built only on the kit's public surface, with a few pages that show what it sees. */
export async function makeSite(hub: StubHub | undefined, extra: Partial<SubsiteKitOptions> = {}): Promise<{ app: Express; sso: SubsiteKit }> {
  const sso = await createSubsiteKit(kitOptions(hub, extra));
  const app = express();
  app.use(sso.router);
  app.use(sso.lazyLogin);
  app.get('/', (req, res) => { res.json({ user: req.user ?? null, locals: res.locals.user ?? null, sso: res.locals.sso ?? null }); });
  app.get('/forum', (req, res) => { res.json({ user: req.user ?? null }); });
  app.post('/forum', (req, res) => { res.json({ user: req.user ?? null }); });
  app.get('/private', sso.requireLogin, (req, res) => { res.json({ secret: true, sub: req.user?.sub }); });
  return { app, sso };
}

/** Header for a browser page view. */
export const HTML = { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

/** The cookies a response sets, by name → raw Set-Cookie string. */
export function setCookies(response: { headers: Record<string, unknown> }): Record<string, string> {
  const raw = response.headers['set-cookie'];
  const list = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
  return Object.fromEntries(list.map((line) => [line.slice(0, line.indexOf('=')), line]));
}

/** Whether a Set-Cookie line deletes its cookie. */
export function isDeletion(line: string | undefined): boolean {
  return line !== undefined && /Expires=Thu, 01 Jan 1970/i.test(line);
}
