/**
 * The browser and client journeys the scenarios need, over plain HTTP with the hub's own
 * test browser (a cookie jar, no redirects followed unasked).
 */
import { request as httpRequest } from 'node:http';
import { attribute, inputValue, TestBrowser } from '../../hub/src/testing/browser.js';
import { authorize, continueUrlOf, pkcePair } from '../../hub/src/testing/flows.js';
import { PASSWORD, RP_CLIENT, RP_REDIRECT, username } from './fixtures.js';

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function pool<T, R>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

/** A portal sign-in page, opened and ready to post: its form action, cookies and CSRF token. */
export interface PendingSignIn {
  path: string;
  cookie: string;
  body: string;
}

/** `GET /login` → `/auth` → `/interaction/:uid`: one sign-in form with its own session and CSRF token. */
export async function openSignIn(hubUrl: string, user: string): Promise<PendingSignIn & { browser: TestBrowser }> {
  const browser = new TestBrowser();
  const { response, body } = await browser.follow(`${hubUrl}/login`);
  if (response.status !== 200) throw new Error(`sign-in page answered ${response.status}`);
  const path = attribute(body, /action="(\/interaction\/[^"]+\/login)"/);
  const form = new URLSearchParams({ _csrf: inputValue(body, '_csrf'), login: user, password: PASSWORD }).toString();
  const cookie = [...browser.cookies(hubUrl)].map(([name, value]) => `${name}=${value}`).join('; ');
  return { path, cookie, body: form, browser };
}

/** Posts an opened sign-in form; returns the sync page. */
export async function postSignIn(hubUrl: string, pending: PendingSignIn & { browser: TestBrowser }): Promise<string> {
  const response = await pending.browser.request(`${hubUrl}${pending.path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: pending.body,
  });
  const html = await response.text();
  if (response.status !== 200 || !html.includes('data-testid="sync-title"')) throw new Error(`sign-in answered ${response.status}`);
  return html;
}

/** A browser signed in at the hub (portal sign-in, sync page, continue): it holds a hub session. */
export async function signedInBrowser(hubUrl: string, user: string): Promise<{ browser: TestBrowser; syncPage: string }> {
  const pending = await openSignIn(hubUrl, user);
  const syncPage = await postSignIn(hubUrl, pending);
  await pending.browser.follow(continueUrlOf(syncPage, hubUrl));
  return { browser: pending.browser, syncPage };
}

/** The beacon URLs of a sync page, HTML-unescaped. */
export function beaconUrls(syncPage: string): string[] {
  return [...syncPage.matchAll(/class="beacon" src="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
}

export interface TokenSet {
  access_token: string;
  refresh_token: string;
}

/** The RP's authorization request for user `i` (code + PKCE S256), the same for the hub and the plain peer. */
function authorizeParams(i: number, challenge: string, extra: Record<string, string> = {}): URLSearchParams {
  return new URLSearchParams({
    client_id: RP_CLIENT,
    response_type: 'code',
    scope: 'openid profile email',
    redirect_uri: RP_REDIRECT,
    state: `s${i}`,
    nonce: `n${i}`,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  });
}

/** A fresh sign-in of user `i` and an authorization-code grant for the bench RP: its first tokens. */
export async function rpTokens(hubUrl: string, i: number, secret: string): Promise<TokenSet> {
  const { verifier, challenge } = pkcePair();
  const params = authorizeParams(i, challenge);
  const callback = await authorize(new TestBrowser(), hubUrl, `${hubUrl}/auth?${params}`, { login: username(i), password: PASSWORD });
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code for user ${i}: ${callback.search}`);
  const response = await fetch(`${hubUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(RP_CLIENT, secret) },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: RP_REDIRECT, code_verifier: verifier }).toString(),
  });
  const tokens = (await response.json()) as Partial<TokenSet>;
  if (!tokens.access_token || !tokens.refresh_token) throw new Error(`token exchange answered ${response.status}`);
  return tokens as TokenSet;
}

/** Server counters (see `counting.ts`): requests per route and, when asked, Redis round trips. */
export interface Counters {
  requests: Record<string, number>;
  redis?: { roundTrips: number; commands: number };
}

/** Reads a server's counters and starts them again from zero. */
export async function resetCounters(serverUrl: string, countRedis = false): Promise<Counters> {
  const response = await fetch(`${serverUrl}/__bench/reset?redis=${countRedis ? 1 : 0}`);
  return (await response.json()) as Counters;
}

export function total(counters: Counters): number {
  return Object.values(counters.requests).reduce((sum, n) => sum + n, 0);
}

/**
 * The plain oidc-provider peer's first tokens for user `i`: its interaction route signs the
 * `login_hint` user in and grants at once, so the browser only follows redirects.
 */
export async function plainRpTokens(peerUrl: string, i: number, secret: string): Promise<TokenSet> {
  const { verifier, challenge } = pkcePair();
  const params = authorizeParams(i, challenge, { login_hint: username(i) });
  const { url } = await new TestBrowser().follow(`${peerUrl}/auth?${params}`, [new URL(peerUrl).host], 12);
  const code = new URL(url).searchParams.get('code');
  if (!code) throw new Error(`plain peer: no code for user ${i}: ${url}`);
  const response = await fetch(`${peerUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(RP_CLIENT, secret) },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: RP_REDIRECT, code_verifier: verifier }).toString(),
  });
  const tokens = (await response.json()) as Partial<TokenSet>;
  if (!tokens.access_token || !tokens.refresh_token) throw new Error(`plain peer: token exchange answered ${response.status}`);
  return tokens as TokenSet;
}

/** Bytes of one answer as sent: status line and header block, and the body. */
export interface AnswerBytes {
  status: number;
  headerBytes: number;
  bodyBytes: number;
  /** The largest single header (name and value), e.g. the Content-Security-Policy. */
  largestHeader: string;
  largestHeaderBytes: number;
}

/**
 * Posts an opened sign-in form over node:http with a 1 MiB header limit (Node's default of
 * 16 KB would refuse an oversized answer before it could be measured) and counts its bytes.
 */
export function signInAnswerBytes(hubUrl: string, pending: PendingSignIn): Promise<AnswerBytes> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${hubUrl}${pending.path}`, {
      method: 'POST',
      agent: false,
      maxHeaderSize: 1 << 20,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(pending.body)), cookie: pending.cookie, accept: 'text/html', 'sec-fetch-mode': 'navigate' },
    }, (res) => {
      let bodyBytes = 0;
      res.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
      res.on('end', () => {
        let headerBytes = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`.length + 2;
        let largestHeader = '';
        let largestHeaderBytes = 0;
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const bytes = Buffer.byteLength(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`);
          headerBytes += bytes;
          if (bytes > largestHeaderBytes) [largestHeader, largestHeaderBytes] = [res.rawHeaders[i]!, bytes];
        }
        resolve({ status: res.statusCode ?? 0, headerBytes, bodyBytes, largestHeader, largestHeaderBytes });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(pending.body);
  });
}
