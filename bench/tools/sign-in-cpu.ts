/**
 * Server CPU per portal sign-in POST, at N registered subsites (each on its own origin), and
 * for comparison the CPU of one bare argon2id verification at the hub's cost in this process.
 *
 *   npx tsx bench/tools/sign-in-cpu.ts [--subsites=1,1000] [--posts=40] [--rounds=2] [--concurrency=1] [--pin] [--profile] [--threads] [--perf] [--strace[=full]]
 *
 * Starts the bench's own redis-server and one hub per N (`bench/servers/hub.ts`; pinned as the bench pins with `--pin`),
 * then in interleaved rounds (A B … B A) opens `posts` sign-in forms per hub (not measured)
 * and posts them one at a time, reading the hub process's CPU time (user + system, every
 * thread: argon2's libuv thread included) from /proc/<pid>/stat before and after. CPU time
 * holds still on a loaded machine where wall time does not; on one core a CPU-bound server's
 * throughput ratio is the inverse of its CPU-per-request ratio. `--profile`: a CPU profile of
 * each hub's posts of the last round (`bench/results/profiles/signin-cpu-n<N>.cpuprofile`).
 * `--threads`: the CPU per POST of each kind of thread (main, V8's helpers, libuv's pool).
 * `--perf`: Linux perf records each hub's posts of the last round (`bench/results/perf/signin-n<N>.data`;
 * the hubs then run with `--perf-basic-prof` in every window, so compare `--perf` runs with each other),
 * and the tool prints the CPU per POST (samples ÷ posts ÷ the sampling rate) of the whole hub, of
 * argon2id's own code, of the sync page's planning (`forSignIn`) and of its sending
 * (`renderSyncPage`). Compare a part with argon2id's share of the same recording: that ratio
 * holds still where the windows' CPU per POST moves by ±3 ms on a shared machine.
 * With `--pin` the bare loop also runs in a process of its own on the hubs' core (as the bench's
 * baseline does), since this process runs on another core, which a shared machine may load differently.
 * `--strace`: counts each hub's system calls (`strace -f -c`, every thread) over its posts of the
 * last round and prints them per POST: a count, not a time, so it holds on a loaded machine (the
 * CPU figures of those windows are strace's, not the hub's). `--strace=full`: every call with its
 * time and arguments instead (epoll waits left out), in `bench/results/strace/signin-n<N>.txt`.
 * Also prints the time each hub took to register its N subsites at start-up.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { loadConfig } from '../../hub/src/config.js';
import { openSignIn, pool, postSignIn, signInAnswerBytes } from '../lib/hub-flows.js';
import { PASSWORD, username } from '../lib/fixtures.js';
import { cpuTimeMs, mainThreadCpuTimeMs, threadCpuTimesMs } from '../lib/cpu-time.js';
import { buildHub } from '../lib/build-hub.js';
import { countStacks, PERF_HZ, perfServerEnv, startPerfRecord, stopPerfRecord } from '../lib/perf-samples.js';
import { freePort, layout, pinSelf, runPinned, startBenchRedis, startServer, unpin, type ServerProcess } from '../lib/processes.js';

const args = new Map<string, string | undefined>(process.argv.slice(2).map((a) => { const [name, value] = a.replace(/^--/, '').split('='); return [name!, value]; }));
const counts = (args.get('subsites') ?? '1,1000').split(',').map(Number);
const posts = Number(args.get('posts') ?? 40);
const rounds = Number(args.get('rounds') ?? 2);
const profile = args.has('profile');
const concurrency = Number(args.get('concurrency') ?? 1);
const perfDir = args.has('perf') ? 'bench/results/perf' : undefined;
const straceDir = args.has('strace') ? 'bench/results/strace' : undefined;
const straceFull = args.get('strace') === 'full';
if (straceDir) mkdirSync(straceDir, { recursive: true });
if (perfDir) mkdirSync(perfDir, { recursive: true });
const USERS = 20;

/** CPU seconds of a process so far: every thread, and its main (JavaScript) thread alone. */
function cpuSeconds(pid: number): { all: number; main: number } {
  const all = cpuTimeMs(pid);
  const main = mainThreadCpuTimeMs(pid);
  if (all === undefined || main === undefined) throw new Error(`no /proc/${pid}/stat: this tool needs Linux`);
  return { all: all / 1000, main: main / 1000 };
}

/** `strace -f -c` attached to every thread of `pid`, its summary written to `file` when stopped. */
async function startStrace(pid: number, file: string): Promise<{ stop(): Promise<void> }> {
  const child = spawn('strace', [...(straceFull ? ['-tt', '-e', 'trace=!epoll_pwait'] : ['-c']), '-f', '-o', file, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let attached = false;
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.stderr.on('data', (chunk: Buffer) => { if (!attached && chunk.toString().includes('attached')) { attached = true; resolve(); } });
    setTimeout(resolve, 2000);
  });
  return {
    stop: () => new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill('SIGINT'); }),
  };
}

/** The system calls of a `strace -c` summary per POST, most frequent first. */
function straceSummary(file: string, posts: number): string {
  const rows = readFileSync(file, 'utf8').split('\n').map((line) => line.trim().split(/\s+/)).filter((cols) => cols.length >= 5 && /^\d/.test(cols[0]!) && cols[cols.length - 1] !== 'total');
  const calls = rows.map((cols) => ({ name: cols[cols.length - 1]!, calls: Number(cols[3]) })).filter((r) => Number.isFinite(r.calls)).sort((a, b) => b.calls - a.calls);
  const total = calls.reduce((sum, r) => sum + r.calls, 0);
  return `${(total / posts).toFixed(1)} in all; ${calls.slice(0, 12).map((r) => `${r.name} ${(r.calls / posts).toFixed(1)}`).join(', ')}`;
}

// `--pin`: the hubs on the bench's server core and this process on the others, as in `npm run bench` (else spread over every core).
if (!args.has('pin') || !pinSelf()) unpin();
process.stdout.write(layout.pinned ? `pinned: hubs on core ${layout.server}, this tool on ${layout.loadGenerator}\n` : 'not pinned: hubs and this tool on every core\n');
const redis = await startBenchRedis();
const salt = randomBytes(8).toString('hex');
const hubs: { n: number; server: ServerProcess }[] = [];
const hubDist = buildHub(); // compiled, as the image runs it
try {
  for (const n of counts) {
    const server = await startServer(`hub-${n}`, 'hub.ts', {
      REDIS_URL: redis.url,
      BENCH_SALT: salt,
      BENCH_PREFIX: `signin-cpu:${n}:`,
      BENCH_PROFILE_DIR: 'bench/results/profiles',
      PORT: String(await freePort()),
      BENCH_SUBSITES: String(n),
      BENCH_SUBSITE_PORT: '9',
      BENCH_USERS: String(USERS),
      ...(hubDist ? { BENCH_HUB_DIST: hubDist } : {}),
      ...(perfDir ? perfServerEnv() : {}),
    });
    hubs.push({ n, server });
    console.log(`hub N=${n}: registering ${n} subsites took ${String(server.info.registrationMs)} ms`);
  }
  // Warm each hub (templates, caches, connections) and show what one answer weighs.
  for (const { n, server } of hubs) {
    await postSignIn(server.url, await openSignIn(server.url, username(0)));
    const bytes = await signInAnswerBytes(server.url, await openSignIn(server.url, username(1)));
    console.log(`hub N=${n}: answer headers ${bytes.headerBytes} B, page ${bytes.bodyBytes} B`);
  }
  if (args.has('monitor')) {
    // The Redis commands of one sign-in POST at the first N, as redis-cli MONITOR prints them.
    const { server } = hubs[0]!;
    const form = await openSignIn(server.url, username(3));
    const monitor = spawn('redis-cli', ['-u', redis.url, 'monitor'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let log = '';
    monitor.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await postSignIn(server.url, form);
    await new Promise((resolve) => setTimeout(resolve, 300));
    monitor.kill('SIGTERM');
    console.log(`Redis commands of one sign-in POST (N=${hubs[0]!.n}):`);
    for (const line of log.split('\n').filter((l) => l.includes('"'))) console.log(`  ${line.replace(/^[\d.]+ \[[^\]]*\] /, '').slice(0, 160)}`);
  }
  const results = new Map<number, number[]>(counts.map((n) => [n, []]));
  const mainThread = new Map<number, number[]>(counts.map((n) => [n, []]));
  const byThread = new Map<number, Map<string, number>>(counts.map((n) => [n, new Map()]));
  let windowsPerN = 0;
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? hubs : [...hubs].reverse();
    for (const [index, { n, server }] of [...order, ...[...order].reverse()].entries()) {
      const forms = await pool(Array.from({ length: posts }, (_, i) => i), 8, (i) => openSignIn(server.url, username(i % USERS)));
      const profiling = profile && round === rounds - 1 && index < order.length;
      if (profiling) await fetch(`${server.url}/__bench/profile/start`);
      const perf = perfDir && round === rounds - 1 && index < order.length ? await startPerfRecord(server.pid, `${perfDir}/signin-n${n}.data`) : undefined;
      const traced = straceDir && round === rounds - 1 && index < order.length ? await startStrace(server.pid, `${straceDir}/signin-n${n}.txt`) : undefined;
      const threadsBefore = threadCpuTimesMs(server.pid);
      const before = cpuSeconds(server.pid);
      // `--concurrency=C`: C posts in flight, as the bench's load generator sends them.
      let next = 0;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < forms.length) await postSignIn(server.url, forms[next++]!);
      }));
      const after = cpuSeconds(server.pid);
      if (perf) await stopPerfRecord(perf);
      if (traced) await traced.stop();
      const threads = byThread.get(n)!;
      for (const [name, ms] of threadCpuTimesMs(server.pid)) threads.set(name, (threads.get(name) ?? 0) + (ms - (threadsBefore.get(name) ?? 0)) / posts);
      if (n === counts[0]) windowsPerN += 1;
      const ms = ((after.all - before.all) * 1000) / posts;
      mainThread.get(n)!.push(((after.main - before.main) * 1000) / posts);
      if (profiling) await fetch(`${server.url}/__bench/profile/stop?name=signin-cpu-n${n}`);
      results.get(n)!.push(ms);
    }
  }
  // Bare argon2id verification at the hub's cost, in this process (one at a time).
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id as 2, memoryCost: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_ITERATIONS, parallelism: config.ARGON2_PARALLELISM });
  const argonMs: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const start = process.cpuUsage();
    for (let j = 0; j < 10; j += 1) await argon2.verify(hash, PASSWORD);
    const used = process.cpuUsage(start);
    argonMs.push((used.user + used.system) / 1000 / 10);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // Pinned: the same loop on the hubs' core too (a process of its own, one verification at a time),
  // the core the bench's own baseline uses. On a shared machine the cores are not alike at a given
  // moment (2026-12-05: 10 % dearer on either core in turn, as other sessions' servers came and went).
  const onServerCore: number[] = [];
  if (layout.pinned) {
    for (let i = 0; i < 3; i += 1) {
      const result = await runPinned('argon2.ts', { BENCH_ARGON2_CPU: '1', BENCH_ARGON2_INFLIGHT: '1', BENCH_WARMUP: '0.5', BENCH_DURATION: '2' });
      onServerCore.push(Number(result.cpuMsPerVerification));
    }
  }
  console.log(`\nserver CPU per sign-in POST (ms), ${posts} posts per window, ${rounds} rounds interleaved:`);
  for (const [n, ms] of results) console.log(`  N=${n}: median ${median(ms).toFixed(2)}  windows ${ms.map((m) => m.toFixed(2)).join(' ')}; main thread alone: median ${median(mainThread.get(n)!).toFixed(2)}  windows ${mainThread.get(n)!.map((m) => m.toFixed(2)).join(' ')}`);
  if (args.has('threads')) {
    for (const [n, threads] of byThread) {
      const parts = [...threads].sort((a, b) => b[1] - a[1]).map(([name, ms]) => `${name} ${(ms / windowsPerN).toFixed(2)}`);
      console.log(`  N=${n} by thread (ms per POST, mean of the windows): ${parts.join(', ')}`);
    }
  }
  console.log(`  bare argon2id verification (this process): median ${median(argonMs).toFixed(2)}  ${argonMs.map((m) => m.toFixed(2)).join(' ')}`);
  if (onServerCore.length > 0) console.log(`  bare argon2id verification (a process on the hubs' core ${layout.server}): median ${median(onServerCore).toFixed(2)}  ${onServerCore.map((m) => m.toFixed(2)).join(' ')}`);
  if (perfDir) {
    for (const n of counts) {
      const { samples, within } = await countStacks(`${perfDir}/signin-n${n}.data`, ['argon2.node', 'forSignIn', 'renderSyncPage']);
      const ms = (count: number) => ((count / posts / PERF_HZ) * 1000).toFixed(2);
      console.log(`  N=${n} by perf, ms per POST: all threads ${ms(samples)}, argon2id's own code ${ms(within.get('argon2.node')!)}, sync page planned ${ms(within.get('forSignIn')!)}, sent ${ms(within.get('renderSyncPage')!)}`);
    }
  }
  if (straceDir && !straceFull) {
    for (const n of counts) console.log(`  N=${n} system calls per POST (strace -f -c): ${straceSummary(`${straceDir}/signin-n${n}.txt`, posts)}`);
  }
  const ref = median(results.get(counts[0]!)!);
  for (const n of counts.slice(1)) console.log(`  CPU N=${n} ÷ N=${counts[0]}: ${(median(results.get(n)!) / ref).toFixed(2)}× (throughput ratio ≈ ${(ref / median(results.get(n)!)).toFixed(2)}×)`);
  console.log(`  argon2 ÷ sign-in N=${counts[0]} CPU: ${(median(argonMs) / ref).toFixed(2)}× (throughput ratio bound)`);
  if (onServerCore.length > 0) console.log(`  argon2 on the hubs' core ÷ sign-in N=${counts[0]} CPU: ${(median(onServerCore) / ref).toFixed(2)}× (throughput ratio bound, like with like)`);
} finally {
  for (const { server } of hubs) await server.stop();
  await redis.stop();
}
