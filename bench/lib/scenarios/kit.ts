/**
 * The subsite kit: a signed-in page view through the kit against the same page on bare
 * express-session + connect-redis (interleaved), and the lazy verification after a sign-in
 * elsewhere, end to end, with the hub's requests per verification counted (bar: exactly 2).
 */
import type { Request as CannonRequest } from 'autocannon';
import { createClient } from 'redis';
import type { TestBrowser } from '../../../hub/src/testing/browser.js';
import { subsiteId, subsiteOrigin, username } from '../fixtures.js';
import { pool, resetCounters, signedInBrowser, total, type Counters } from '../hub-flows.js';
import { measureHttp, measureLoop, type CannonTarget } from '../load.js';
import type { ServerProcess } from '../processes.js';
import { interleave, type ScenarioResult } from '../rounds.js';
import { PREPARE_CONCURRENCY, range, type BenchContext } from '../context.js';

/** One response, body consumed (so the connection is reused), checked against what the step expects. */
async function hop(browser: TestBrowser, url: string, expect: { status: number[]; location?: string; body?: string }): Promise<string> {
  const response = await browser.get(url);
  const text = await response.text();
  const location = response.headers.get('location') ?? '';
  if (!expect.status.includes(response.status)) throw new Error(`${url} answered ${response.status} ${location}`);
  if (expect.location && !location.startsWith(expect.location)) throw new Error(`${url} went to ${location}`);
  if (expect.body && !text.includes(expect.body)) throw new Error(`${url} did not show ${expect.body}`);
  return location ? new URL(location, url).toString() : text;
}

/** Size of a stored session, from its signed cookie value (`s:<id>.<signature>`). */
async function sessionBytes(redisUrl: string, prefix: string, cookie: string | undefined): Promise<number> {
  const id = cookie ? /^s:([^.]+)\./.exec(decodeURIComponent(cookie))?.[1] : undefined;
  if (!id) return 0;
  const client = createClient({ url: redisUrl });
  client.on('error', () => undefined);
  await client.connect();
  const value = await client.get(`${prefix}${id}`);
  await client.quit();
  return value?.length ?? 0;
}

export interface LazyResult {
  verifications: number;
  hubRequests: Record<string, number>;
  hubRequestsPerVerification: number;
  pass: boolean;
}

export async function kitScenarios(
  ctx: BenchContext,
  { hub, kits, bare, redisUrl, prefix }: { hub: ServerProcess; kits: ServerProcess; bare: ServerProcess; redisUrl: string; prefix: (server: string) => string },
): Promise<{ lazy: ScenarioResult; lazyCounts: LazyResult; page: ScenarioResult; sessionBytes: { kit: number; bare: number } }> {
  const { settings } = ctx;
  const kitsPort = Number(kits.info.port);
  const site = `${subsiteOrigin(0, kitsPort)}/${subsiteId(0)}`;
  const cookieName = `${subsiteId(0)}.sid`;

  ctx.log(`signing in ${settings.lazyBrowsers} browsers at the hub …`);
  const browsers = (await pool(range(settings.lazyBrowsers), PREPARE_CONCURRENCY, (i) => signedInBrowser(hub.url, username(i)))).map((b) => b.browser);
  const counted: Counters = { requests: {} };
  let verifications = 0;
  let allVerifications = 0;
  const lazy = await interleave('lazy', 'lazy verification end to end (subsite → hub /auth prompt=none → callback → token → page)', [{
    key: 'lazy',
    label: 'lazy verification',
    servers: [hub, kits],
    measure: async (hooks) => {
      const m = await measureLoop(async (_worker, n) => {
        const browser = browsers[n % browsers.length]!;
        const jar = browser.cookies(site);
        jar.clear();
        jar.set(`${subsiteId(0)}.request-login`, '1'); // what a sync beacon leaves behind
        const authorizeUrl = await hop(browser, `${site}/page`, { status: [302], location: `${hub.url}/auth?` });
        const callbackUrl = await hop(browser, authorizeUrl, { status: [302, 303], location: `${site}/sso/callback?code=` });
        const back = await hop(browser, callbackUrl, { status: [302] });
        await hop(browser, back, { status: [200], body: 'Signed in as' });
        verifications += 1;
      }, {
        ...settings,
        // At least one journey per browser before the count starts: the kit's first one fetches
        // discovery and the JWKS, cached after that.
        warmupSeconds: Math.max(settings.warmupSeconds, 0.1),
        concurrency: settings.lazyConcurrency,
        beforeTimed: async () => {
          await resetCounters(hub.url);
          verifications = 0;
        },
      }, hooks);
      const c = await resetCounters(hub.url);
      for (const [route, n] of Object.entries(c.requests)) counted.requests[route] = (counted.requests[route] ?? 0) + n;
      allVerifications += verifications;
      return m;
    },
  }], [], ctx.rounds);
  const done = allVerifications;
  const perVerification = done ? total(counted) / done : NaN;
  const lazyCounts = { verifications: done, hubRequests: counted.requests, hubRequestsPerVerification: perVerification, pass: perVerification === 2 };
  lazy.notes.push(`concurrency ${settings.lazyConcurrency}; hub requests per verification ${perVerification.toFixed(3)} (bar: exactly 2, authorize + token) — ${JSON.stringify(counted.requests)} over ${done} verifications`);

  // The page, through the kit and on bare express-session + connect-redis, interleaved.
  {
    const bareSite = `${subsiteOrigin(0, Number(bare.info.port))}/${subsiteId(0)}`;
    const bareSessions = await pool(range(settings.connections), PREPARE_CONCURRENCY, async (i) => {
      const { TestBrowser } = await import('../../../hub/src/testing/browser.js');
      const browser = new TestBrowser();
      await hop(browser, `${bareSite}/bench-login?user=${username(i)}`, { status: [302] });
      return browser.cookies(bareSite).get(cookieName)!;
    });
    const kitSessions = browsers.map((b) => b.cookies(site).get(cookieName)).filter((v): v is string => Boolean(v)).slice(0, settings.connections);
    if (kitSessions.length === 0) throw new Error('no kit session: the lazy verification signed nobody in');
    const pageTarget = (url: string, sessions: string[]): CannonTarget => {
      let turn = 0;
      return {
        url,
        headers: { accept: 'text/html' },
        setupRequest: (request: CannonRequest) => ({ ...request, headers: { ...request.headers, cookie: `${cookieName}=${sessions[turn++ % sessions.length]}` } }),
        expectStatus: 200,
        expectBody: 'Signed in as',
      };
    };
    const bytes = {
      kit: await sessionBytes(redisUrl, `${prefix(kits.name)}${subsiteId(0)}:sess:`, kitSessions[0]),
      bare: await sessionBytes(redisUrl, `${prefix(bare.name)}${subsiteId(0)}:sess:`, bareSessions[0]),
    };
    const page = await interleave('kit-page', 'subsite page for a signed-in user (session read, req.user)', [
      { key: 'kit', label: 'through the kit', servers: [kits], measure: (hooks) => measureHttp(pageTarget(`${site}/page`, kitSessions), settings, hooks) },
      { key: 'bare', label: 'bare express-session + connect-redis', servers: [bare], measure: (hooks) => measureHttp(pageTarget(`${bareSite}/page`, bareSessions), settings, hooks) },
    ], [{ of: 'kit', to: 'bare', bar: 0.85 }], ctx.rounds);
    page.notes.push(`stored session: ${bytes.kit} bytes through the kit, ${bytes.bare} bytes in the bare baseline`);
    return { lazy, lazyCounts, page, sessionBytes: bytes };
  }
}
