import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { createClient } from 'redis';
import { digest } from '../hub/src/store/keys.js';
import { runCli } from '../hub/src/cli.js';
import { HubPage } from './pages/hub-page.js';
import { SitePage } from './pages/site-page.js';
import { DEMO_ENV, KEY_PREFIX, REDIS_URL, URLS } from './ports.js';

/** A fresh user per test, created through the admin CLI against the demo's store. */
export async function newUser(prefix = 'user'): Promise<{ login: string; password: string; name: string }> {
  const login = `${prefix}-${randomUUID().slice(0, 8)}`;
  const password = `pw-${randomUUID()}`;
  const name = `User ${login}`;
  const lines: string[] = [];
  const code = await runCli(['users', 'add', '--username', login, '--email', `${login}@example.test`, '--name', name, '--password', password], DEMO_ENV, (line) => lines.push(line));
  if (code !== 0) throw new Error(`could not create user: ${lines.join(' ')}`);
  return { login, password, name };
}

export async function admin(...argv: string[]): Promise<string> {
  const lines: string[] = [];
  const code = await runCli(argv, DEMO_ENV, (line) => lines.push(line));
  if (code !== 0) throw new Error(`admin ${argv.join(' ')} failed: ${lines.join(' ')}`);
  return lines.join('\n');
}

const SHOTS = new URL('./screenshots/', import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });

/** A screenshot of a step, kept (not committed) so a person can look at the run. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
}

/** A browser context signed in to bbs and wiki (consenting to the wiki once if asked). */
export async function signedInOnBbsAndWiki(browser: Browser, user: { login: string; password: string; name: string }) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await new HubPage(page).signInAtPortal(user.login, user.password);
  const bbs = new SitePage(page, URLS.bbs);
  await bbs.open('/');
  await bbs.expectSignedInAs(user.name);
  const wiki = new SitePage(page, URLS.wiki);
  await wiki.open('/');
  if (await page.getByTestId('anonymous').isVisible()) {
    // First visit: the wiki's silent check needs consent once.
    await wiki.clickSignIn();
    await new HubPage(page).allowConsent();
    await page.waitForURL(`${URLS.wiki}/**`);
  }
  await wiki.expectSignedInAs(user.name);
  return { context, page, bbs, wiki };
}

/** The value of the browser's cookie `name` for `url`. */
export async function cookieOf(context: BrowserContext, url: string, name: string): Promise<string> {
  const found = (await context.cookies(url)).find((c) => c.name === name);
  if (!found) throw new Error(`no ${name} cookie for ${url}`);
  return found.value;
}

/**
 * Runs `work` with a client of the demo's Redis, closed after: for what a spec must change in the
 * store because it cannot be waited for (a session's expiry, time passing).
 */
type DemoRedis = ReturnType<typeof demoRedis>;

function demoRedis() {
  return createClient({ url: REDIS_URL });
}

export async function withDemoRedis<T>(work: (redis: DemoRedis) => Promise<T>): Promise<T> {
  const redis = demoRedis();
  redis.on('error', () => undefined);
  await redis.connect();
  try {
    return await work(redis);
  } finally {
    await redis.quit();
  }
}

/**
 * The browser's hub session ends without a sign-out, as when it expires from idle
 * (HUB_SESSION_TTL; subsite page views do not refresh it): its record is deleted from the demo's
 * store, as Redis does at expiry (the demo runs with one HUB_SESSION_TTL for every spec).
 */
export async function expireHubSession(context: BrowserContext): Promise<void> {
  const key = `${KEY_PREFIX}oidc:Session:${digest(await cookieOf(context, URLS.hub, 'hub_session'))}`;
  await withDemoRedis(async (redis) => expect(await redis.del(key)).toBe(1));
}
