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
 * Passwords: FAILOVER_PASSWORD puts `requirepass` and `masterauth` on every data server (cluster
 * nodes, Sentinel's primary and replica; the sentinels get it as `auth-pass`), and the hubs and the
 * admin CLI get it as REDIS_PASSWORD; FAILOVER_SENTINEL_PASSWORD is the sentinels' own
 * `requirepass` (REDIS_SENTINEL_PASSWORD). With either, the report says whether a password showed
 * up anywhere: every line any process printed (hubs, kit, admin CLI), every /readyz body, every
 * answer kept, the report itself.
 *
 * Ports: FAULT_PORT_BASE (default 46100) to +7, +10..15 (cluster), +20..24 (Sentinel). Every
 * process it starts is stopped by its PID at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, redisCliAt as cli, redisCliPasswords } from '../lib/faults/children.js';
import { authorizationCode, exchangeCode, refreshToken } from '../lib/faults/chains.js';
import { signInAtKit } from '../lib/faults/flows.js';
import { loadState, runUnderLoad, type Fault } from '../lib/faults/load.js';
import { RecordingBrowser } from '../lib/faults/recording.js';
import { auditQueuesDrained, faultReport } from '../lib/faults/report.js';
import { faultPorts, log, Rig } from '../lib/faults/rig.js';

const BASE = Number(process.env.FAULT_PORT_BASE ?? 46100);
const PORTS = faultPorts(BASE);
// The hub's store: a 3-master + 3-replica cluster on BASE+10..15, or a primary + replica (BASE+20, 21) with sentinels on BASE+22..24.
const KIND = (process.env.FAILOVER_STORE ?? 'cluster') as 'cluster' | 'sentinel';
const CLUSTER_PORTS = Array.from({ length: 6 }, (_, i) => BASE + 10 + i);
const DATA_PORTS = [BASE + 20, BASE + 21];
const SENTINEL_PORTS = [BASE + 22, BASE + 23, BASE + 24];
const SENTINEL_NAME = 'failover';
const NODE_TIMEOUT_MS = Number(process.env.CLUSTER_NODE_TIMEOUT ?? 3000);
const PREFIX = process.env.FAULT_KEY_PREFIX ?? 'h-failover:';
const DOOMED = Array.from({ length: 12 }, (_, i) => `doomed-${i}`);
const PASSWORD = process.env.FAILOVER_PASSWORD || undefined;
const SENTINEL_PASSWORD = process.env.FAILOVER_SENTINEL_PASSWORD || undefined;
if (SENTINEL_PASSWORD && KIND !== 'sentinel') throw new Error('FAILOVER_SENTINEL_PASSWORD is for FAILOVER_STORE=sentinel');
for (const port of KIND === 'cluster' ? CLUSTER_PORTS : DATA_PORTS) if (PASSWORD) redisCliPasswords.set(port, PASSWORD);
if (SENTINEL_PASSWORD) for (const port of SENTINEL_PORTS) redisCliPasswords.set(port, SENTINEL_PASSWORD);
/** A data server's password options (also given again to one started after a kill, as its config file would). */
const passwordArgs = () => (PASSWORD ? ['--requirepass', PASSWORD, '--masterauth', PASSWORD] : []);

const rig = new Rig({
  ports: PORTS,
  prefix: PREFIX,
  doomed: DOOMED,
  storeEnv: {
    ...(KIND === 'cluster' ? { REDIS_CLUSTER_NODES: CLUSTER_PORTS.slice(0, 3).map((p) => `127.0.0.1:${p}`).join(',') } : { REDIS_SENTINELS: SENTINEL_PORTS.map((p) => `127.0.0.1:${p}`).join(','), REDIS_SENTINEL_NAME: SENTINEL_NAME }),
    ...(process.env.REDIS_WAIT_REPLICAS ? { REDIS_WAIT_REPLICAS: process.env.REDIS_WAIT_REPLICAS } : {}),
    ...(PASSWORD ? { REDIS_PASSWORD: PASSWORD } : {}),
    ...(SENTINEL_PASSWORD ? { REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD } : {}),
  },
  logLevel: process.env.HUB_LOG_LEVEL ?? 'warn',
  ...(process.env.FAILOVER_DIST ? { dist: process.env.FAILOVER_DIST } : {}),
  cliOutput: true,
});
const { recording } = rig;
rig.children.secrets.push(...[PASSWORD, SENTINEL_PASSWORD].filter((p): p is string => Boolean(p)));

// ---------------------------------------------------------------- the store: a cluster or Sentinel

/** redis-cli against the store the hubs use: -c on a cluster, the current primary with Sentinel. */
function redisCli(...args: string[]): string {
  if (KIND === 'cluster') return cli(CLUSTER_PORTS.find((p) => dataProcs.get(p)?.alive())!, '-c', ...args);
  return cli(currentPrimary(), ...args);
}

const dataProcs = new Map<number, { child: ChildProcess; alive: () => boolean }>();
const clusterDir = mkdtempSync(join(tmpdir(), 'failover-cluster-'));
process.once('exit', () => rmSync(clusterDir, { recursive: true, force: true }));

async function startDataNode(port: number, extra: string[]): Promise<void> {
  const child = await rig.children.redisServer(`redis-server :${port}`, port, ['--dir', clusterDir, ...passwordArgs(), ...extra]);
  dataProcs.set(port, { child, alive: () => alive(child) });
}
const clusterArgs = (port: number) => ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', '--enable-debug-command', 'local'];

async function startCluster(): Promise<void> {
  for (const port of CLUSTER_PORTS) await startDataNode(port, clusterArgs(port));
  const create = spawnSync('redis-cli', ['--cluster', 'create', ...CLUSTER_PORTS.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8', ...(PASSWORD ? { env: { ...process.env, REDISCLI_AUTH: PASSWORD } } : {}) });
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
    writeFileSync(file, [`port ${port}`, 'bind 127.0.0.1', `dir ${clusterDir}`, `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${DATA_PORTS[0]} 2`, `sentinel down-after-milliseconds ${SENTINEL_NAME} ${process.env.SENTINEL_DOWN_MS ?? 2000}`, `sentinel failover-timeout ${SENTINEL_NAME} 10000`,
      // The data servers' password, and the sentinels' own (what they also give each other).
      ...(PASSWORD ? [`sentinel auth-pass ${SENTINEL_NAME} ${PASSWORD}`] : []),
      ...(SENTINEL_PASSWORD ? [`requirepass ${SENTINEL_PASSWORD}`, `sentinel sentinel-pass ${SENTINEL_PASSWORD}`] : []),
      ''].join('\n'));
    const child = rig.children.spawn(`sentinel :${port}`, 'redis-sentinel', [file], {});
    dataProcs.set(port, { child, alive: () => alive(child) });
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const states = SENTINEL_PORTS.map((port) => cli(port, 'SENTINEL', 'MASTER', SENTINEL_NAME));
    if (states.every((s) => /num-other-sentinels\n2\n/.test(s) && /num-slaves\n1\n/.test(s))) return;
    await sleep(250);
  }
  throw new Error('sentinels did not find each other');
}

// ---------------------------------------------------------------- set-up

await rig.children.redisServer('redis-server (kit)', PORTS.redis, ['--maxmemory-policy', 'noeviction']); // the kit's own Redis
if (KIND === 'cluster') await startCluster(); else await startSentinel();
log(`store: ${KIND} up`);
await rig.start();
const state = loadState();

// ---------------------------------------------------------------- faults

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
  const sleeper = spawn('redis-cli', ['-p', String(master.port), 'DEBUG', 'SLEEP', '30'], { stdio: 'ignore', ...(PASSWORD ? { env: { ...process.env, REDISCLI_AUTH: PASSWORD } } : {}) });
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
async function withForcedLogout(fault: Fault): Promise<string[]> {
  const out: string[] = [];
  const logins = DOOMED.slice((doomedRound % 3) * 4, (doomedRound % 3) * 4 + 4);
  doomedRound += 1;
  const users: { login: string; browser: RecordingBrowser; refresh?: string }[] = [];
  for (const login of logins) {
    out.push(await rig.hubCli('users', 'enable', login));
    const browser = new RecordingBrowser(recording, 'kit sign-in (to be disabled)');
    try {
      if (!(await signInAtKit(rig, browser, login))) continue;
      // a refresh token too, on the same hub session
      const { code, verifier } = await authorizationCode(rig, browser, 's', 'n');
      let refresh: string | undefined;
      if (code) {
        const tokens = await exchangeCode(rig, 'doomed code exchange', code, verifier);
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
      cli = await rig.hubCli('users', 'disable', login);
      if (cli.endsWith('exit 0')) break;
      out.push(`  ${login}: ${cli}`);
      await sleep(1_000);
    }
    const queuedAt = Date.now();
    browser.flow = 'forced logout at the kit';
    let kit = 'still signed in at the kit after 60 s';
    for (;;) {
      const page = await browser.get(`${rig.subsiteUrl}/page`);
      const body = await page.text();
      if (page.status === 200 && !body.includes('Signed in as')) { kit = `kit signed out ${Date.now() - queuedAt} ms after the CLI`; break; }
      if (Date.now() - queuedAt > 60_000) break;
      await sleep(200);
    }
    browser.flow = 'forced logout at the hub';
    const account = await browser.get(`${rig.proxyUrl}/account`);
    await account.text();
    const hubSession = account.status === 200 ? 'STILL SIGNED IN at the hub' : `hub /account ${account.status}`;
    let token = 'no refresh token';
    if (refresh) {
      const answer = await refreshToken(rig, 'doomed refresh', refresh);
      token = answer.status === 200 ? 'REFRESH TOKEN STILL WORKS' : `refresh ${answer.status} ${String(answer.json.error ?? '')}`;
      if (answer.status === 200) recording.last().problems.push('refresh token of a disabled user');
    }
    if (account.status === 200) recording.last().problems.push('hub session of a disabled user');
    return `${login}: CLI ${cli} after ${queuedAt - started} ms; ${kit}; ${hubSession}; ${token}`;
  }));
  out.push(...results);
  out.push(...(await faultDone));
  return out;
}

const FAULTS: Record<string, Fault> = KIND === 'cluster'
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

// ---------------------------------------------------------------- run, report, stop everything by PID

const { windows, memoryAt } = await runUnderLoad(rig, state, FAULTS, chosen);
await auditQueuesDrained(rig);
const report = await faultReport({
  rig, windows, memoryAt,
  auditTokens: redisCli('--raw', 'ZRANGE', `${PREFIX}audit:tokens`, '0', '-1'),
  more: async () => [
    `  delivery queue at the end: due ${redisCli('ZCARD', `${PREFIX}delivery:due`)}, failed ${redisCli('ZCARD', `${PREFIX}delivery:failed`)}, delivered ${redisCli('ZCARD', `${PREFIX}delivery:delivered`)}`,
    ...(await Promise.all(rig.hubs.map(async (hub) => {
      try {
        const text = await (await fetch(`http://127.0.0.1:${hub.metrics}/metrics`, { signal: AbortSignal.timeout(3_000) })).text();
        return `  ${hub.name} metrics: ${text.split('\n').filter((l) => /^sso_(store_command_errors_total|delivery_queue_depth|delivery_oldest_pending_seconds|store_up|redis)/.test(l)).join('; ').slice(0, 1200)}`;
      } catch (error) {
        return `  ${hub.name} metrics: ${String(error)}`;
      }
    }))),
  ],
});
log(report);
if (rig.children.secrets.length) {
  // Whatever left a process or came back to a client: a password must be in none of it.
  for (const sample of recording.samples) if (sample.body) rig.children.noteLeaks(`an answer (${sample.step})`, sample.body);
  for (const probe of recording.health) rig.children.noteLeaks(`${probe.target} body`, probe.body);
  rig.children.noteLeaks('the report', report);
  const leaks = [...rig.children.leaks].map(([where, n]) => `${where} ×${n}`);
  log(`  passwords in output: ${leaks.length ? `SEEN in ${leaks.join(', ')}` : 'none'} (every line of ${rig.children.started.length} processes and the admin CLI runs, ${recording.health.length} /readyz bodies, the answers kept, the report)`);
}
if (process.env.FAULT_SAMPLES) writeFileSync(process.env.FAULT_SAMPLES, JSON.stringify({ samples: recording.samples, health: recording.health, windows }));
if (process.env.FAULT_REPORT) writeFileSync(process.env.FAULT_REPORT, `${report}\n`);
await rig.stop();
process.exit(0);
