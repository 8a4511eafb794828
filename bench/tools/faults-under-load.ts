/**
 * Faults under load: an outside check of the hub and the kit while Redis and the processes
 * misbehave. Starts its own redis-server (no persistence), two compiled hub processes
 * (`hub/dist-bench-*`, as the image runs them) on that Redis behind the tests' round-robin proxy
 * (readiness polled like HAProxy), a kit subsite (`bench/servers/fault-subsite.ts`) and a
 * subsite whose `/sso/userdelete` never answers; drives a steady mixed load (client_credentials
 * with introspection, refresh chains with userinfo, portal sign-ins with argon2id and sign-outs,
 * lazy verifications through the kit) and injects one fault at a time:
 *
 *   pause-1s, pause-3s, pause-10s  redis-server SIGSTOP for that long, then SIGCONT
 *   client-kill                    CLIENT KILL TYPE normal, three times in two seconds
 *   oom                            maxmemory 1 byte with noeviction for 8 s (every write: OOM)
 *   sigterm-hub                    one hub process SIGTERM'd under load (and 20 requests sent to it directly), then started again
 *   sigterm-during-pause           one hub process SIGTERM'd while Redis is paused (SIGCONT once it exited, at most 20 s), then started again
 *   slow-subsite                   users deleted while one subsite's userdelete endpoint hangs
 *   redis-restart-empty            redis-server SIGKILLed and started again empty; 12 s later the seed is applied again (the operator's restore)
 *
 * Every request is recorded (flow, status, latency, and what is wrong with the answer: a 5xx other
 * than 503, a stack trace, a protocol error that is not RFC 6749 JSON, a 503 without
 * Retry-After, a portal error that is not a page, a redirect loop at the kit, no answer within
 * 20 s), and so is every /readyz of each process every 250 ms. Per fault, a table: what each flow
 * answered during the fault and in the 10 s after it, the slowest answer, what was wrong, and
 * how long after the fault ended each flow first succeeded again.
 *
 *   npx tsx bench/tools/faults-under-load.ts [fault ...]      (default: all, in the order above)
 *
 * Ports: FAULT_PORT_BASE (default 47500) and the next eight. KEY_PREFIX `h-chaos:`. Every
 * process it starts is stopped by its PID at the end.
 */
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisCliAt } from '../lib/faults/children.js';
import { signInAtKit } from '../lib/faults/flows.js';
import { loadState, runUnderLoad, type Fault } from '../lib/faults/load.js';
import { RecordingBrowser } from '../lib/faults/recording.js';
import { auditQueuesDrained, faultReport } from '../lib/faults/report.js';
import { basic, faultPorts, log, Rig } from '../lib/faults/rig.js';

const PORTS = faultPorts(Number(process.env.FAULT_PORT_BASE ?? 47500));
const PREFIX = process.env.FAULT_KEY_PREFIX ?? 'h-chaos:';
const DOOMED = Array.from({ length: 4 }, (_, i) => `doomed-${i}`);

// ---------------------------------------------------------------- set-up: one redis-server for the hubs and the kit

const rig = new Rig({ ports: PORTS, prefix: PREFIX, doomed: DOOMED, storeEnv: { REDIS_URL: `redis://127.0.0.1:${PORTS.redis}` }, logLevel: 'warn', cliOutput: false });
const { recording, hubs } = rig;
const startRedis = () => rig.children.redisServer('redis-server', PORTS.redis, ['--maxmemory-policy', 'noeviction']);
const redisCli = (...args: string[]) => redisCliAt(PORTS.redis, ...args);
const redisRef = { child: await startRedis() };
await rig.start();
const state = loadState();

// ---------------------------------------------------------------- faults

async function pause(seconds: number): Promise<string[]> {
  process.kill(redisRef.child.pid!, 'SIGSTOP');
  await sleep(seconds * 1000);
  process.kill(redisRef.child.pid!, 'SIGCONT');
  return [];
}

async function clientKill(): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < 3; i += 1) {
    out.push(`CLIENT KILL TYPE normal: ${redisCli('CLIENT', 'KILL', 'TYPE', 'normal')} connections`);
    await sleep(1_000);
  }
  return out;
}

async function oom(): Promise<string[]> {
  redisCli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
  redisCli('CONFIG', 'SET', 'maxmemory', '1');
  await sleep(8_000);
  redisCli('CONFIG', 'SET', 'maxmemory', '0');
  return [];
}

async function sigtermHub(): Promise<string[]> {
  const hub = hubs[1]!;
  const directAt = Date.now();
  const direct = Array.from({ length: 20 }, () => recording.call('direct to the stopping hub', `http://127.0.0.1:${hub.port}/token`, { method: 'POST', headers: { authorization: basic('svc') }, form: { grant_type: 'client_credentials' } }).then((answer) => (recording.issuedToken(answer, directAt), answer)));
  const exit = new Promise<string>((resolve) => hub.child.once('exit', (code, signal) => resolve(String(code ?? signal))));
  await sleep(5);
  const signalled = Date.now();
  process.kill(hub.child.pid!, 'SIGTERM');
  const answers = await Promise.all(direct);
  const code = await exit;
  const took = Date.now() - signalled;
  const restarted = await rig.startHub(hub.name, hub.port, hub.metrics);
  hubs[1] = restarted;
  return [`exit ${code} ${took} ms after SIGTERM; direct requests: ${answers.map((a) => a.status).join(',')}`, `proxy so far: ${JSON.stringify(rig.proxy.counts)}`];
}

/** A hub SIGTERM'd while Redis is paused: does it still stop within its bound, and with which exit code? */
async function sigtermDuringPause(): Promise<string[]> {
  const hub = hubs[1]!;
  const exit = new Promise<string>((resolve) => hub.child.once('exit', (code, signal) => resolve(String(code ?? signal))));
  process.kill(redisRef.child.pid!, 'SIGSTOP');
  await sleep(500);
  const signalled = Date.now();
  process.kill(hub.child.pid!, 'SIGTERM');
  const code = await Promise.race([exit, sleep(20_000).then(() => 'still running after 20 s')]);
  const took = Date.now() - signalled;
  process.kill(redisRef.child.pid!, 'SIGCONT');
  if (code === 'still running after 20 s') hub.child.kill('SIGKILL');
  hubs[1] = await rig.startHub(hub.name, hub.port, hub.metrics);
  return [`Redis paused; hub-b SIGTERM'd: ${code === 'still running after 20 s' ? code : `exit ${code} ${took} ms after SIGTERM`} (bound: SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS + 2 s = 13 s)`];
}

async function slowSubsite(): Promise<string[]> {
  const out: string[] = [];
  const slow = rig.slowSite;
  slow.hangs = true;
  // The doomed users are signed in at the forum first; after the delete the forum must sign them out.
  const browsers: { login: string; browser: RecordingBrowser }[] = [];
  for (const login of DOOMED) {
    const browser = new RecordingBrowser(recording, 'kit sign-in (to be deleted)');
    try {
      if (await signInAtKit(rig, browser, login)) browsers.push({ login, browser });
    } catch {
      // recorded
    }
  }
  // All at once (an admin clearing out accounts), each timed from its CLI's exit, when its
  // notices are queued: the CLIs end seconds apart, so later notices find the hung subsite's
  // earlier ones in flight.
  const forcedOut = await Promise.all(browsers.map(async ({ login, browser }) => {
    const cliStarted = Date.now();
    const cli = await rig.hubCli('users', 'delete', login);
    const queuedAt = Date.now();
    out.push(`${cli} (${login}, ${queuedAt - cliStarted} ms)`);
    browser.flow = 'forced logout at the kit';
    for (;;) {
      const page = await browser.get(`${rig.subsiteUrl}/page`);
      const body = await page.text();
      if (!body.includes('Signed in as')) return `${login} ${Date.now() - queuedAt} ms`;
      if (Date.now() - queuedAt > 30_000) return `${login} still signed in after 30 s`;
      await sleep(100);
    }
  }));
  out.push(`signed out at the forum after the delete: ${forcedOut.join('; ')}`);
  await sleep(6_000);
  out.push(`slow subsite: ${slow.calls} userdelete calls received, ${slow.held.length} held`);
  slow.hangs = false;
  for (const res of slow.held.splice(0)) res.destroy();
  return out;
}

async function redisRestartEmpty(): Promise<string[]> {
  const out: string[] = [];
  state.wiped = true;
  process.kill(redisRef.child.pid!, 'SIGKILL');
  await sleep(1_000);
  redisRef.child = await startRedis();
  out.push('redis-server started again, empty');
  await sleep(12_000);
  out.push(`seed applied again: ${await rig.hubCli('seed', rig.seedFile)}`);
  state.wiped = false;
  return out;
}

const FAULTS: Record<string, Fault> = {
  'pause-1s': () => pause(1),
  'pause-3s': () => pause(3),
  'pause-10s': () => pause(10),
  'client-kill': clientKill,
  oom,
  'sigterm-hub': sigtermHub,
  'sigterm-during-pause': sigtermDuringPause,
  'slow-subsite': slowSubsite,
  'redis-restart-empty': redisRestartEmpty,
};
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(FAULTS);
for (const name of chosen) if (!FAULTS[name]) throw new Error(`unknown fault ${name}; known: ${Object.keys(FAULTS).join(', ')}`);

// ---------------------------------------------------------------- run, report, stop everything by PID

const { windows, memoryAt } = await runUnderLoad(rig, state, FAULTS, chosen);
await auditQueuesDrained(rig);
const report = await faultReport({ rig, windows, memoryAt, auditTokens: redisCli('--raw', 'ZRANGE', `${PREFIX}audit:tokens`, '0', '-1') });
log(report);
if (process.env.FAULT_REPORT) writeFileSync(process.env.FAULT_REPORT, `${report}\n`);
await rig.stop();
process.exit(0);
