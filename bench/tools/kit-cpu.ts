/**
 * CPU time per page view of a signed-in user on a subsite: through the kit against bare
 * express-session + connect-redis (the kit-page scenario's baseline), or against another
 * checkout's kit (`KIT_BASE=<checkout>`), so a change to the kit is measured against the code
 * before it in one interleaved run. The servers' own CPU time (`/proc/<pid>/stat`, every
 * thread) over a fixed number of requests: steadier than throughput on a shared machine.
 *
 *   npx tsx bench/tools/kit-cpu.ts [requests per window, 4000]
 *
 * Each kit is built as npm ships it (`subsite-kit/scripts/build.mjs`) into a folder of the run's
 * own under its checkout's bench/, removed at the end. The kit's signed-in session is written
 * straight into Redis (the same record for both kits), so no hub is needed.
 * `KIT_CONCURRENCY` (10) requests in flight, `KIT_ROUNDS` (3) A B B A rounds, `KIT_WARMUP` (300),
 * `KIT_PROFILE_DIR`: also write a CPU profile of each timed window there (`<server>-<round>.cpuprofile`).
 * `KIT_PERF_DIR`: also record each timed window with Linux `perf record -g` (`<server>-<window>.data`;
 * JavaScript frames named through `--perf-basic-prof`, on for both servers in such a run):
 * `perf report -i <file> --no-children --sort sym`.
 * Pinned as `npm run bench` pins (servers on core 0, this process on the others) where taskset
 * exists; `KIT_PIN=0` spreads them over every core.
 * Uses `BENCH_REDIS_URL` or the Redis on 127.0.0.1:6379 (keys under a run prefix, removed at the end).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { cpuTimeMs } from '../lib/cpu-time.js';
import { derivedSecret, subsiteId, subsiteOrigin } from '../lib/fixtures.js';
import { perfServerEnv, startPerfRecord, stopPerfRecord } from '../lib/perf-samples.js';
import { freePort, layout, pinSelf, startServer, unpin, type ServerProcess } from '../lib/processes.js';

const requests = Number(process.argv[2] ?? 4000);
const concurrency = Number(process.env.KIT_CONCURRENCY ?? 10);
const rounds = Number(process.env.KIT_ROUNDS ?? 3);
const warmup = Number(process.env.KIT_WARMUP ?? 300);
const base = process.env.KIT_BASE ? resolve(process.env.KIT_BASE) : undefined;
const profileDir = process.env.KIT_PROFILE_DIR;
const perfDir = process.env.KIT_PERF_DIR;
if (perfDir) mkdirSync(perfDir, { recursive: true });
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const salt = randomUUID();
const root = `bench:kitcpu-${salt.slice(0, 8)}:`;
const here = fileURLToPath(new URL('../..', import.meta.url));
// As `npm run bench`: the servers on core 0, this process (the load) on the others. Unpinned
// (KIT_PIN=0), the kit's extra cost per page read 1.08x of bare's where pinned it read 1.21x
// (the bench: 1.04-1.35x): spread over every core, both servers share caches and cores with the load.
if (process.env.KIT_PIN === '0' || !pinSelf()) unpin();
process.stdout.write(layout.pinned ? `pinned: servers on core ${layout.server}, this tool on ${layout.loadGenerator}\n` : 'not pinned: servers and this tool on every core\n');
// express-session's own cookie signing (it ships no types).
const signature = createRequire(import.meta.url)('cookie-signature') as { sign(value: string, secret: string): string };

/** Builds a checkout's kit into its bench/ (where its imports find node_modules); returns the ESM entry. */
function buildKit(checkout: string): { module: string; dir: string } {
  const dir = join(checkout, `bench/kit-cpu-${salt.slice(0, 8)}`);
  const build = spawnSync(process.execPath, [join(checkout, 'subsite-kit/scripts/build.mjs'), '--out-dir', dir], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`building the kit of ${checkout} failed`);
  return { module: `${dir}/esm/index.js`, dir };
}

const built = [buildKit(here), ...(base ? [buildKit(base)] : [])];
const redis = createClient({ url: redisUrl });
await redis.connect();

async function start(name: string, mode: 'kit' | 'bare', kitModule: string): Promise<ServerProcess> {
  return startServer(name, 'subsites.ts', { REDIS_URL: redisUrl, BENCH_SALT: salt, BENCH_PREFIX: `${root}${name}:`, BENCH_MODE: mode, BENCH_KIT_MODULE: kitModule, BENCH_PROFILE_DIR: profileDir ?? '/tmp', PORT: String(await freePort()), ...(perfDir ? perfServerEnv() : {}) });
}

const id = subsiteId(0);
const sessionSecret = derivedSecret(salt, 'subsite-session');

/** A signed-in kit session, as the kit writes it after a sign-in (sizes as the hub issues them). */
async function kitCookie(server: ServerProcess): Promise<string> {
  const sid = randomUUID();
  const now = Math.floor(Date.now() / 1000);
  const sub = randomUUID();
  const claims = { iss: 'http://127.0.0.1:4000', aud: id, sub, sid: randomUUID(), auth_time: now, iat: now, exp: now + 3600, name: 'bench-user-0', preferred_username: 'bench-user-0', email: 'bench-user-0@bench.test', email_verified: true };
  const data = {
    cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/', sameSite: 'lax', secure: false },
    sso: { user: { sub, name: 'bench-user-0', preferred_username: 'bench-user-0', email: 'bench-user-0@bench.test', claims }, hubSid: claims.sid, idToken: 'x'.repeat(900), clientId: id, accessToken: 'y'.repeat(43), accessTokenExpiresAt: now + 3600, loggedInAt: now },
  };
  await redis.set(`${root}${server.name}:${id}:sess:${sid}`, JSON.stringify(data), { EX: 3600 });
  return `${id}.sid=${encodeURIComponent(`s:${signature.sign(sid, sessionSecret)}`)}`;
}

async function bareCookie(server: ServerProcess): Promise<string> {
  const response = await fetch(`${subsiteOrigin(0, Number(server.info.port))}/${id}/bench-login`, { redirect: 'manual' });
  const cookie = response.headers.get('set-cookie')?.split(';', 1)[0];
  if (!cookie) throw new Error('the bare baseline set no session cookie');
  return cookie;
}

type Send = () => Promise<void>;
function pageOf(server: ServerProcess, cookie: string): Send {
  const url = `${subsiteOrigin(0, Number(server.info.port))}/${id}/page`;
  const headers = { cookie, accept: 'text/html' };
  return async () => {
    const response = await fetch(url, { headers });
    const text = await response.text();
    if (response.status !== 200 || !text.includes('Signed in as')) throw new Error(`${server.name}: ${response.status} ${text.slice(0, 200)}`);
  };
}

const control = (server: ServerProcess, path: string) => fetch(`http://127.0.0.1:${String(server.info.port)}/__bench/profile/${path}`).then((r) => r.text());
let window = 0;

async function perRequest(server: ServerProcess, send: Send): Promise<number> {
  for (let i = 0; i < warmup; i += 1) await send();
  if (profileDir) await control(server, 'start');
  const perf = perfDir ? await startPerfRecord(server.pid, `${perfDir}/${server.name}-${window}.data`) : undefined;
  const before = cpuTimeMs(server.pid)!;
  let left = requests;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left > 0) {
      left -= 1;
      await send();
    }
  }));
  await new Promise((done) => setTimeout(done, 50));
  const used = ((cpuTimeMs(server.pid)! - before) * 1000) / requests;
  if (perf) await stopPerfRecord(perf);
  if (profileDir) await control(server, `stop?name=${server.name}-${window}`);
  window += 1;
  return used;
}

const a = await start('kit', 'kit', built[0]!.module);
const b = base ? await start('base', 'kit', built[1]!.module) : await start('bare', 'bare', built[0]!.module);
try {
  const sendA = pageOf(a, await kitCookie(a));
  const sendB = pageOf(b, base ? await kitCookie(b) : await bareCookie(b));
  const ratios: number[] = [];
  let sumA = 0;
  let sumB = 0;
  for (let round = 0; round < rounds; round += 1) {
    const a1 = await perRequest(a, sendA);
    const b1 = await perRequest(b, sendB);
    const b2 = await perRequest(b, sendB);
    const a2 = await perRequest(a, sendA);
    ratios.push((a1 + a2) / (b1 + b2));
    sumA += a1 + a2;
    sumB += b1 + b2;
    process.stdout.write(`  round ${round}: kit ${a1.toFixed(0)}, ${a2.toFixed(0)} µs; ${b.name} ${b1.toFixed(0)}, ${b2.toFixed(0)} µs CPU per page\n`);
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  process.stdout.write(`kit ${(sumA / (2 * rounds)).toFixed(0)} µs, ${b.name} ${(sumB / (2 * rounds)).toFixed(0)} µs CPU per page; ${b.name} ÷ kit (speed) ${(sumB / sumA).toFixed(2)}×, kit ÷ ${b.name} CPU median ${sorted[sorted.length >> 1]!.toFixed(2)}× (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')})\n`);
} finally {
  await Promise.all([a.stop(), b.stop()]);
  for await (const keys of redis.scanIterator({ MATCH: `${root}*`, COUNT: 1000 })) if (keys.length) await redis.del(keys);
  await redis.quit();
  for (const { dir } of built) rmSync(dir, { recursive: true, force: true });
}
