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
 * Runs an authorization request to completion in a browser: sign-in (if asked), consent
 * (if asked), and returns the redirect to the client's redirect URI.
 */
export async function authorize(
  browser: TestBrowser,
  hubUrl: string,
  authUrl: string,
  credentials?: { login: string; password: string },
): Promise<URL> {
  let url = authUrl;
  for (let hop = 0; hop < 15; hop += 1) {
    const response = await browser.get(url);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, url);
      if (next.origin !== new URL(hubUrl).origin || next.pathname.includes('/callback')) return next;
      url = next.toString();
      continue;
    }
    const html = await response.text();
    if (html.includes('/login" autocomplete')) {
      if (!credentials) throw new Error('sign-in asked but no credentials given');
      const { body } = await signInAt(browser, hubUrl, url, credentials.login, credentials.password);
      url = continueUrlOf(body, hubUrl);
      continue;
    }
    if (html.includes('/confirm"')) {
      const action = attribute(html, /action="(\/interaction\/[^"]+\/confirm)"/);
      const confirmed = await browser.post(new URL(action, hubUrl).toString(), { _csrf: inputValue(html, '_csrf') });
      url = new URL(confirmed.headers.get('location')!, hubUrl).toString();
      continue;
    }
    throw new Error(`unexpected page at ${url} (${response.status}): ${html.slice(0, 300)}`);
  }
  throw new Error('authorization did not finish');
}
