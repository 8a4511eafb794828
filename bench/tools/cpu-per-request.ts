/**
 * CPU time per request of the hub and the plain peer, from sequential requests: the servers'
 * own CPU time (`/proc/<pid>/stat`, every thread) over a fixed number of requests. Unlike
 * throughput, this hardly moves with what else the machine is doing, so it is the number to
 * optimise against between two full runs.
 *
 *   npx tsx bench/tools/cpu-per-request.ts [requests per scenario, 400] [scenarios: cc,refresh,userinfo,introspection]
 *
 * Uses `BENCH_REDIS_URL` or the Redis on 127.0.0.1:6379 (keys under a run prefix, removed at the end).
 *
 * `CPU_WARMUP` (30) untimed requests before each timed loop, `CPU_ROUNDS` (2) A B B A rounds.
 * Pinned as `npm run bench` pins (servers on core 0, this process on the others) where taskset
 * exists; `CPU_PIN=0` spreads them over every core.
 * `CPU_PERF_DIR=<dir>`: each measured loop is also recorded with Linux `perf record -g`
 * (`<server>-<scenario>.data`; JavaScript frames named through `--perf-basic-prof`, on in every loop
 * of such a run, so compare `CPU_PERF_DIR` runs with each other). Unlike the
 * inspector's profile it samples every thread and the kernel, and charges no frame for the
 * sampling itself (see docs/performance.md, "What the profiles overstate"):
 * `perf report -i <file> --no-children --sort sym`.
 * `CPU_BASE=<another checkout>`: the peer is that checkout's hub instead of plain oidc-provider
 * (its `bench/servers/hub.ts`, with its own sources), so a change is measured against the code
 * before it in one interleaved run: `git worktree add /tmp/base HEAD~1`, link node_modules in.
 * Both hubs run compiled (`buildHub()`, as the image runs them), unless the base has no
 * hub/tsconfig.build.json (then its sources run through tsx).
 * `BENCH_PLAIN_SHARED_GETTER=1`: plain oidc-provider with the hub's fix for its per-request
 * `ctx.oidc` getter (hub/src/oidc/shared-oidc-getter.ts), to read the hub's own cost apart from it.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { derivedSecret, RP_CLIENT, SERVICE_CLIENT } from '../lib/fixtures.js';
import { basicAuth, plainRpTokens, rpTokens } from '../lib/hub-flows.js';
import { buildHub } from '../lib/build-hub.js';
import { cpuTimeMs } from '../lib/cpu-time.js';
import { perfServerEnv, startPerfRecord, stopPerfRecord } from '../lib/perf-samples.js';
import { freePort, layout, pinSelf, startServer, unpin, type ServerProcess } from '../lib/processes.js';

const requests = Number(process.argv[2] ?? 400);
const only = new Set((process.argv[3] ?? 'cc,refresh,userinfo,introspection').split(','));
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const salt = randomUUID();
const root = `${process.env.BENCH_KEY_PREFIX ?? 'bench:'}cpu-${salt.slice(0, 8)}:`; // BENCH_KEY_PREFIX: another prefix for the run's keys
// As `npm run bench`: the servers on core 0, this process (the load) on the others; CPU_PIN=0 spreads them.
if (process.env.CPU_PIN === '0' || !pinSelf()) unpin();
process.stdout.write(layout.pinned ? `pinned: servers on core ${layout.server}, this tool on ${layout.loadGenerator}\n` : 'not pinned: servers and this tool on every core\n');

/** CPU time of every thread of the process, in microseconds. */
function cpuMicros(pid: number): number {
  const ms = cpuTimeMs(pid);
  if (ms === undefined) throw new Error(`no /proc/${pid}/stat: this tool needs Linux`);
  return ms * 1000;
}

async function start(name: string, file: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  return startServer(name, file, { REDIS_URL: redisUrl, BENCH_SALT: salt, BENCH_PREFIX: `${root}${name}:`, BENCH_PROFILE_DIR: profileAs ?? '/tmp', PORT: String(await freePort()), ...(perfAs ? perfServerEnv() : {}), ...env });
}

const concurrency = Number(process.env.CPU_CONCURRENCY ?? 1); // requests in flight (refresh: one chain each)
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const rpSecret = derivedSecret(salt, 'rp-secret');
const serviceSecret = derivedSecret(salt, 'service-secret');

type Send = () => Promise<void>;
async function expectOk(response: Response, what: string): Promise<string> {
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${what}: ${response.status} ${text}`);
  return text;
}

async function scenarios(server: ServerProcess, plain: boolean): Promise<Record<string, Send>> {
  const chains = await Promise.all(Array.from({ length: concurrency }, (_, i) => (plain && !base ? plainRpTokens : rpTokens)(server.url, i + 1, rpSecret)));
  const first = chains[0]!;
  const queue = chains.map((tokens) => tokens.refresh_token);
  return {
    cc: async () => void (await expectOk(await fetch(`${server.url}/token`, { method: 'POST', headers: { ...form, authorization: basicAuth(SERVICE_CLIENT, serviceSecret) }, body: 'grant_type=client_credentials' }), 'cc')),
    refresh: async () => {
      const refresh = queue.shift()!;
      const text = await expectOk(await fetch(`${server.url}/token`, { method: 'POST', headers: { ...form, authorization: basicAuth(RP_CLIENT, rpSecret) }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh }).toString() }), 'refresh');
      queue.push((JSON.parse(text) as { refresh_token: string }).refresh_token);
    },
    userinfo: async () => void (await expectOk(await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${first.access_token}` } }), 'userinfo')),
    introspection: async () => void (await expectOk(await fetch(`${server.url}/token/introspection`, { method: 'POST', headers: { ...form, authorization: basicAuth(RP_CLIENT, rpSecret) }, body: new URLSearchParams({ token: first.access_token }).toString() }), 'introspection')),
  };
}

const warmup = Number(process.env.CPU_WARMUP ?? 30); // untimed requests before each timed loop
const rounds = Number(process.env.CPU_ROUNDS ?? 2); // A B B A rounds per scenario
const profileAs = process.env.CPU_PROFILE_DIR; // also write a profile of each measured loop here
const perfAs = process.env.CPU_PERF_DIR; // also record each measured loop with Linux perf here
if (perfAs) mkdirSync(perfAs, { recursive: true });

let lastRate = 0;

async function perRequest(server: ServerProcess, send: Send, name: string): Promise<number> {
  for (let i = 0; i < warmup; i += 1) await send(); // warm-up
  if (profileAs) await fetch(`${server.url}/__bench/profile/start`);
  const before = cpuMicros(server.pid);
  const perf = perfAs ? await startPerfRecord(server.pid, `${perfAs}/${server.name}-${name}.data`) : undefined;
  const startedAt = performance.now();
  let left = requests;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left > 0) {
      left -= 1;
      await send();
    }
  }));
  lastRate = requests / ((performance.now() - startedAt) / 1000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const used = (cpuMicros(server.pid) - before) / requests;
  if (perf) await stopPerfRecord(perf);
  if (profileAs) await fetch(`${server.url}/__bench/profile/stop?name=${encodeURIComponent(`${server.name}-${name}`)}`);
  return used;
}

const base = process.env.CPU_BASE;
// Each hub compiled as its image runs it (a base from before that runs its sources through tsx).
const hubDist = buildHub();
const baseDist = base ? buildHub(base) : undefined;
const hub = await start('hub', 'hub.ts', { BENCH_USERS: String(concurrency + 2), ...(hubDist ? { BENCH_HUB_DIST: hubDist } : {}) });
const plainServer = base
  ? await start('base', relative(fileURLToPath(new URL('../servers/', import.meta.url)), `${base}/bench/servers/hub.ts`), { BENCH_USERS: String(concurrency + 2), ...(baseDist ? { BENCH_HUB_DIST: baseDist } : {}) })
  : await start('plain', 'plain-oidc.ts', { BENCH_USERS: String(concurrency + 2) });
try {
  const hubSends = await scenarios(hub, false);
  const plainSends = await scenarios(plainServer, true);
  for (const name of ['cc', 'refresh', 'userinfo', 'introspection'].filter((n) => only.has(n))) {
    const samples: { hub: number; plain: number }[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const h1 = await perRequest(hub, hubSends[name]!, name);
      const r1 = lastRate;
      const p1 = await perRequest(plainServer, plainSends[name]!, name);
      const q1 = lastRate;
      const p2 = await perRequest(plainServer, plainSends[name]!, name);
      const q2 = lastRate;
      const h2 = await perRequest(hub, hubSends[name]!, name);
      const r2 = lastRate;
      process.stdout.write(`  ${name} round ${round}: hub ${r1.toFixed(0)}, ${r2.toFixed(0)} req/s; plain ${q1.toFixed(0)}, ${q2.toFixed(0)} req/s\n`);
      samples.push({ hub: (h1 + h2) / 2, plain: (p1 + p2) / 2 });
    }
    const hubUs = samples.map((s) => s.hub).sort((a, b) => a - b);
    const plainUs = samples.map((s) => s.plain).sort((a, b) => a - b);
    const h = hubUs.reduce((a, b) => a + b) / hubUs.length;
    const p = plainUs.reduce((a, b) => a + b) / plainUs.length;
    process.stdout.write(`${name.padEnd(14)} hub ${(h / 1000).toFixed(2)} ms CPU/request, plain ${(p / 1000).toFixed(2)} ms; hub ÷ ${base ? 'base' : 'plain'} CPU ${(h / p).toFixed(2)}× (rounds: ${samples.map((s) => (s.hub / s.plain).toFixed(2)).join(', ')})\n`);
  }
} finally {
  await Promise.all([hub.stop(), plainServer.stop()]);
  const client = createClient({ url: redisUrl });
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${root}*`, COUNT: 1000 })) if (keys.length) await client.del(keys);
  await client.quit();
}
