import { createHash, randomBytes } from 'node:crypto';
import { attribute, inputValue, TestBrowser } from './browser.js';

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * Drives a browser through the hub's sign-in page: from an interaction URL, posts the
 * credentials, then follows the sync page's continue link. Returns the final response.
 */
export async function signInAt(browser: TestBrowser, hubUrl: string, interactionUrl: string, login: string, password: string) {
  const page = await browser.get(interactionUrl);
  const html = await page.text();
  const action = attribute(html, /action="(\/interaction\/[^"]+\/login)"/);
  const response = await browser.post(new URL(action, hubUrl).toString(), { _csrf: inputValue(html, '_csrf'), login, password });
  const body = await response.text();
  return { response, body };
}

/** The continue URL of a sync page. */
export function continueUrlOf(syncPage: string, base: string): string {
  return new URL(attribute(syncPage, /data-continue="([^"]+)"/), base).toString();
}

/**
 * Starts an authorization request and signs in with a password, up to the sync page: the resume
 * address it continues to (`/auth/:uid`), not yet followed (the store-fault tests break the store
 * just before it).
 */
export async function signInUpToResume(browser: TestBrowser, hubUrl: string, authorizationUrl: string, login: string, password: string): Promise<string> {
  const form = await browser.follow(authorizationUrl);
  const action = new URL(attribute(form.body, /action="(\/interaction\/[^"]+\/login)"/), hubUrl).toString();
  const sync = await browser.post(action, { _csrf: inputValue(form.body, '_csrf'), login, password });
  if (sync.status !== 200) throw new Error(`signing in answered ${sync.status}, not the sync page`);
  const resume = continueUrlOf(await sync.text(), hubUrl);
  if (!/^\/auth\/[\w-]+$/.test(new URL(resume).pathname)) throw new Error(`the sync page continues to ${resume}, not a resume`);
  return resume;
}

export interface Credentials {
  login: string;
  password: string;
}

export interface Walk {
  /** Where the hub finally sent the browser (the client's redirect URI). */
  callback: URL;
  sawLogin: boolean;
  sawConsent: boolean;
  /** Every HTML page the hub showed on the way. */
  pages: string[];
}

/**
 * Follows an authorization request through the hub like a person would: signs in when the
 * sign-in page shows (only if credentials are given), allows on the consent page, and
 * stops at the first redirect off the hub. Records which pages were shown.
 */
export async function walk(browser: TestBrowser, hubUrl: string, startUrl: string, credentials?: Credentials): Promise<Walk> {
  const hubOrigin = new URL(hubUrl).origin;
  const result = { sawLogin: false, sawConsent: false, pages: [] as string[] };
  let url = startUrl;
  for (let hop = 0; hop < 20; hop += 1) {
    const response = await browser.get(url);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, url);
      if (next.origin !== hubOrigin) return { ...result, callback: next };
      url = next.toString();
      continue;
    }
    const html = await response.text();
    result.pages.push(html);
    if (/action="\/interaction\/[^"]+\/login"/.test(html)) {
      result.sawLogin = true;
      if (!credentials) throw new Error('the hub asked for a sign-in but the walk has no credentials');
      const { response: answer, body } = await signInAt(browser, hubUrl, url, credentials.login, credentials.password);
      result.pages.push(body);
      if (answer.status !== 200) throw new Error(`sign-in failed (${answer.status})`);
      url = continueUrlOf(body, hubUrl);
      continue;
    }
    if (/action="\/interaction\/[^"]+\/confirm"/.test(html)) {
      result.sawConsent = true;
      const action = attribute(html, /action="(\/interaction\/[^"]+\/confirm)"/);
      const confirmed = await browser.post(new URL(action, hubUrl).toString(), { _csrf: inputValue(html, '_csrf') });
      url = new URL(confirmed.headers.get('location')!, hubUrl).toString();
      continue;
    }
    throw new Error(`unexpected page at ${url} (${response.status}): ${html.slice(0, 400)}`);
  }
  throw new Error('the authorization request did not finish');
}

/**
 * Runs an authorization request to completion in a browser (sign-in and consent when
 * asked) and returns the redirect to the client's redirect URI.
 */
export async function authorize(browser: TestBrowser, hubUrl: string, authUrl: string, credentials?: Credentials): Promise<URL> {
  return (await walk(browser, hubUrl, authUrl, credentials)).callback;
}

/**
 * Signs in at the portal's own sign-in page (`/login?next=…`, no client) and follows the sync
 * page to `next`; returns the browser, now holding the portal session.
 */
export async function signInAtPortal(hub: { url: string }, login: string, password: string, browser = new TestBrowser(), next = '/account'): Promise<TestBrowser> {
  const landed = await browser.follow(`${hub.url}/login?next=${encodeURIComponent(next)}`);
  const action = attribute(landed.body, /action="(\/interaction\/[^"]+\/login)"/);
  const answer = await browser.post(new URL(action, hub.url).toString(), { _csrf: inputValue(landed.body, '_csrf'), login, password });
  const sync = await answer.text();
  if (answer.status !== 200) throw new Error(`sign-in failed (${answer.status})`);
  await browser.follow(continueUrlOf(sync, hub.url));
  return browser;
}
