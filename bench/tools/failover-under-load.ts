/**
 * Failover under load: bench/tools/faults-under-load.ts's load and checks (two compiled hubs
 * behind the round-robin proxy, a kit subsite, a subsite for userdelete), with the hubs on a
 * Redis Cluster (3 masters + 3 replicas, `redis-cli --cluster create … --cluster-replicas 1`,
 * `cluster-node-timeout` CLUSTER_NODE_TIMEOUT, 3000 ms) or on Sentinel (a primary, a replica,
 * three redis-sentinel; MIN_REPLICAS_TO_WRITE sets min-replicas-to-write on both data servers),
 * and the kit on a redis-server of its own. Faults (FAILOVER_STORE=cluster, the default):
 *
 *   cluster-manual-failover   CLUSTER FAILOVER on a master's replica
 *   cluster-master-sleep      DEBUG SLEEP 30 on a master (its replica is promoted, it wakes as a replica); with forced logouts
 *   cluster-master-stop       SIGSTOP a master until its replica is promoted, SIGCONT 2 s later
 *   cluster-master-kill       SIGKILL a master, started again once its replica is promoted; with forced logouts
 *
 * (FAILOVER_STORE=sentinel) sentinel-failover (SENTINEL FAILOVER; with forced logouts),
 * sentinel-primary-kill (SIGKILL the primary, started again as a replica; with forced logouts),
 * sentinel-primary-stop (SIGSTOP until the replica is promoted, SIGCONT 2 s later).
 *
 * "With forced logouts": four users signed in at the kit and at the portal, each with a refresh
 * token; 300 ms into the fault each is disabled with the admin CLI (retried while it fails); then
 * the kit must show them signed out, the hub session must be gone and the refresh token refused.
 * The report also gives the delivery queue at the end and each hub's store error and queue
 * metrics. FAULT_REPORT: the report to a file too; FAULT_SAMPLES: every answer and /readyz as
 * JSON; FAILOVER_DIST: a compiled hub to run (default: compiled for the run).
 *
 *   FAILOVER_STORE=cluster npx tsx bench/tools/failover-under-load.ts [fault ...]
 *
 * Ports: FAULT_PORT_BASE (default 46100) to +7, +10..15 (cluster), +20..24 (Sentinel). Every
 * process it starts is stopped by its PID at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { attribute, inputValue, TestBrowser } from '../../hub/src/testing/browser.js';
import { continueUrlOf, pkcePair } from '../../hub/src/testing/flows.js';
import { answersPing } from '../../hub/src/testing/redis-server.js';
import { RoundRobinProxy } from '../../hub/src/testing/round-robin-proxy.js';
import { buildHub } from '../lib/build-hub.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BASE = Number(process.env.FAULT_PORT_BASE ?? 46100);
const PORTS = { redis: BASE, proxy: BASE + 1, hubA: BASE + 2, hubB: BASE + 3, metricsA: BASE + 4, metricsB: BASE + 5, subsite: BASE + 6, slow: BASE + 7 };
// The hub's store: a 3-master + 3-replica cluster on BASE+10..15, or a primary + replica (BASE+20, 21) with sentinels on BASE+22..24.
const KIND = (process.env.FAILOVER_STORE ?? 'cluster') as 'cluster' | 'sentinel';
const CLUSTER_PORTS = Array.from({ length: 6 }, (_, i) => BASE + 10 + i);
const DATA_PORTS = [BASE + 20, BASE + 21];
const SENTINEL_PORTS = [BASE + 22, BASE + 23, BASE + 24];
const SENTINEL_NAME = 'failover';
const NODE_TIMEOUT_MS = Number(process.env.CLUSTER_NODE_TIMEOUT ?? 3000);
const PREFIX = process.env.FAULT_KEY_PREFIX ?? 'h-failover:';
const PASSWORD = 'fault-password-0123456789';
const SECRET = (name: string) => `${name}-secret-0123456789abcdef0123456789`;
const RP_REDIRECT = 'http://127.0.0.1:9/cb';
const REQUEST_TIMEOUT_MS = 20_000;
const SLOW_MS = 5_000; // an answer slower than this during a fault is reported (the store's deadline is 2 s a call)
const CHAINS = 3;
const USERS = Array.from({ length: 12 }, (_, i) => `fault-user-${i}`);
const DOOMED = Array.from({ length: 12 }, (_, i) => `doomed-${i}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------- recording

interface Sample {
  at: number; // start, ms since epoch
  ms: number;
  flow: string;
  step: string;
  status: number; // 0: no answer (connection error or timeout)
  problems: string[];
  ok: boolean; // the flow's step did what it should
  body?: string; // the start of an answer that has a problem other than its speed
}
const samples: Sample[] = [];
const health: { at: number; target: string; status: number; body: string }[] = [];
const notes: string[] = [];

const PROTOCOL = /^\/(token(\/introspection)?|me)$/;
const STACK = /\n\s+at [^\n]+:\d+:\d+|at [\w.<>]+ \(file:|node:internal/;

function stepOf(url: string): string {
  const { pathname } = new URL(url);
  return pathname.replace(/\/interaction\/[^/]+/, '/interaction/:uid').replace(/\/auth\/[^/]+$/, '/auth/:uid');
}

/** What is wrong with an answer, whatever the flow expected. */
function problemsOf(url: string, status: number, headers: Headers, body: string, ms: number): string[] {
  const problems: string[] = [];
  const path = new URL(url).pathname;
  const type = headers.get('content-type') ?? '';
  if (status >= 500 && status !== 503) problems.push(`${status}`);
  if (STACK.test(body)) problems.push('stack trace');
  if (status === 503 && !headers.get('retry-after')) problems.push('503 without Retry-After');
  if (PROTOCOL.test(path) && status >= 400) {
    let json: { error?: unknown } | undefined;
    try {
      json = JSON.parse(body) as { error?: unknown };
    } catch {
      // not JSON
    }
    if (path === '/me' && status === 401 && headers.get('www-authenticate')) {
      // RFC 6750: the error may be in WWW-Authenticate
    } else if (!json || typeof json.error !== 'string') problems.push('not RFC 6749 JSON');
  } else if (status >= 500 && !type.includes('html') && !path.startsWith('/sso/') && path !== '/readyz') problems.push('no friendly page');
  if (ms > SLOW_MS) problems.push(`slow ${Math.round(ms)} ms`);
  return problems;
}

function record(flow: string, step: string, at: number, status: number, problems: string[], ok: boolean, body?: string): void {
  const kept = body !== undefined && problems.some((p) => !p.startsWith('slow')) ? { body: body.slice(0, 600) } : {};
  samples.push({ at, ms: Date.now() - at, flow, step, status, problems, ok, ...kept });
}

/** A browser whose every exchange is recorded under its current flow. */
class RecordingBrowser extends TestBrowser {
  constructor(public flow: string) {
    super();
  }

  override async request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {}): Promise<Response> {
    const at = Date.now();
    try {
      const response = await super.request(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const body = await response.clone().text();
      const problems = problemsOf(url, response.status, response.headers, body, Date.now() - at);
      record(this.flow, `${init.method ?? 'GET'} ${stepOf(url)}`, at, response.status, problems, response.status < 400, body);
      return response;
    } catch (error) {
      record(this.flow, `${init.method ?? 'GET'} ${stepOf(url)}`, at, 0, [error instanceof Error && error.name === 'TimeoutError' ? 'no answer in 20 s' : 'connection error'], false);
      throw error;
    }
  }
}

/** A server-to-server call (JSON), recorded. */
async function call(flow: string, url: string, init: { method?: string; headers?: Record<string, string>; form?: Record<string, string> }): Promise<{ status: number; json: Record<string, unknown>; requestId: string }> {
  const at = Date.now();
  const step = `${init.method ?? 'GET'} ${stepOf(url)}`;
  // The hub keeps a caller's plain request id and puts it on the audit entries of the request.
  const requestId = `fault-${randomUUID()}`;
  try {
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { accept: 'application/json', 'x-request-id': requestId, ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...init.headers },
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(body) as Record<string, unknown>;
    } catch {
      // left empty: problemsOf says so for a protocol endpoint
    }
    record(flow, step, at, response.status, problemsOf(url, response.status, response.headers, body, Date.now() - at), response.ok, body);
    return { status: response.status, json, requestId };
  } catch (error) {
    record(flow, step, at, 0, [error instanceof Error && error.name === 'TimeoutError' ? 'no answer in 20 s' : 'connection error'], false);
    return { status: 0, json: {}, requestId };
  }
}

/** Every client_credentials token a hub answered 200 for: its request id and when it was asked. The audit log must hold each. */
const issued: { requestId: string; at: number }[] = [];
function issuedToken(answer: { status: number; requestId: string }, at: number): void {
  if (answer.status === 200) issued.push({ requestId: answer.requestId, at });
}

const basic = (id: string) => `Basic ${Buffer.from(`${id}:${SECRET(id)}`).toString('base64')}`;

// ---------------------------------------------------------------- processes

const started: ChildProcess[] = [];
// Whatever ends this script (an error while starting included), nothing it started outlives it.
process.once('exit', () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function spawnLogged(name: string, cmd: string, args: string[], env: Record<string, string>): ChildProcess & { output: () => string } {
  const child = spawn(cmd, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcess & { output: () => string };
  let out = '';
  const keep = (chunk: Buffer) => (out = (out + chunk.toString()).slice(-200_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.output = () => out;
  started.push(child);
  child.once('exit', (code, signal) => notes.push(`${name} (pid ${child.pid}) exited: ${code ?? signal}`));
  return child;
}

async function startRedis(): Promise<ChildProcess> {
  const child = spawnLogged('redis-server (kit)', 'redis-server', ['--port', String(PORTS.redis), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], {});
  for (let i = 0; i < 100 && !(await answersPing(PORTS.redis)); i += 1) await sleep(50);
  if (!(await answersPing(PORTS.redis))) throw new Error(`redis-server did not start on ${PORTS.redis}`);
  return child;
}

function cli(port: number, ...args: string[]): string {
  const result = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', maxBuffer: 1024 * 2 ** 20 });
  return `${result.stdout}${result.stderr}`.trim();
}

/** redis-cli against the store the hubs use: -c on a cluster, the current primary with Sentinel. */
function redisCli(...args: string[]): string {
  if (KIND === 'cluster') return cli(CLUSTER_PORTS.find((p) => dataProcs.get(p)?.alive())!, '-c', ...args);
  return cli(currentPrimary(), ...args);
}

const dataProcs = new Map<number, { child: ChildProcess; alive: () => boolean }>();
const clusterDir = mkdtempSync(join(tmpdir(), 'failover-cluster-'));
process.once('exit', () => rmSync(clusterDir, { recursive: true, force: true }));

async function startDataNode(port: number, extra: string[]): Promise<void> {
  const child = spawnLogged(`redis-server :${port}`, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', clusterDir, ...extra], {});
  dataProcs.set(port, { child, alive: () => child.exitCode === null && child.signalCode === null });
  for (let i = 0; i < 100 && !(await answersPing(port)); i += 1) await sleep(50);
  if (!(await answersPing(port))) throw new Error(`redis-server did not start on ${port}`);
}
const clusterArgs = (port: number) => ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', '--enable-debug-command', 'local'];

async function startCluster(): Promise<void> {
  for (const port of CLUSTER_PORTS) await startDataNode(port, clusterArgs(port));
  const create = spawnSync('redis-cli', ['--cluster', 'create', ...CLUSTER_PORTS.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8' });
  if (create.status !== 0) throw new Error(`cluster create failed: ${create.stdout}${create.stderr}`);
  await clusterSettled();
}

interface ClusterNode { id: string; port: number; master: boolean; masterId: string; failed: boolean }
function clusterNodes(): ClusterNode[] {
  const port = CLUSTER_PORTS.find((p) => dataProcs.get(p)?.alive() && cli(p, 'PING') === 'PONG')!;
  return cli(port, 'CLUSTER', 'NODES').split('\n').filter(Boolean).map((line) => {
    const [id, addr, flags, masterId] = line.split(' ');
    return { id: id!, port: Number(/:(\d+)@/.exec(addr!)?.[1]), master: flags!.includes('master'), masterId: masterId!, failed: /fail/.test(flags!) };
  });
}
/** Every node up, three masters each with a replica in sync, cluster_state ok everywhere. */
async function clusterSettled(withinMs = 60_000): Promise<string> {
  const deadline = Date.now() + withinMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const nodes = clusterNodes();
      const masters = nodes.filter((n) => n.master && !n.failed);
      const ok = CLUSTER_PORTS.every((p) => cli(p, 'CLUSTER', 'INFO').includes('cluster_state:ok'));
      const synced = nodes.filter((n) => !n.master).every((n) => cli(n.port, 'INFO', 'replication').includes('master_link_status:up'));
      last = `masters ${masters.map((m) => m.port).join(',')}, ok ${ok}, synced ${synced}`;
      if (ok && synced && masters.length === 3 && nodes.length === 6 && !nodes.some((n) => n.failed)) return last;
    } catch (error) {
      last = String(error);
    }
    await sleep(250);
  }
  throw new Error(`cluster did not settle: ${last}`);
}
/** A master and its replica; which master: the one holding the slot of the refresh tokens' claims is luck, so the first. */
function masterAndReplica(index = 0): { master: ClusterNode; replica: ClusterNode } {
  const nodes = clusterNodes();
  const master = nodes.filter((n) => n.master && !n.failed).sort((a, b) => a.port - b.port)[index]!;
  return { master, replica: nodes.find((n) => n.masterId === master.id)! };
}

let sentinelPrimaryHint = DATA_PORTS[0]!;
function currentPrimary(): number {
  for (const port of SENTINEL_PORTS) {
    const reply = cli(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_NAME).split('\n');
    if (reply.length >= 2 && Number(reply[1])) return (sentinelPrimaryHint = Number(reply[1]));
  }
  return sentinelPrimaryHint;
}
async function startSentinel(): Promise<void> {
  const min = process.env.MIN_REPLICAS_TO_WRITE ? ['--min-replicas-to-write', process.env.MIN_REPLICAS_TO_WRITE, '--min-replicas-max-lag', '10'] : [];
  await startDataNode(DATA_PORTS[0]!, ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', ...min]);
  await startDataNode(DATA_PORTS[1]!, ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', '--replicaof', '127.0.0.1', String(DATA_PORTS[0]), ...min]);
  for (const port of SENTINEL_PORTS) {
    const file = join(clusterDir, `sentinel-${port}.conf`);
    writeFileSync(file, [`port ${port}`, 'bind 127.0.0.1', `dir ${clusterDir}`, `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${DATA_PORTS[0]} 2`, `sentinel down-after-milliseconds ${SENTINEL_NAME} ${process.env.SENTINEL_DOWN_MS ?? 2000}`, `sentinel failover-timeout ${SENTINEL_NAME} 10000`, ''].join('\n'));
    const child = spawnLogged(`sentinel :${port}`, 'redis-sentinel', [file], {});
    dataProcs.set(port, { child, alive: () => child.exitCode === null && child.signalCode === null });
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const states = SENTINEL_PORTS.map((port) => cli(port, 'SENTINEL', 'MASTER', SENTINEL_NAME));
    if (states.every((s) => /num-other-sentinels\n2\n/.test(s) && /num-slaves\n1\n/.test(s))) return;
    await sleep(250);
  }
  throw new Error('sentinels did not find each other');
}

async function waitFor(url: string, withinMs: number, child?: { output: () => string }): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not yet
    }
    await sleep(200);
  }
  throw new Error(`${url} was not ready within ${withinMs} ms${child ? `; its output:\n${child.output().slice(-4_000)}` : ''}`);
}

// ---------------------------------------------------------------- set-up

const proxyUrl = `http://127.0.0.1:${PORTS.proxy}`;
const subsiteUrl = `http://127.0.0.1:${PORTS.subsite}`;
const slowUrl = `http://127.0.0.1:${PORTS.slow}`;
const dir = mkdtempSync(join(tmpdir(), 'faults-under-load-'));
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
const seedFile = join(dir, 'seed.yaml');
writeFileSync(seedFile, stringify({
  users: [...USERS, ...DOOMED].map((username) => ({ username, email: `${username}@faults.test`, password: PASSWORD })),
  clients: [
    { clientId: 'svc', clientSecret: SECRET('svc'), grantTypes: ['client_credentials'] },
    { clientId: 'rp', clientSecret: SECRET('rp'), redirectUris: [RP_REDIRECT], grantTypes: ['authorization_code', 'refresh_token'], trusted: true },
    {
      clientId: 'forum', clientSecret: SECRET('forum'), name: 'Forum', redirectUris: [`${subsiteUrl}/sso/callback`], postLogoutRedirectUris: [`${subsiteUrl}/`],
      grantTypes: ['authorization_code'], trusted: true, syncLoginUrl: `${subsiteUrl}/sso/synclogin`, syncLogoutUrl: `${subsiteUrl}/sso/synclogout`,
      syncKey: SECRET('forum-sync'), userdeleteUrl: `${subsiteUrl}/sso/userdelete`,
    },
    { clientId: 'slow', clientSecret: SECRET('slow'), name: 'Slow', redirectUris: [`${slowUrl}/cb`], grantTypes: ['authorization_code'], userdeleteUrl: `${slowUrl}/sso/userdelete` },
  ],
}));

log('building the hub (tsc)…');
const dist = process.env.FAILOVER_DIST ?? fileURLToPath(buildHub()!);
const hubEnv = (port: number, metricsPort: number): Record<string, string> => ({
  HUB_PORT: String(port),
  HUB_ISSUER: proxyUrl,
  HUB_TRUST_PROXY: 'true',
  ...(KIND === 'cluster' ? { REDIS_CLUSTER_NODES: CLUSTER_PORTS.slice(0, 3).map((p) => `127.0.0.1:${p}`).join(',') } : { REDIS_SENTINELS: SENTINEL_PORTS.map((p) => `127.0.0.1:${p}`).join(','), REDIS_SENTINEL_NAME: SENTINEL_NAME }),
  ...(process.env.REDIS_WAIT_REPLICAS ? { REDIS_WAIT_REPLICAS: process.env.REDIS_WAIT_REPLICAS } : {}),
  KEY_PREFIX: PREFIX,
  HUB_SEED_FILE: seedFile,
  LOG_LEVEL: process.env.HUB_LOG_LEVEL ?? 'warn',
  LOGIN_MAX_ATTEMPTS_PER_IP: '1000000',
  LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000000',
  SIGNIN_STARTS_PER_IP: '1000000',
  SHUTDOWN_DELAY_MS: '1000',
  SHUTDOWN_TIMEOUT_MS: '10000',
  METRICS_PORT: String(metricsPort),
  HUB_STORE_CHECK_MS: '1000',
  // Room for every token of the run in the log of tokens issued (the audit check reads them all).
  AUDIT_MAX_TOKEN_ENTRIES: '2000000',
  DELIVERY_BACKOFF_BASE_MS: '500',
  DELIVERY_BACKOFF_MAX_MS: '5000',
  DELIVERY_POLL_MS: '250',
});
type Hub = { name: string; port: number; metrics: number; child: ChildProcess & { output: () => string } };
async function startHub(name: string, port: number, metrics: number): Promise<Hub> {
  const child = spawnLogged(name, process.execPath, [join(dist, 'main.js')], hubEnv(port, metrics));
  await waitFor(`http://127.0.0.1:${port}/readyz`, 120_000, child);
  return { name, port, metrics, child };
}

await startRedis(); // the kit's own Redis
if (KIND === 'cluster') await startCluster(); else await startSentinel();
log(`store: ${KIND} up`);
const proxy = new RoundRobinProxy([], { readiness: { path: '/readyz', intervalMs: 200 } });
await proxy.listen(PORTS.proxy);
const hubs: Hub[] = [await startHub('hub-a', PORTS.hubA, PORTS.metricsA)];
hubs.push(await startHub('hub-b', PORTS.hubB, PORTS.metricsB));
proxy.backends = hubs.map((hub) => `127.0.0.1:${hub.port}`);
const subsite = spawnLogged('subsite', process.execPath, ['--import', 'tsx', 'bench/servers/fault-subsite.ts'], {
  PORT: String(PORTS.subsite), REDIS_URL: `redis://127.0.0.1:${PORTS.redis}`, HUB_URL: proxyUrl, CLIENT_ID: 'forum', CLIENT_SECRET: SECRET('forum'),
  SYNC_KEY: SECRET('forum-sync'), SESSION_SECRET: SECRET('forum-session'), REDIS_PREFIX: `${PREFIX}forum:`,
});
await waitFor(`${subsiteUrl}/healthz`, 60_000, subsite);

// The subsite whose userdelete endpoint hangs while `slowHangs` (a request is held until then).
let slowHangs = false;
const held: ServerResponse[] = [];
let slowCalls = 0;
const slow = createServer((req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  slowCalls += 1;
  if (slowHangs) held.push(res);
  else res.writeHead(204).end();
});
await new Promise<void>((resolve) => slow.listen(PORTS.slow, '127.0.0.1', resolve));

// ---------------------------------------------------------------- flows

let running = true;
let tokenForIntrospection = '';

async function clientCredentials(): Promise<void> {
  const at = Date.now();
  const answer = await call('client_credentials', `${proxyUrl}/token`, { method: 'POST', headers: { authorization: basic('svc') }, form: { grant_type: 'client_credentials' } });
  issuedToken(answer, at);
  if (answer.status === 200) tokenForIntrospection = String(answer.json.access_token);
  if (tokenForIntrospection) {
    const seen = await call('introspection', `${proxyUrl}/token/introspection`, { method: 'POST', headers: { authorization: basic('svc') }, form: { token: tokenForIntrospection } });
    if (seen.status === 200 && seen.json.active !== true) {
      const last = samples[samples.length - 1]!;
      last.ok = false;
      last.problems.push('inactive');
    }
  }
}

/** Portal sign-in through the proxy (argon2id), following the sync page; returns the sync page. */
async function portalSignIn(browser: RecordingBrowser, login: string): Promise<string> {
  const host = new URL(proxyUrl).host;
  const form = await browser.follow(`${proxyUrl}/login`, [host]);
  if (form.response.status !== 200) throw new Error(`GET /login ${form.response.status}`);
  const action = new URL(attribute(form.body, /action="(\/interaction\/[^"]+\/login)"/), proxyUrl).toString();
  const answer = await browser.post(action, { _csrf: inputValue(form.body, '_csrf'), login, password: PASSWORD });
  const sync = await answer.text();
  if (answer.status !== 200) throw new Error(`sign-in ${answer.status}`);
  const account = await browser.follow(continueUrlOf(sync, proxyUrl), [host]);
  if (account.response.status !== 200) throw new Error(`continue ${account.response.status}`);
  return sync;
}

async function portalSignOut(browser: RecordingBrowser): Promise<string> {
  const confirm = await browser.get(`${proxyUrl}/session/end`);
  const html = await confirm.text();
  if (confirm.status !== 200) throw new Error(`GET /session/end ${confirm.status}`);
  const done = await browser.post(`${proxyUrl}/session/end/confirm`, { xsrf: inputValue(html, 'xsrf'), logout: 'yes' });
  const page = await done.text();
  if (done.status !== 200) throw new Error(`sign-out ${done.status}`);
  return page;
}

async function signInAndOut(worker: number): Promise<void> {
  const browser = new RecordingBrowser('portal sign-in/out');
  await portalSignIn(browser, USERS[worker % USERS.length]!);
  await portalSignOut(browser);
  const account = await browser.get(`${proxyUrl}/account`);
  await account.text();
  if (account.status === 200) {
    record('portal sign-in/out', 'still signed in after sign-out', Date.now(), 200, ['half-done sign-out'], false);
  }
}

const beacons = (page: string) => [...page.matchAll(/class="beacon" src="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&')).filter((u) => u.startsWith(subsiteUrl));

/** Sign-in at the hub, the forum's sync beacon, the forum's page (lazy verification), sign-out, the page again. */
async function kitFlow(worker: number, login = USERS[(worker + 6) % USERS.length]!): Promise<void> {
  const browser = new RecordingBrowser('kit lazy sign-in');
  const sync = await portalSignIn(browser, login);
  for (const beacon of beacons(sync)) await (await browser.get(beacon)).arrayBuffer();
  // A sync code is single-use: the same beacon again must be refused.
  const [first] = beacons(sync);
  if (first) {
    browser.flow = 'sync code replay';
    const again = await browser.get(first);
    await again.arrayBuffer();
    if (again.status < 400) samples[samples.length - 1]!.problems.push('double-spent sync code');
    browser.flow = 'kit lazy sign-in';
  }
  const hosts = [new URL(proxyUrl).host, new URL(subsiteUrl).host];
  let page;
  try {
    page = await browser.follow(`${subsiteUrl}/page`, hosts, 10);
  } catch (error) {
    record('kit lazy sign-in', 'GET /page (redirects)', Date.now(), 0, ['redirect loop'], false);
    throw error;
  }
  const signedIn = page.response.status === 200 && page.body.includes(`Signed in as ${login}`);
  record('kit lazy sign-in', 'page shows the user', Date.now(), page.response.status, [], signedIn);
  browser.flow = 'kit sign-out';
  const out = await portalSignOut(browser);
  for (const beacon of beacons(out)) await (await browser.get(beacon)).arrayBuffer();
  const after = await browser.follow(`${subsiteUrl}/page`, hosts, 10);
  record('kit sign-out', 'page after sign-out', Date.now(), after.response.status, after.body.includes('Signed in as') ? ['still signed in at the kit'] : [], after.response.status === 200 && !after.body.includes('Signed in as'));
}

interface Chain {
  refresh: string;
  access: string;
  used: Map<string, string>; // refresh token → the access token its 200 gave
  code: { code: string; verifier: string }; // the code this chain started from (spent)
}

/** A new refresh chain: portal sign-in and the code flow (PKCE) of the rp client. */
async function newChain(worker: number): Promise<Chain> {
  const browser = new RecordingBrowser('refresh chain start');
  const { verifier, challenge } = pkcePair();
  const params = new URLSearchParams({ client_id: 'rp', response_type: 'code', scope: 'openid profile email', redirect_uri: RP_REDIRECT, state: `s${worker}`, nonce: `n${worker}`, code_challenge: challenge, code_challenge_method: 'S256' });
  await portalSignIn(browser, USERS[(worker + 3) % USERS.length]!);
  const answer = await browser.follow(`${proxyUrl}/auth?${params}`, [new URL(proxyUrl).host]);
  const code = new URL(answer.url).searchParams.get('code');
  if (!code) throw new Error(`no code (${answer.response.status})`);
  for (let attempt = 0; ; attempt += 1) {
    const tokens = await call('code exchange', `${proxyUrl}/token`, { method: 'POST', headers: { authorization: basic('rp') }, form: { grant_type: 'authorization_code', code, redirect_uri: RP_REDIRECT, code_verifier: verifier } });
    if (tokens.status === 200) {
      return { refresh: String(tokens.json.refresh_token), access: String(tokens.json.access_token), used: new Map(), code: { code, verifier } };
    }
    if (tokens.status !== 503 && tokens.status !== 0) throw new Error(`code exchange ${tokens.status} ${JSON.stringify(tokens.json)}`);
    if (attempt > 20) throw new Error('code exchange kept failing');
    await sleep(500);
  }
}

/** One refresh (retrying a 503 or a lost answer with the same token, as a client told to retry does), then userinfo. */
async function refreshOnce(chain: Chain): Promise<'ok' | 'dead'> {
  let failedBefore = false;
  for (let attempt = 0; attempt < 40 && running; attempt += 1) {
    const answer = await call('refresh', `${proxyUrl}/token`, { method: 'POST', headers: { authorization: basic('rp') }, form: { grant_type: 'refresh_token', refresh_token: chain.refresh } });
    if (answer.status === 200) {
      chain.used.set(chain.refresh, String(answer.json.access_token));
      chain.refresh = String(answer.json.refresh_token);
      chain.access = String(answer.json.access_token);
      const info = await call('userinfo', `${proxyUrl}/me`, { headers: { authorization: `Bearer ${chain.access}` } });
      return info.status === 200 || info.status === 503 || info.status === 0 ? 'ok' : 'dead';
    }
    if (answer.status === 503 || answer.status === 0) {
      failedBefore = true;
      await sleep(answer.status === 503 ? 1_000 : 250);
      continue;
    }
    if (failedBefore && !wiped) {
      const last = samples.findLast((sample) => sample.flow === 'refresh')!;
      last.problems.push('token lost after a 503 (neither usable nor reused)');
    }
    return 'dead';
  }
  return 'ok';
}

/** A token already answered 200 must never give new tokens (the same answer again, within 60 s, is allowed). */
async function replayCheck(chain: Chain): Promise<void> {
  const last = [...chain.used.entries()].at(-1);
  if (!last) return;
  const [token, access] = last;
  const answer = await call('refresh replay', `${proxyUrl}/token`, { method: 'POST', headers: { authorization: basic('rp') }, form: { grant_type: 'refresh_token', refresh_token: token } });
  if (answer.status === 200 && answer.json.access_token !== access) {
    samples[samples.length - 1]!.problems.push('double-spent refresh token');
  }
  // The chain's code was redeemed long ago: it must be refused (and, being a reuse, revokes the grant).
  const again = await call('code replay', `${proxyUrl}/token`, { method: 'POST', headers: { authorization: basic('rp') }, form: { grant_type: 'authorization_code', code: chain.code.code, redirect_uri: RP_REDIRECT, code_verifier: chain.code.verifier } });
  if (again.status === 200) samples[samples.length - 1]!.problems.push('double-spent code');
  // A replay that was refused revoked the grant (reuse detection): the chain starts again.
}

let wiped = false; // between the data loss and the restore: refusals are expected

async function worker(name: string, body: (n: number) => Promise<void>): Promise<void> {
  for (let n = 0; running; n += 1) {
    try {
      await body(n);
    } catch {
      await sleep(300); // the failed step is recorded; start the flow again
    }
  }
  void name;
}

const replayRequests: Set<number> = new Set();
async function chainWorker(index: number): Promise<void> {
  let chain: Chain | undefined;
  while (running) {
    try {
      chain ??= await newChain(index);
      if (replayRequests.has(index)) {
        replayRequests.delete(index);
        await replayCheck(chain);
        chain = undefined;
        continue;
      }
      if ((await refreshOnce(chain)) === 'dead') chain = undefined;
      await sleep(100);
    } catch {
      chain = undefined;
      await sleep(300);
    }
  }
}

async function pollHealth(): Promise<void> {
  const targets = () => [
    ...hubs.map((hub) => [`${hub.name} /readyz`, `http://127.0.0.1:${hub.port}/readyz`] as const),
    ['forum /readyz', `${subsiteUrl}/readyz`] as const,
  ];
  while (running) {
    await Promise.all(targets().map(async ([target, url]) => {
      const at = Date.now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
        health.push({ at, target, status: response.status, body: (await response.text()).slice(0, 200) });
      } catch {
        health.push({ at, target, status: 0, body: 'no answer' });
      }
    }));
    await sleep(250);
  }
}

async function memory(hub: Hub): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${hub.metrics}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
    const match = /^sso_process_nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)/m.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- faults

interface Window {
  name: string;
  from: number;
  to: number;
  detail: string[];
}
const windows: Window[] = [];

/** Runs the compiled admin CLI against the fault Redis (without blocking the load's event loop). */
function hubCli(...args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(dist, 'cli.js'), ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...hubEnv(PORTS.hubA, PORTS.metricsA) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => resolve(`${args.slice(0, 2).join(' ')}: exit ${code}${code ? ` ${out.trim().split('\n').filter((line) => !/Unsupported runtime/.test(line)).slice(-2).join(' | ').slice(0, 300)}` : ''}`));
  });
}


async function until(what: string, test: () => boolean | Promise<boolean>, withinMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < withinMs) {
    try {
      if (await test()) return Date.now() - started;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`${what}: not within ${withinMs} ms`);
}

/** Waits for `replica` to be a master (by any live node's view). */
async function promoted(replicaPort: number, withinMs = 60_000): Promise<number> {
  return until(`replica :${replicaPort} promoted`, () => cli(replicaPort, 'ROLE').startsWith('master'), withinMs);
}

async function clusterManualFailover(): Promise<string[]> {
  const { master, replica } = masterAndReplica(0);
  const reply = cli(replica.port, 'CLUSTER', 'FAILOVER');
  const took = await promoted(replica.port);
  const settled = await clusterSettled();
  return [`CLUSTER FAILOVER on :${replica.port} (replica of :${master.port}): ${reply}; promoted after ${took} ms; ${settled}`];
}

async function clusterMasterSleep(): Promise<string[]> {
  const { master, replica } = masterAndReplica(1);
  const sleeper = spawn('redis-cli', ['-p', String(master.port), 'DEBUG', 'SLEEP', '30'], { stdio: 'ignore' });
  await sleep(200);
  if (cli(replica.port, 'PING') !== 'PONG') throw new Error('replica down');
  const took = await promoted(replica.port);
  await new Promise((resolve) => sleeper.once('exit', resolve));
  const settled = await clusterSettled();
  return [`DEBUG SLEEP 30 on master :${master.port}; its replica :${replica.port} promoted after ${took} ms; ${settled}`];
}

async function clusterMasterStop(): Promise<string[]> {
  const { master, replica } = masterAndReplica(2);
  const child = dataProcs.get(master.port)!.child;
  child.kill('SIGSTOP');
  const took = await promoted(replica.port);
  await sleep(2_000);
  child.kill('SIGCONT');
  const settled = await clusterSettled();
  return [`SIGSTOP master :${master.port}; replica :${replica.port} promoted after ${took} ms; SIGCONT 2 s later; ${settled}`];
}

async function clusterMasterKill(): Promise<string[]> {
  const { master, replica } = masterAndReplica(0);
  dataProcs.get(master.port)!.child.kill('SIGKILL');
  const took = await promoted(replica.port);
  await sleep(2_000);
  await startDataNode(master.port, clusterArgs(master.port));
  const settled = await clusterSettled();
  return [`SIGKILL master :${master.port}; replica :${replica.port} promoted after ${took} ms; old master started again (rejoins as a replica); ${settled}`];
}

async function sentinelFailover(): Promise<string[]> {
  const before = currentPrimary();
  const other = DATA_PORTS.find((p) => p !== before)!;
  const reply = cli(SENTINEL_PORTS[0]!, 'SENTINEL', 'FAILOVER', SENTINEL_NAME);
  const took = await until('sentinel failover', () => currentPrimary() === other && cli(before, 'INFO', 'replication').includes('master_link_status:up'), 60_000);
  return [`SENTINEL FAILOVER: ${reply}; primary :${before} → :${other} after ${took} ms, old primary a synced replica`];
}

async function sentinelPrimaryKill(): Promise<string[]> {
  const before = currentPrimary();
  const other = DATA_PORTS.find((p) => p !== before)!;
  dataProcs.get(before)!.child.kill('SIGKILL');
  const took = await until('sentinel promotion', () => currentPrimary() === other && cli(other, 'ROLE').startsWith('master'), 60_000);
  await sleep(2_000);
  const min = process.env.MIN_REPLICAS_TO_WRITE ? ['--min-replicas-to-write', process.env.MIN_REPLICAS_TO_WRITE, '--min-replicas-max-lag', '10'] : [];
  await startDataNode(before, ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', '--replicaof', '127.0.0.1', String(other), ...min]);
  const synced = await until('old primary synced', () => cli(before, 'INFO', 'replication').includes('master_link_status:up'), 30_000);
  return [`SIGKILL primary :${before}; :${other} promoted after ${took} ms; old primary started again as its replica, synced ${synced} ms later`];
}

async function sentinelPrimaryStop(): Promise<string[]> {
  const before = currentPrimary();
  const other = DATA_PORTS.find((p) => p !== before)!;
  const child = dataProcs.get(before)!.child;
  child.kill('SIGSTOP');
  const took = await until('sentinel promotion', () => currentPrimary() === other && cli(other, 'ROLE').startsWith('master'), 60_000);
  await sleep(2_000);
  child.kill('SIGCONT');
  const synced = await until('old primary synced', () => cli(before, 'INFO', 'replication').includes('master_link_status:up'), 30_000);
  return [`SIGSTOP primary :${before}; :${other} promoted after ${took} ms; SIGCONT 2 s later; old primary a synced replica ${synced} ms after`];
}

let doomedRound = 0;
/**
 * Forced logout across a failover: users signed in at the forum (kit) and at the portal, with a
 * refresh chain each; the fault started, and 300 ms in, each user disabled with the admin CLI (retried
 * while it fails, as an operator would). Then: the kit shows each signed out, the portal session is
 * gone, the refresh token refused; every notice delivered.
 */
async function withForcedLogout(fault: () => Promise<string[]>): Promise<string[]> {
  const out: string[] = [];
  const logins = DOOMED.slice((doomedRound % 3) * 4, (doomedRound % 3) * 4 + 4);
  doomedRound += 1;
  const users: { login: string; browser: RecordingBrowser; refresh?: string }[] = [];
  for (const login of logins) {
    out.push(await hubCli('users', 'enable', login));
    const browser = new RecordingBrowser('kit sign-in (to be disabled)');
    try {
      const sync = await portalSignIn(browser, login);
      for (const beacon of beacons(sync)) await (await browser.get(beacon)).arrayBuffer();
      const page = await browser.follow(`${subsiteUrl}/page`, [new URL(proxyUrl).host, new URL(subsiteUrl).host], 10);
      if (!page.body.includes(`Signed in as ${login}`)) continue;
      // a refresh token too, on the same hub session
      const { verifier, challenge } = pkcePair();
      const params = new URLSearchParams({ client_id: 'rp', response_type: 'code', scope: 'openid profile email', redirect_uri: RP_REDIRECT, state: 's', nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256' });
      const answer = await browser.follow(`${proxyUrl}/auth?${params}`, [new URL(proxyUrl).host]);
      const code = new URL(answer.url).searchParams.get('code');
      let refresh: string | undefined;
      if (code) {
        const tokens = await call('doomed code exchange', `${proxyUrl}/token`, { method: 'POST', headers: { authorization: basic('rp') }, form: { grant_type: 'authorization_code', code, redirect_uri: RP_REDIRECT, code_verifier: verifier } });
        if (tokens.status === 200) refresh = String(tokens.json.refresh_token);
      }
      users.push({ login, browser, ...(refresh ? { refresh } : {}) });
    } catch {
      // recorded
    }
  }
  out.push(`signed in before the fault: ${users.map((u) => `${u.login}${u.refresh ? '+refresh' : ''}`).join(', ')}`);
  const faultDone = fault();
  await sleep(300);
  const results = await Promise.all(users.map(async ({ login, browser, refresh }) => {
    const started = Date.now();
    let cli = '';
    for (let attempt = 0; attempt < 20; attempt += 1) {
      cli = await hubCli('users', 'disable', login);
      if (cli.endsWith('exit 0')) break;
      out.push(`  ${login}: ${cli}`);
      await sleep(1_000);
    }
    const queuedAt = Date.now();
    browser.flow = 'forced logout at the kit';
    let kit = 'still signed in at the kit after 60 s';
    for (;;) {
      const page = await browser.get(`${subsiteUrl}/page`);
      const body = await page.text();
      if (page.status === 200 && !body.includes('Signed in as')) { kit = `kit signed out ${Date.now() - queuedAt} ms after the CLI`; break; }
      if (Date.now() - queuedAt > 60_000) break;
      await sleep(200);
    }
    browser.flow = 'forced logout at the hub';
    const account = await browser.get(`${proxyUrl}/account`);
    await account.text();
    const hubSession = account.status === 200 ? 'STILL SIGNED IN at the hub' : `hub /account ${account.status}`;
    let token = 'no refresh token';
    if (refresh) {
      const answer = await call('doomed refresh', `${proxyUrl}/token`, { method: 'POST', headers: { authorization: basic('rp') }, form: { grant_type: 'refresh_token', refresh_token: refresh } });
      token = answer.status === 200 ? 'REFRESH TOKEN STILL WORKS' : `refresh ${answer.status} ${String(answer.json.error ?? '')}`;
      if (answer.status === 200) samples[samples.length - 1]!.problems.push('refresh token of a disabled user');
    }
    if (account.status === 200) samples[samples.length - 1]!.problems.push('hub session of a disabled user');
    return `${login}: CLI ${cli} after ${queuedAt - started} ms; ${kit}; ${hubSession}; ${token}`;
  }));
  out.push(...results);
  out.push(...(await faultDone));
  return out;
}

const FAULTS: Record<string, () => Promise<string[]>> = KIND === 'cluster'
  ? {
      'cluster-manual-failover': clusterManualFailover,
      'cluster-master-sleep': () => withForcedLogout(clusterMasterSleep),
      'cluster-master-stop': clusterMasterStop,
      'cluster-master-kill': () => withForcedLogout(clusterMasterKill),
    }
  : {
      'sentinel-failover': () => withForcedLogout(sentinelFailover),
      'sentinel-primary-kill': () => withForcedLogout(sentinelPrimaryKill),
      'sentinel-primary-stop': sentinelPrimaryStop,
    };
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(FAULTS);
for (const name of chosen) if (!FAULTS[name]) throw new Error(`unknown fault ${name}; known: ${Object.keys(FAULTS).join(', ')}`);

// ---------------------------------------------------------------- run

const loops = [
  worker('cc', clientCredentials),
  worker('cc', clientCredentials),
  ...Array.from({ length: CHAINS }, (_, i) => chainWorker(i)),
  worker('portal', (n) => signInAndOut(n)),
  worker('portal', (n) => signInAndOut(n + 1)),
  worker('kit', (n) => kitFlow(n)),
  worker('kit', (n) => kitFlow(n + 1)),
  pollHealth(),
];

const memoryAt: { label: string; rss: (number | undefined)[] }[] = [];
const memorySample = async (label: string) => memoryAt.push({ label, rss: await Promise.all(hubs.map(memory)) });
const AFTER_MS = 10_000;
try {
  await sleep(8_000); // steady load first
  await memorySample('start');
  for (const name of chosen) {
    const from = Date.now();
    log(`fault ${name}…`);
    const detail = await FAULTS[name]!();
    const to = Date.now();
    windows.push({ name, from, to, detail });
    await sleep(AFTER_MS);
    for (let i = 0; i < CHAINS; i += 1) replayRequests.add(i);
    await sleep(3_000);
    await memorySample(`after ${name}`);
  }
} finally {
  running = false;
  await Promise.race([Promise.all(loops), sleep(30_000)]);
}

// ---------------------------------------------------------------- the audit log: no token it answered is missing

/** Entries each hub still holds for a later write (`sso_audit_entries_waiting`); undefined when its metrics do not answer. */
async function auditWaiting(hub: Hub): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${hub.metrics}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
    const match = /^sso_audit_entries_waiting (\d+)/m.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
// Entries a refused write kept are written within the retry's backoff (at most 30 s between tries).
const auditDeadline = Date.now() + 45_000;
while (Date.now() < auditDeadline && (await Promise.all(hubs.map(auditWaiting))).some((n) => n === undefined || n > 0)) await sleep(500);
const audited = new Set<string>();
for (const raw of redisCli('--raw', 'ZRANGE', `${PREFIX}audit:tokens`, '0', '-1').split('\n')) {
  const match = /"requestId":"(fault-[^"]+)"/.exec(raw);
  if (match && raw.includes('"client":"svc"')) audited.add(match[1]!);
}
/** The wipe of `redis-restart-empty` takes every entry before it with it (no persistence): not counted as missing. */
const wipedAt = windows.find((w) => w.name === 'redis-restart-empty')?.from;
function auditLine(window: Window): string {
  const mine = issued.filter((t) => t.at >= window.from - 500 && t.at < window.to + AFTER_MS);
  const missing = mine.filter((t) => !audited.has(t.requestId));
  const wiped = wipedAt !== undefined && window.from <= wipedAt ? ' (Redis was later restarted empty: entries before it are gone with it)' : '';
  return `  audit: ${mine.length} client_credentials tokens answered 200, ${mine.length - missing.length} in the audit log, ${missing.length} missing${wiped}`;
}

// ---------------------------------------------------------------- report

function table(window: Window): string {
  const lines = [`\n## ${window.name} (${((window.to - window.from) / 1000).toFixed(1)} s)`, ...window.detail.map((d) => `  ${d}`), auditLine(window)];
  const during = samples.filter((s) => s.at >= window.from - 500 && s.at < window.to + AFTER_MS);
  const flows = [...new Set(during.map((s) => s.flow))].sort();
  lines.push('| flow | answers during the fault and 10 s after | slowest (step → status) | what was wrong | first success after the fault | 5xx/no answer > 5 s after |', '| --- | --- | --- | --- | --- | --- |');
  for (const flow of flows) {
    const mine = during.filter((s) => s.flow === flow);
    const statuses = new Map<number, number>();
    for (const s of mine) statuses.set(s.status, (statuses.get(s.status) ?? 0) + 1);
    const problems = new Map<string, number>();
    for (const s of mine) for (const p of s.problems) problems.set(p.startsWith('slow') ? 'slow > 5 s' : p, (problems.get(p.startsWith('slow') ? 'slow > 5 s' : p) ?? 0) + 1);
    const firstOk = samples.find((s) => s.flow === flow && s.at >= window.to && s.ok);
    const slowest = mine.reduce((a, b) => (b.ms > a.ms ? b : a));
    // Failed answers to requests started more than 5 s after the fault ended: not recovered.
    const late = mine.filter((s) => s.at > window.to + 5_000 && (s.status === 0 || s.status >= 500)).length;
    lines.push(`| ${flow} | ${[...statuses].sort((a, b) => a[0] - b[0]).map(([status, n]) => `${status || 'none'}×${n}`).join(' ')} | ${slowest.ms} ms (${slowest.step} → ${slowest.status || 'none'}) | ${[...problems].map(([p, n]) => `${p}×${n}`).join(', ') || '–'} | ${firstOk ? `${((firstOk.at - window.to) / 1000).toFixed(1)} s` : 'never'} | ${late} |`);
  }
  for (const s of during.filter((s) => s.body !== undefined).slice(0, 3)) lines.push(`  answer with a problem: ${s.flow}, ${s.step} → ${s.status}: ${s.body!.replace(/\s+/g, ' ').slice(0, 300)}`);
  const probes = health.filter((h) => h.at >= window.from - 500 && h.at < window.to + AFTER_MS);
  for (const target of [...new Set(probes.map((h) => h.target))]) {
    const seq: string[] = [];
    for (const h of probes.filter((p) => p.target === target)) {
      const label = h.status === 200 ? '200' : `${h.status || 'none'}${h.status === 503 ? ` ${(/"reasons":\[([^\]]*)\]/.exec(h.body)?.[1] ?? '').slice(0, 60)}` : ''}`;
      if (seq.at(-1)?.replace(/ ×\d+$/, '') === label) {
        const n = Number(/×(\d+)$/.exec(seq.at(-1)!)?.[1] ?? 1) + 1;
        seq[seq.length - 1] = `${label} ×${n}`;
      } else seq.push(label);
    }
    lines.push(`  ${target}: ${seq.join(' → ')}`);
  }
  return lines.join('\n');
}

const report = [
  `# faults under load (${new Date().toISOString()})`,
  ...windows.map(table),
  '\n## memory (heap used of each hub, MiB; read after each fault and its 13 s after)',
  ...memoryAt.map((m) => `  ${m.label}: ${m.rss.map((r) => (r ? (r / 2 ** 20).toFixed(0) : '?')).join(' / ')}`),
  '\n## everything run',
  `  ${samples.length} requests; ${samples.filter((s) => s.status >= 500 && s.status !== 503).length} 5xx other than 503; ${samples.filter((s) => s.problems.includes('stack trace')).length} stack traces; ${samples.filter((s) => s.problems.some((p) => p.startsWith('double-spent'))).length} double spends`,
  `  audit log: ${issued.length} client_credentials tokens answered 200, ${issued.filter((t) => audited.has(t.requestId)).length} of them in the log of tokens issued${wipedAt === undefined ? '' : ' (those before redis-restart-empty are gone with it)'}; every hub's audit queue empty at the end: ${(await Promise.all(hubs.map(auditWaiting))).every((n) => n === 0)}`,
  `  proxy: ${JSON.stringify(proxy.counts)}`,
  `  delivery queue at the end: due ${redisCli('ZCARD', `${PREFIX}delivery:due`)}, failed ${redisCli('ZCARD', `${PREFIX}delivery:failed`)}, delivered ${redisCli('ZCARD', `${PREFIX}delivery:delivered`)}`,
  ...(await Promise.all(hubs.map(async (hub) => {
    try {
      const text = await (await fetch(`http://127.0.0.1:${hub.metrics}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
      return `  ${hub.name} metrics: ${text.split('\n').filter((l) => /^sso_(store_command_errors_total|delivery_queue_depth|delivery_oldest_pending_seconds|store_up|redis)/.test(l)).join('; ').slice(0, 1200)}`;
    } catch (error) {
      return `  ${hub.name} metrics: ${String(error)}`;
    }
  }))),
  ...notes.map((n) => `  ${n}`),
  '\n## process logs: error lines',
  ...hubs.flatMap((hub) => hub.child.output().split('\n').filter((l) => /"level":"(error|fatal)"|Error|\bat /.test(l)).slice(0, 15).map((l) => `  ${hub.name}: ${l.slice(0, 300)}`)),
  ...subsite.output().split('\n').filter((l) => l.trim()).slice(0, 15).map((l) => `  forum: ${l.slice(0, 300)}`),
].join('\n');
log(report);
if (process.env.FAULT_SAMPLES) writeFileSync(process.env.FAULT_SAMPLES, JSON.stringify({ samples, health, windows }));
if (process.env.FAULT_REPORT) writeFileSync(process.env.FAULT_REPORT, `${report}\n`);

// ---------------------------------------------------------------- stop everything, by PID

await proxy.close();
slow.closeAllConnections();
slow.close();
for (const child of started.reverse()) {
  if (child.exitCode === null && child.signalCode === null) {
    const exit = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exit, sleep(15_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
rmSync(dir, { recursive: true, force: true });
process.exit(0);
