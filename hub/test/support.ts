/**
 * Small helpers shared by the hub's protocol and portal tests: raw token-endpoint calls
 * (so every status and header can be asserted) and a browser walk through the hub's
 * sign-in and consent pages that records which pages it was shown.
 */
import type { Store } from '../src/store/store.js';
import { inputValue, type TestBrowser } from '../src/testing/browser.js';
import { startSmtpCatcher, type SmtpCatcher } from '../src/testing/smtp-catcher.js';
import { startTestHub, type RunningHub } from '../src/testing/test-hub.js';
import { pkcePair, signInAtPortal, walk, type Credentials, type Walk } from '../src/testing/flows.js';

export { walk, type Credentials, type Walk };

export interface JsonAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** RFC 6749 §2.3.1: client id and secret are form-encoded, then base64 in a Basic header. */
export function basic(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

/** A POST of a form body to a protocol endpoint, as a server-side client sends it (JSON answer). */
export async function postForm(url: string, form: string | Record<string, string>, headers: Record<string, string> = {}): Promise<JsonAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
    body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
  return readJson(response);
}

/** A protocol answer as JSON (a body that is not JSON comes back as `{ raw }`). */
export async function readJson(response: Response): Promise<JsonAnswer> {
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { status: response.status, headers: response.headers, body };
}

/** An authorization request URL at the hub; `undefined` values are left out. */
export function authUrl(hubUrl: string, params: Record<string, string | undefined>): string {
  const url = new URL('/auth', hubUrl);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

/** The parameters of a well-formed code flow request with PKCE S256; override any. */
export function codeRequest(clientId: string, redirectUri: string, overrides: Record<string, string | undefined> = {}) {
  const pkce = pkcePair();
  const params: Record<string, string | undefined> = {
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    state: `state-${Math.random().toString(36).slice(2)}`,
    nonce: `nonce-${Math.random().toString(36).slice(2)}`,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  return { params, verifier: pkce.verifier };
}

/** Signs out at the hub: the end-session confirmation form, then POST with logout=yes. Returns the sync page. */
export async function signOut(browser: TestBrowser, hubUrl: string): Promise<{ status: number; html: string; csp: string | null }> {
  const confirm = await browser.get(`${hubUrl}/session/end`);
  const form = await confirm.text();
  const xsrf = inputValue(form, 'xsrf');
  const done = await browser.post(`${hubUrl}/session/end/confirm`, { xsrf, logout: 'yes' });
  return { status: done.status, html: await done.text(), csp: done.headers.get('content-security-policy') };
}

/** Whether the browser is signed in at the hub: /account shows the account page, not a redirect to /login. */
export async function isSignedIn(browser: TestBrowser, hubUrl: string): Promise<boolean> {
  const response = await browser.get(`${hubUrl}/account`);
  await response.text();
  return response.status === 200;
}

/** A Redis hub with a real SMTP catcher, for one describe block: started before its tests, stopped after. */
export function hubWithMailbox(env: Record<string, string> = {}): { hub: RunningHub; catcher: SmtpCatcher } {
  const started = {} as { hub: RunningHub; catcher: SmtpCatcher };
  beforeAll(async () => {
    started.catcher = await startSmtpCatcher();
    started.hub = await startTestHub('redis', { SMTP_URL: started.catcher.url, ...env });
  });
  afterAll(async () => {
    await started.hub?.close();
    await started.catcher?.close();
  });
  return started;
}

/**
 * POSTs an account-page form. A refused one is answered with a redirect to its page, which shows
 * the error (POST-redirect-GET, hub/src/portal/failed-form.ts): then that GET's answer (its status
 * the error's); else the POST's own answer (a 303 to `?done=…`, a 403, …).
 */
export async function postAccountForm(browser: TestBrowser, url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  const answer = await browser.post(url, form, headers);
  const location = answer.headers.get('location');
  if (answer.status !== 303 || (location !== '/account' && location !== '/account/delete' && location !== '/account/two-step')) return answer;
  await answer.arrayBuffer();
  return browser.get(new URL(location, url).toString(), headers);
}

/** GETs a page and returns its status, its HTML and the CSRF token of its forms ('' when it has none). */
export async function pageWithCsrf(browser: TestBrowser, url: string): Promise<{ status: number; html: string; csrf: string }> {
  const response = await browser.get(url);
  const html = await response.text();
  return { status: response.status, html, csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '' };
}

/** Creates an admin account on `hub` and returns a browser signed in as it at the portal. */
export async function signedInAdmin(hub: RunningHub, admin = { login: 'root', password: 'admin-password-1' }): Promise<TestBrowser> {
  await hub.services.users.create({ username: admin.login, email: `${admin.login}@example.test`, password: admin.password, roles: ['admin'] });
  return signInAtPortal(hub, admin.login, admin.password);
}

/** Counts the audit entries the store hands out (members of the audit logs' range reads). */
export function countAuditReads(store: Store): { read: () => number; reset: () => void } {
  let read = 0;
  const original = store.zRevRangeByScore.bind(store);
  store.zRevRangeByScore = async (key, max, min, limit) => {
    const page = await original(key, max, min, limit);
    if (key.includes('audit')) read += page.length;
    return page;
  };
  return { read: () => read, reset: () => (read = 0) };
}

/** The user and the relying party the failover tests sign in with. */
export const FAILOVER_USER: Credentials = { login: 'alice', password: 'wonderland-123' };
export const FAILOVER_REDIRECT = 'http://rp.test/cb';

/**
 * A test hub on `store` (a Redis it does not own: a Sentinel's or a cluster's) with alice and a
 * confidential client `rp` (code and refresh grants, FAILOVER_REDIRECT), for the failover tests.
 * Several users signing in back to back from one address would reach the per-network limits on
 * sign-in starts and attempts within a run (then 429s, not the failover, would decide it).
 */
export async function failoverHub(kind: Parameters<typeof startTestHub>[0], env: Record<string, string>, store: Store): Promise<{ hub: RunningHub; secret: string }> {
  const hub = await startTestHub(kind, { SIGNIN_STARTS_PER_IP: '1000000', LOGIN_MAX_ATTEMPTS_PER_IP: '1000000', ...env }, store);
  await hub.services.users.create({ username: FAILOVER_USER.login, email: 'alice@example.test', name: 'Alice', password: FAILOVER_USER.password });
  const registered = await hub.services.clients.register({ clientId: 'rp', name: 'Relying Party', redirectUris: [FAILOVER_REDIRECT], grantTypes: ['authorization_code', 'refresh_token'] });
  return { hub, secret: registered.clientSecret! };
}

/** Closes a failover test's hub and the store it was given (which the hub does not close). */
export async function closeFailoverHub(hub: RunningHub | undefined): Promise<void> {
  if (!hub) return;
  await hub.close().catch(() => {});
  await hub.store.close().catch(() => {});
}
