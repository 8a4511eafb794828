/**
 * Issue 12, "A fleet": two hub processes on one Redis behind a round-robin proxy (no sticky
 * sessions, nginx's `proxy_next_upstream error timeout`: see deploy/nginx/hub.conf; it also
 * polls /readyz like HAProxy, and the hubs keep answering SHUTDOWN_DELAY_MS after SIGTERM, so
 * no request is sent to a closing listening socket). Full
 * flows (portal sign-in, authorization code + PKCE, token, userinfo, refresh, sign-out) run
 * across both, then each process is restarted in turn (SIGTERM, exit, start again) while 50
 * flows run at once: no 5xx, no failed flow, and every session signed in before the restart
 * is still signed in after it (portal, OIDC session, refresh token). Real processes, real Redis.
 */
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { attribute, inputValue, TestBrowser } from '../src/testing/browser.js';
import { authorize, continueUrlOf } from '../src/testing/flows.js';
import { freePort, startHubProcess, type HubProcess } from '../src/testing/hub-process.js';
import { RoundRobinProxy } from '../src/testing/round-robin-proxy.js';
import { connectRedis } from '../src/store/redis.js';
import { TEST_REDIS_URL } from '../src/testing/test-hub.js';
import { authUrl, basic, codeRequest, isSignedIn, postForm, signOut } from './support.js';

// Four hub process starts (tsx compiles each) and a few hundred sign-ins on a loaded 2-core machine.
jest.setTimeout(600_000);

const CLIENT = 'fleet-app';
const SECRET = 'fleet-app-client-secret-0123456789abcdef';
const REDIRECT = 'http://rp.fleet.test/cb';
const USERS = Array.from({ length: 10 }, (_, i) => ({ login: `user${i}`, password: `fleet-password-${i}` }));
const CONCURRENT_FLOWS = 50;
/** Each of the 50 workers runs flows until the rolling restart is over: at most this many. */
const MAX_FLOWS_PER_WORKER = 20;

interface Signed {
  browser: TestBrowser;
  login: string;
  refreshToken: string;
}

describe('a fleet of two hub processes behind a round-robin proxy (Redis)', () => {
  const prefix = `test:fleet:${randomUUID()}:`;
  const dir = mkdtempSync(join(tmpdir(), 'sso-fleet-'));
  // HAProxy-style readiness polling (inter 200ms, fall 1): a stopping hub answers /readyz 503
  // within one interval and keeps serving for SHUTDOWN_DELAY_MS, ten intervals.
  const proxy = new RoundRobinProxy([], { readiness: { path: '/readyz', intervalMs: 200 } });
  let url: string;
  let hubs: HubProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    url = await proxy.listen();
    const seedFile = join(dir, 'seed.yaml');
    writeFileSync(seedFile, stringify({
      users: USERS.map((user) => ({ username: user.login, email: `${user.login}@fleet.test`, password: user.password })),
      clients: [{ clientId: CLIENT, clientSecret: SECRET, name: 'Fleet App', redirectUris: [REDIRECT], grantTypes: ['authorization_code', 'refresh_token'], trusted: true }],
    }));
    env = {
      REDIS_URL: TEST_REDIS_URL,
      KEY_PREFIX: prefix,
      // Both processes serve one issuer: the proxy's address, as behind nginx.
      HUB_ISSUER: url,
      HUB_TRUST_PROXY: 'true',
      HUB_SEED_FILE: seedFile,
      // Every request comes from 127.0.0.1: the per-address limits would count the whole test as one person.
      LOGIN_MAX_ATTEMPTS_PER_IP: '1000000',
      SIGNIN_STARTS_PER_IP: '1000000',
      SHUTDOWN_TIMEOUT_MS: '10000',
      // Without it, a connection the kernel accepted just before the listening socket closed is
      // reset: a CI run lost 12 POST sign-ins that way (502), the proxy may not send them again.
      SHUTDOWN_DELAY_MS: '2000',
    };
    // One after the other: the first creates the keys and applies the seed, the second finds them.
    hubs.push(await startHubProcess({ ...env, HUB_PORT: String(await freePort()) }));
    hubs.push(await startHubProcess({ ...env, HUB_PORT: String(await freePort()) }));
    proxy.backends = hubs.map((hub) => `127.0.0.1:${hub.port}`);
  });

  afterAll(async () => {
    await Promise.all(hubs.map((hub) => hub.stop('SIGKILL')));
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
    const client = await connectRedis(TEST_REDIS_URL);
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await client.del(keys);
    await client.quit();
  });

  function fail(step: string, status: number, detail = ''): never {
    throw new Error(`${step}: HTTP ${status} ${detail.slice(0, 300)}`);
  }

  /** The portal's own sign-in: /login → the sign-in form → the sync page → /account. */
  async function portalSignIn(browser: TestBrowser, user: (typeof USERS)[number]): Promise<void> {
    const host = new URL(url).host;
    const form = await browser.follow(`${url}/login`, [host]);
    if (form.response.status !== 200) fail('GET /login', form.response.status, form.body);
    const action = new URL(attribute(form.body, /action="(\/interaction\/[^"]+\/login)"/), url).toString();
    const answer = await browser.post(action, { _csrf: inputValue(form.body, '_csrf'), login: user.login, password: user.password });
    const sync = await answer.text();
    if (answer.status !== 200) fail('POST sign-in', answer.status, sync);
    const account = await browser.follow(continueUrlOf(sync, url), [host]);
    if (account.response.status !== 200 || !new URL(account.url).pathname.startsWith('/account')) fail(`sign-in continue (${account.url})`, account.response.status, account.body);
  }

  async function token(form: Record<string, string>): Promise<{ access_token: string; refresh_token: string }> {
    const answer = await postForm(`${url}/token`, form, { authorization: basic(CLIENT, SECRET) });
    if (answer.status !== 200) fail(`POST /token ${form.grant_type}`, answer.status, JSON.stringify(answer.body));
    return answer.body as unknown as { access_token: string; refresh_token: string };
  }

  async function userinfo(accessToken: string, login: string): Promise<void> {
    const response = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    const body = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200) fail('GET /me', response.status, JSON.stringify(body));
    if (body.preferred_username !== undefined && body.preferred_username !== login) throw new Error(`userinfo of ${String(body.preferred_username)}, expected ${login}`);
  }

  /** An authorization code + PKCE for the signed-in browser (no page shown: trusted client, live session). */
  async function codeFlow(browser: TestBrowser): Promise<{ access_token: string; refresh_token: string }> {
    const request = codeRequest(CLIENT, REDIRECT);
    const callback = await authorize(browser, url, authUrl(url, request.params));
    const code = callback.searchParams.get('code');
    if (!code || callback.searchParams.get('state') !== request.params.state) throw new Error(`no code at the callback: ${callback.toString()}`);
    return token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: request.verifier });
  }

  /** Sign-in, code + PKCE, token, userinfo, refresh, userinfo: a signed-in browser and its refresh token. */
  async function signedIn(user: (typeof USERS)[number]): Promise<Signed> {
    const browser = new TestBrowser();
    await portalSignIn(browser, user);
    const first = await codeFlow(browser);
    await userinfo(first.access_token, user.login);
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
    await userinfo(refreshed.access_token, user.login);
    return { browser, login: user.login, refreshToken: refreshed.refresh_token };
  }

  /** The full flow, ending with the sign-out: the browser is no longer signed in. */
  async function fullFlow(user: (typeof USERS)[number]): Promise<void> {
    const { browser } = await signedIn(user);
    const out = await signOut(browser, url);
    if (out.status !== 200) fail('sign-out', out.status, out.html);
    if (await isSignedIn(browser, url)) throw new Error('still signed in after the sign-out');
  }

  test('full flows run across both processes: consecutive requests of one flow land on either', async () => {
    const from = proxy.requests.length;
    for (const user of USERS.slice(0, 2)) await fullFlow(user);
    const served = proxy.requests.slice(from);
    expect(served.length).toBeGreaterThan(20);
    const byBackend = new Map<string, number>();
    for (const request of served) byBackend.set(request.backend, (byBackend.get(request.backend) ?? 0) + 1);
    // Round robin, one request at a time: the two processes share the flow's requests evenly.
    expect([...byBackend.keys()].sort()).toEqual([...proxy.backends].sort());
    for (const count of byBackend.values()) expect(count).toBeGreaterThanOrEqual(Math.floor(served.length / 2) - 1);
    expect(served.filter((request) => request.status >= 500)).toEqual([]);
  });

  test('rolling restart under 50 concurrent flows: no 5xx, no failed flow, no lost session', async () => {
    // Sessions signed in before the restart: each must still be signed in after it.
    const residents: Signed[] = [];
    for (const user of USERS) residents.push(await signedIn(user));

    const from = proxy.requests.length;
    let restarting = true;
    const failures: string[] = [];
    let flows = 0;
    const started = Date.now();
    const workers = Array.from({ length: CONCURRENT_FLOWS }, async (_, worker) => {
      for (let run = 0; run < MAX_FLOWS_PER_WORKER && (run === 0 || restarting); run += 1) {
        try {
          await fullFlow(USERS[(worker + run) % USERS.length]!);
          flows += 1;
        } catch (error) {
          failures.push(`worker ${worker}, flow ${run}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    });

    // SIGTERM one process, wait for its exit, start it again on the same port; then the other.
    const exits: (number | string)[] = [];
    const restartWindow = { from: Date.now(), to: 0 };
    for (let i = 0; i < hubs.length; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // traffic on both before each stop
      const old = hubs[i]!;
      exits.push(await old.stop('SIGTERM'));
      // A start competes with 50 flows for the CPU (two cores, shared): allow it minutes, not seconds.
      hubs[i] = await startHubProcess({ ...env, HUB_PORT: String(old.port) }, '/readyz', 240_000);
    }
    restartWindow.to = Date.now();
    restarting = false;
    await Promise.all(workers);
    const elapsed = (Date.now() - started) / 1000;

    const served = proxy.requests.slice(from);
    const duringRestart = served.filter((request) => request.startedAt >= restartWindow.from && request.startedAt <= restartWindow.to);
    const latencies = served.map((request) => request.ms).sort((a, b) => a - b);
    const report = {
      flows,
      seconds: Number(elapsed.toFixed(1)),
      flowsPerSecond: Number((flows / elapsed).toFixed(2)),
      requests: served.length,
      restartSeconds: Number(((restartWindow.to - restartWindow.from) / 1000).toFixed(1)),
      requestsDuringRestart: duringRestart.length,
      maxLatencyDuringRestartMs: Math.max(0, ...duringRestart.map((request) => request.ms)),
      p50LatencyMs: latencies[Math.floor(latencies.length / 2)] ?? 0,
      p99LatencyMs: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
      ...proxy.counts,
    };
    process.stdout.write(`rolling restart: ${JSON.stringify(report)}\n`);

    expect(exits).toEqual([0, 0]);
    expect(failures).toEqual([]);
    expect(served.filter((request) => request.status >= 500).map((r) => `${r.status} ${r.method} ${r.path.split('?')[0]}`)).toEqual([]);
    expect(proxy.counts.badGateway).toBe(0);
    expect(proxy.counts.cutAnswers).toBe(0);
    expect(flows).toBeGreaterThanOrEqual(CONCURRENT_FLOWS);
    // The restart really happened under load: requests were answered while it ran.
    expect(duringRestart.length).toBeGreaterThan(0);

    // No lost session: each browser is still signed in at the portal, its OIDC session still
    // answers a silent authorization, and its refresh token (issued before) still refreshes.
    for (const resident of residents) {
      expect({ login: resident.login, signedIn: await isSignedIn(resident.browser, url) }).toEqual({ login: resident.login, signedIn: true });
      const request = codeRequest(CLIENT, REDIRECT, { prompt: 'none' });
      const callback = await authorize(resident.browser, url, authUrl(url, request.params));
      expect({ login: resident.login, error: callback.searchParams.get('error'), code: Boolean(callback.searchParams.get('code')) }).toEqual({ login: resident.login, error: null, code: true });
      const refreshed = await postForm(`${url}/token`, { grant_type: 'refresh_token', refresh_token: resident.refreshToken }, { authorization: basic(CLIENT, SECRET) });
      expect({ login: resident.login, status: refreshed.status }).toEqual({ login: resident.login, status: 200 });
    }
  });
});
