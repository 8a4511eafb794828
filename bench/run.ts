/**
 * `npm run bench`: the hub's and the kit's speed as ratios against baselines measured in
 * the same run, on a real Redis. Every server under test runs in its own process pinned to
 * core 0; this process (the load generator, autocannon as a library) pins itself to core 1.
 * See docs/performance.md for the method, the bars and the latest results.
 *
 * Environment: BENCH_DURATION (s per scenario, default 10), BENCH_WARMUP (s, default 3),
 * BENCH_CONNECTIONS (default 10), BENCH_LAZY_CONCURRENCY (default 4), TEST_REDIS_URL
 * (default redis://127.0.0.1:6379), BENCH_CPU_PROF (server names or `all`: --cpu-prof into
 * bench/results/profiles), BENCH_DOCS=0 (do not update docs/performance.md).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import type { Request as CannonRequest } from 'autocannon';
import { continueUrlOf } from '../hub/src/testing/flows.js';
import type { TestBrowser } from '../hub/src/testing/browser.js';
import { derivedSecret, RP_CLIENT, SERVICE_CLIENT, subsiteId, username } from './lib/fixtures.js';
import {
  basicAuth,
  beaconUrls,
  openSignIn,
  pool,
  postSignIn,
  resetCounters,
  rpTokens,
  signedInBrowser,
  total,
  type Counters,
  type PendingSignIn,
} from './lib/hub-flows.js';
import { measureHttp, measureLoop, type CannonTarget, type Measurement, type Timing } from './lib/load.js';
import { canPin, freePort, pinSelf, runPinned, startServer, type ServerProcess } from './lib/processes.js';
import { describeMachine, machineText, markdownTable, passed, textTable, type Row } from './lib/report.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const DOCS_FILE = fileURLToPath(new URL('../docs/performance.md', import.meta.url));
const DOCS_START = '<!-- bench:latest:start -->';
const DOCS_END = '<!-- bench:latest:end -->';

function numberFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new TypeError(`${name} must be a number ≥ ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

const durationSeconds = numberFromEnv('BENCH_DURATION', 10, 1);
const timing: Timing = {
  durationSeconds,
  warmupSeconds: numberFromEnv('BENCH_WARMUP', Math.min(3, Math.ceil(durationSeconds / 2)), 0),
  connections: numberFromEnv('BENCH_CONNECTIONS', 10, 1),
};
const lazyConcurrency = numberFromEnv('BENCH_LAZY_CONCURRENCY', 4, 1);
/** Signed-in browsers the lazy-verification journeys rotate through, so no user piles up local sessions. */
const lazyBrowsers = numberFromEnv('BENCH_LAZY_USERS', 100, lazyConcurrency);
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREPARE_CONCURRENCY = 8; // in-flight requests while fixtures are prepared (not measured)

const runId = randomUUID().slice(0, 8);
const root = `bench:${runId}:`;
const salt = randomBytes(16).toString('base64url');
const running = new Set<ServerProcess>();

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function start(name: string, file: string, env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServer(name, file, { REDIS_URL: redisUrl, BENCH_SALT: salt, BENCH_PREFIX: `${root}${name}:`, ...env }, `${RESULTS_DIR}profiles`);
  running.add(server);
  return server;
}

async function stop(...servers: ServerProcess[]): Promise<void> {
  await Promise.all(servers.map(async (server) => {
    running.delete(server);
    await server.stop();
  }));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const form = { 'content-type': 'application/x-www-form-urlencoded' };

function describe(m: Measurement): string {
  return `${m.rps.toFixed(1)} req/s, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms, ${m.errors} errors`;
}

async function measure(label: string, target: CannonTarget): Promise<Measurement> {
  log(`${label} …`);
  const m = await measureHttp(target, timing);
  log(`${label}: ${describe(m)}`);
  return m;
}

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

/** Sign-in throughput: a pool of opened sign-in forms, each posted once by autocannon. */
async function signInThroughput(label: string, hub: ServerProcess, users: number, expectedRps: number): Promise<Measurement & { poolSize: number; poolExhausted: number }> {
  const size = Math.ceil(expectedRps * (timing.warmupSeconds + timing.durationSeconds) * 1.25) + 4 * timing.connections;
  log(`${label}: opening ${size} sign-in forms …`);
  const items: PendingSignIn[] = await pool(range(size), PREPARE_CONCURRENCY, async (i) => {
    const { path, cookie, body } = await openSignIn(hub.url, username(i % users));
    return { path, cookie, body };
  });
  let next = 0;
  let exhausted = 0;
  const m = await measure(label, {
    url: hub.url,
    method: 'POST',
    setupRequest: (request: CannonRequest) => {
      const item = items[next++] ?? items[items.length - 1]!;
      if (next > items.length) exhausted += 1;
      return { ...request, path: item.path, headers: { ...request.headers, ...form, cookie: item.cookie }, body: item.body };
    },
    expectStatus: 200,
    expectBody: 'data-testid="sync-title"',
  });
  return { ...m, poolSize: size, poolExhausted: exhausted };
}

interface SignInCost {
  subsites: number;
  /** Hub requests of the sign-in itself: form, post, continue to the portal. */
  signInRequests: Record<string, number>;
  /** Redis round trips of the hub while it answered the POST that renders the sync page. */
  postRedisRoundTrips: number | undefined;
  beacons: number;
  beaconStatuses: Record<string, number>;
  /** Hub requests while the browser loaded every beacon: the bar is 0. */
  hubRequestsCausedBySync: Record<string, number>;
}

/** Scenario 8: one sign-in with every beacon of its sync page loaded, hub requests counted per phase. */
async function signInCost(hub: ServerProcess, kits: ServerProcess, subsites: number): Promise<SignInCost> {
  await signedInBrowser(hub.url, username(1)); // warm: caches, templates, connections
  await resetCounters(hub.url, true);
  const pending = await openSignIn(hub.url, username(0));
  const opened = await resetCounters(hub.url, true);
  const syncPage = await postSignIn(hub.url, pending);
  const posted = await resetCounters(hub.url, true);
  await resetCounters(kits.url);
  const beacons = beaconUrls(syncPage);
  const statuses: Record<string, number> = {};
  await Promise.all(beacons.map(async (url) => {
    const response = await pending.browser.get(url, { accept: 'image/avif,image/webp,image/*,*/*;q=0.8' });
    await response.arrayBuffer();
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
  }));
  const duringSync = await resetCounters(hub.url, false);
  await pending.browser.follow(continueUrlOf(syncPage, hub.url));
  const finished = await resetCounters(hub.url, false);
  const signInRequests: Record<string, number> = {};
  for (const counters of [opened, posted, finished] as Counters[]) {
    for (const [route, n] of Object.entries(counters.requests)) signInRequests[route] = (signInRequests[route] ?? 0) + n;
  }
  return {
    subsites,
    signInRequests,
    postRedisRoundTrips: posted.redis?.roundTrips,
    beacons: beacons.length,
    beaconStatuses: statuses,
    hubRequestsCausedBySync: duringSync.requests,
  };
}

/** Size of a stored session, from its signed cookie value (`s:<id>.<signature>`). */
async function sessionBytes(prefix: string, cookie: string | undefined): Promise<number> {
  const id = cookie ? /^s:([^.]+)\./.exec(decodeURIComponent(cookie))?.[1] : undefined;
  if (!id) return 0;
  const client = createClient({ url: redisUrl });
  client.on('error', () => undefined);
  await client.connect();
  const value = await client.get(`${prefix}${id}`);
  await client.quit();
  return value?.length ?? 0;
}

async function cleanRedis(): Promise<number> {
  const client = createClient({ url: redisUrl });
  client.on('error', () => undefined);
  await client.connect();
  let removed = 0;
  for await (const keys of client.scanIterator({ MATCH: `${root}*`, COUNT: 1000 })) {
    if (keys.length) removed += await client.del(keys);
  }
  await client.quit();
  return removed;
}

async function shutdown(): Promise<void> {
  await stop(...running);
  const removed = await cleanRedis().catch(() => 0);
  log(`removed ${removed} Redis keys under ${root}`);
}

async function main(): Promise<void> {
  const pinned = pinSelf();
  const redis = createClient({ url: redisUrl });
  redis.on('error', () => undefined);
  await redis.connect();
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  await redis.quit();
  const machine = describeMachine(redisVersion, pinned);
  log(`run ${runId}: ${timing.durationSeconds} s per scenario after ${timing.warmupSeconds} s warm-up, ${timing.connections} connections${canPin ? '' : ' (taskset not found: not pinned)'}`);

  const m: Record<string, Measurement> = {};
  const serviceSecret = derivedSecret(salt, 'service-secret');
  const rpSecret = derivedSecret(salt, 'rp-secret');
  const clientCredentials = (url: string): CannonTarget => ({
    url: `${url}/token`,
    method: 'POST',
    headers: { ...form, authorization: basicAuth(SERVICE_CLIENT, serviceSecret) },
    body: 'grant_type=client_credentials',
    expectStatus: 200,
  });

  // Baseline: bare argon2id verification on the server core (sizes the sign-in pools too).
  log('B5 argon2id verification alone …');
  const argon = await runPinned('argon2.ts', {
    BENCH_CONCURRENCY: String(timing.connections),
    BENCH_WARMUP: String(timing.warmupSeconds),
    BENCH_DURATION: String(timing.durationSeconds),
  });
  m.argon2 = argon as unknown as Measurement;
  log(`B5: ${describe(m.argon2)}`);

  // Baselines: express 5 alone, + one GET, + SET EX and GET.
  for (const mode of ['hello', 'get', 'setget'] as const) {
    const server = await start(`express-${mode}`, 'express-baseline.ts', { BENCH_MODE: mode, PORT: '0' });
    m[mode] = await measure(`express ${mode}`, { url: `${server.url}/`, expectStatus: 200 });
    if (mode === 'hello') {
      log('B6 four sequential page requests (journey floor) …');
      const { TestBrowser } = await import('../hub/src/testing/browser.js');
      const browsers = range(lazyConcurrency).map(() => new TestBrowser());
      m.hello4 = await measureLoop(async (worker) => {
        for (let step = 0; step < 4; step += 1) await hop(browsers[worker]!, `${server.url}/`, { status: [200] });
      }, { ...timing, concurrency: lazyConcurrency });
      log(`B6: ${describe(m.hello4)}`);
    }
    await stop(server);
  }

  // Baseline: plain oidc-provider, client_credentials.
  {
    const port = await freePort();
    const plain = await start('plain-oidc', 'plain-oidc.ts', { PORT: String(port) });
    m.plainCc = await measure('plain oidc-provider client_credentials', clientCredentials(plain.url));
    await stop(plain);
  }

  // The hub with one subsite (a kit): scenarios 1, 2, 3, 4, 6, 7, 8 (N = 1).
  const [hubPort, kitsPort] = [await freePort(), await freePort()];
  const hubUrl = `http://127.0.0.1:${hubPort}`;
  const kits = await start('subsites-1', 'subsites.ts', { PORT: String(kitsPort), BENCH_MODE: 'kit', BENCH_SUBSITES: '1', BENCH_HUB_URL: hubUrl });
  const hub = await start('hub-1', 'hub.ts', {
    PORT: String(hubPort),
    BENCH_SUBSITES: '1',
    BENCH_USERS: String(Math.max(lazyBrowsers, 3 * timing.connections + 1)),
    BENCH_SUBSITE_URL: kits.url,
  });
  const argon2Parameters = hub.info.argon2;

  m.hubCc = await measure('1 hub client_credentials', clientCredentials(hub.url));

  log(`2 preparing ${3 * timing.connections} refresh-token chains …`);
  const chains = await pool(range(3 * timing.connections + 1), PREPARE_CONCURRENCY, (i) => rpTokens(hub.url, i, rpSecret));
  const readToken = chains[0]!.access_token;
  const refreshTokens = chains.slice(1).map((t) => t.refresh_token);
  let starved = 0;
  m.refresh = await measure('2 hub refresh_token (rotation)', {
    url: `${hub.url}/token`,
    method: 'POST',
    headers: { ...form, authorization: basicAuth(RP_CLIENT, rpSecret) },
    setupRequest: (request: CannonRequest) => {
      const token = refreshTokens.shift();
      if (!token) starved += 1;
      return { ...request, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token ?? 'none-left' }).toString() };
    },
    onResponse: (status, body) => {
      if (status === 200) refreshTokens.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
    },
    expectStatus: 200,
  });

  m.userinfo = await measure('3a hub userinfo', { url: `${hub.url}/me`, headers: { authorization: `Bearer ${readToken}` }, expectStatus: 200, expectBody: '"sub"' });
  m.introspection = await measure('3b hub introspection', {
    url: `${hub.url}/token/introspection`,
    method: 'POST',
    headers: { ...form, authorization: basicAuth(RP_CLIENT, rpSecret) },
    body: new URLSearchParams({ token: readToken }).toString(),
    expectStatus: 200,
    expectBody: '"active":true',
  });

  log('8 sign-in cost, 1 subsite …');
  const costs: SignInCost[] = [await signInCost(hub, kits, 1)];

  const signIn1 = await signInThroughput('4 portal sign-in, 1 subsite', hub, 20, m.argon2.rps);
  m.signIn1 = signIn1;

  log(`7 signing in ${lazyBrowsers} browsers at the hub …`);
  const browsers = (await pool(range(lazyBrowsers), PREPARE_CONCURRENCY, (i) => signedInBrowser(hub.url, username(i)))).map((b) => b.browser);
  const site = `${kits.url}/${subsiteId(0)}`;
  const cookieName = `${subsiteId(0)}.sid`;
  let lazyCounters: Counters = { requests: {} };
  let lazyIterations = 0;
  log('7 lazy verification …');
  m.lazy = await measureLoop(async (_worker, n) => {
    const browser = browsers[n % browsers.length]!;
    const jar = browser.cookies(kits.url);
    jar.clear();
    jar.set(`${subsiteId(0)}.request-login`, '1'); // what a sync beacon leaves behind
    const authorizeUrl = await hop(browser, `${site}/page`, { status: [302], location: `${hub.url}/auth?` });
    const callbackUrl = await hop(browser, authorizeUrl, { status: [302, 303], location: `${site}/sso/callback?code=` });
    const back = await hop(browser, callbackUrl, { status: [302] });
    await hop(browser, back, { status: [200], body: 'Signed in as' });
    lazyIterations += 1;
  }, {
    ...timing,
    concurrency: lazyConcurrency,
    beforeTimed: async () => {
      await resetCounters(hub.url);
      lazyIterations = 0;
    },
  });
  lazyCounters = await resetCounters(hub.url);
  log(`7: ${describe(m.lazy)}; hub requests ${JSON.stringify(lazyCounters.requests)} for ${lazyIterations} verifications`);

  const kitSessions = browsers.map((b) => b.cookies(kits.url).get(cookieName)).filter((v): v is string => Boolean(v)).slice(0, timing.connections);
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
  const kitSessionBytes = await sessionBytes(`${root}subsites-1:${subsiteId(0)}:sess:`, kitSessions[0]);
  m.kitPage = await measure('6 subsite page through the kit', pageTarget(`${site}/page`, kitSessions));
  await stop(hub, kits);

  // Baseline: the same page on bare express-session + connect-redis.
  let bareSessionBytes = 0;
  {
    const bare = await start('subsites-bare', 'subsites.ts', { PORT: String(await freePort()), BENCH_MODE: 'bare', BENCH_SUBSITES: '1' });
    const { TestBrowser } = await import('../hub/src/testing/browser.js');
    const sessions = await pool(range(timing.connections), PREPARE_CONCURRENCY, async (i) => {
      const browser = new TestBrowser();
      await hop(browser, `${bare.url}/${subsiteId(0)}/bench-login?user=${username(i)}`, { status: [302] });
      return browser.cookies(bare.url).get(cookieName)!;
    });
    bareSessionBytes = await sessionBytes(`${root}subsites-bare:${subsiteId(0)}:sess:`, sessions[0]);
    m.barePage = await measure('B7 bare express-session + connect-redis page', pageTarget(`${bare.url}/${subsiteId(0)}/page`, sessions));
    await stop(bare);
  }

  // Hubs with 10 and 100 subsites: scenario 8 (N = 10, 100) and 5.
  for (const n of [10, 100]) {
    const [port, sitesPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${port}`;
    const sites = await start(`subsites-${n}`, 'subsites.ts', { PORT: String(sitesPort), BENCH_MODE: 'kit', BENCH_SUBSITES: String(n), BENCH_HUB_URL: url });
    const big = await start(`hub-${n}`, 'hub.ts', { PORT: String(port), BENCH_SUBSITES: String(n), BENCH_USERS: '20', BENCH_SUBSITE_URL: sites.url });
    log(`8 sign-in cost, ${n} subsites …`);
    costs.push(await signInCost(big, sites, n));
    if (n === 100) m.signIn100 = await signInThroughput('5 portal sign-in, 100 subsites', big, 20, m.argon2.rps);
    await stop(big, sites);
  }

  const ratio = (baseline: string, value: number, of: number, bar?: number) => ({ baseline, value: value / of, ...(bar !== undefined ? { bar } : {}) });
  const rows: Row[] = [
    { id: 'B1', name: 'express 5 hello world', result: m.hello!, ratios: [] },
    { id: 'B2', name: 'express 5 + one Redis GET', result: m.get!, ratios: [] },
    { id: 'B3', name: 'express 5 + Redis SET EX + GET', result: m.setget!, ratios: [] },
    { id: 'B4', name: 'plain oidc-provider: POST /token client_credentials', result: m.plainCc!, ratios: [] },
    { id: 'B5', name: 'argon2id verification alone (no HTTP)', result: m.argon2, ratios: [] },
    { id: 'B6', name: 'express hello world, 4 sequential requests (journey floor)', result: m.hello4!, ratios: [], note: 'per journey of 4 requests' },
    { id: 'B7', name: 'page with bare express-session + connect-redis', result: m.barePage!, ratios: [] },
    {
      id: '1',
      name: 'hub: POST /token client_credentials',
      result: m.hubCc!,
      ratios: [ratio('B4 plain oidc-provider', m.hubCc!.rps, m.plainCc!.rps, 0.9), ratio('B3 SET+GET', m.hubCc!.rps, m.setget!.rps, 0.6)],
    },
    { id: '2', name: 'hub: POST /token refresh_token (rotation)', result: m.refresh!, ratios: [ratio('B3 SET+GET', m.refresh!.rps, m.setget!.rps, 0.5)] },
    { id: '3a', name: 'hub: GET /me (userinfo)', result: m.userinfo!, ratios: [ratio('B2 one GET', m.userinfo!.rps, m.get!.rps, 0.5)] },
    { id: '3b', name: 'hub: POST /token/introspection', result: m.introspection!, ratios: [ratio('B2 one GET', m.introspection!.rps, m.get!.rps, 0.5)] },
    { id: '4', name: 'hub: portal sign-in, 1 subsite (CSRF, argon2id, session, sync page)', result: m.signIn1!, ratios: [ratio('B5 argon2id alone', m.signIn1!.rps, m.argon2.rps, 0.6)] },
    { id: '5', name: 'hub: portal sign-in, 100 subsites', result: m.signIn100!, ratios: [ratio('4 sign-in with 1 subsite', m.signIn100!.rps, m.signIn1!.rps, 0.8)] },
    { id: '6', name: 'subsite page through the kit (session read, req.user)', result: m.kitPage!, ratios: [ratio('B7 bare session', m.kitPage!.rps, m.barePage!.rps, 0.85)] },
    {
      id: '7',
      name: 'lazy verification end to end (4 hops + token exchange)',
      result: m.lazy!,
      ratios: [ratio('B6 journey floor', m.lazy!.rps, m.hello4!.rps)],
      note: `concurrency ${lazyConcurrency}`,
    },
  ];
  const hubPerVerification = lazyIterations ? total(lazyCounters) / lazyIterations : NaN;
  const countLines = [
    `6: stored session: ${kitSessionBytes} bytes through the kit, ${bareSessionBytes} bytes in the bare baseline`,
    `7: hub requests per lazy verification: ${hubPerVerification.toFixed(2)} (target 2: authorize + token; JWKS and discovery cached) — ${JSON.stringify(lazyCounters.requests)} over ${lazyIterations} verifications`,
    ...costs.map((c) => {
      const caused = Object.values(c.hubRequestsCausedBySync).reduce((a, b) => a + b, 0);
      const own = Object.values(c.signInRequests).reduce((a, b) => a + b, 0);
      return `8: N = ${c.subsites}: hub requests caused by the sync fan-out: ${caused} (bar 0) ${caused === 0 ? 'PASS' : 'FAIL'}; the sign-in itself: ${own} hub requests; ${c.beacons} beacon${c.beacons === 1 ? '' : 's'} answered ${JSON.stringify(c.beaconStatuses)}; Redis round trips of the POST that renders the sync page: ${c.postRedisRoundTrips ?? 'n/a'}`;
    }),
  ];
  const bars = rows.flatMap((row) => row.ratios.filter((r) => r.bar !== undefined).map((r) => ({ id: row.id, baseline: r.baseline, value: r.value, bar: r.bar!, pass: passed(r)! })));
  for (const c of costs) bars.push({ id: '8', baseline: `N=${c.subsites}`, value: Object.values(c.hubRequestsCausedBySync).reduce((a, b) => a + b, 0), bar: 0, pass: Object.keys(c.hubRequestsCausedBySync).length === 0 });

  const stamp = machine.date.replace(/[:.]/g, '-');
  await mkdir(RESULTS_DIR, { recursive: true });
  const json = {
    runId,
    machine,
    settings: { ...timing, lazyConcurrency, lazyBrowsers, redisUrl: redisUrl.replace(/\/\/[^@]*@/, '//***@') },
    argon2: argon2Parameters,
    rows,
    lazyVerification: { hubRequestsPerVerification: hubPerVerification, byRoute: lazyCounters.requests, verifications: lazyIterations },
    signInCosts: costs,
    signInPools: { oneSubsite: { size: signIn1.poolSize, exhausted: signIn1.poolExhausted }, hundredSubsites: { size: m.signIn100 && (m.signIn100 as typeof signIn1).poolSize, exhausted: (m.signIn100 as typeof signIn1).poolExhausted } },
    refreshTokensStarved: starved,
    sessionBytes: { kit: kitSessionBytes, bare: bareSessionBytes },
    bars,
  };
  await writeFile(`${RESULTS_DIR}${stamp}.json`, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(`${RESULTS_DIR}latest.json`, `${JSON.stringify(json, null, 2)}\n`);

  const argonText = `argon2id m=${String((argon2Parameters as { memoryKiB?: number }).memoryKiB)} KiB, t=${String((argon2Parameters as { iterations?: number }).iterations)}, p=${String((argon2Parameters as { parallelism?: number }).parallelism)}`;
  process.stdout.write(`\n${machineText(machine)}\n${argonText}; ${timing.durationSeconds} s per scenario after ${timing.warmupSeconds} s warm-up, ${timing.connections} connections\n\n${textTable(rows)}\n\n${countLines.join('\n')}\n\n`);
  const failed = bars.filter((b) => !b.pass);
  process.stdout.write(failed.length ? `bars missed: ${failed.map((b) => `${b.id} (${b.baseline}: ${b.value.toFixed(2)} < ${b.bar})`).join(', ')}\n` : 'every bar met\n');
  process.stdout.write(`raw results: bench/results/${stamp}.json\n`);

  if (process.env.BENCH_DOCS !== '0' && timing.durationSeconds >= 10) {
    const docs = await readFile(DOCS_FILE, 'utf8').catch(() => '');
    const begin = docs.indexOf(DOCS_START);
    const end = docs.indexOf(DOCS_END);
    if (begin >= 0 && end > begin) {
      const block = [
        DOCS_START,
        '',
        '```text',
        machineText(machine),
        `${argonText}; ${timing.durationSeconds} s per scenario after ${timing.warmupSeconds} s warm-up, ${timing.connections} connections`,
        '```',
        '',
        markdownTable(rows),
        '',
        ...countLines.map((line) => `- ${line}`),
        '',
        DOCS_END,
      ].join('\n');
      await writeFile(DOCS_FILE, docs.slice(0, begin) + block + docs.slice(end + DOCS_END.length));
      log('docs/performance.md updated');
    }
  }
}

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) return;
  interrupted = true;
  log('interrupted: stopping servers');
  void shutdown().finally(() => process.exit(130));
});

try {
  await main();
  await shutdown();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await shutdown();
  process.exit(1);
}
