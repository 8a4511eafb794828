/**
 * `npm run bench`: the hub's and the kit's speed against peers and baselines measured in the
 * same run, in interleaved rounds (A B … B A), on the bench's own Redis. Servers under test
 * run pinned to core 0; Redis and this process (the load generator) take the other cores.
 * See docs/performance.md for the method, the bars and the latest results.
 *
 * Environment: BENCH_DURATION (s per timed window, default 5), BENCH_WARMUP (s, default 2),
 * BENCH_ROUNDS (default 2), BENCH_CONNECTIONS (default 10), BENCH_LAZY_CONCURRENCY (4),
 * BENCH_LAZY_USERS (100), BENCH_SUBSITES (comma list, default 1,100,1000), BENCH_RETENTION_WAIT
 * (s, default 7), BENCH_PROFILE (server names or `all`: CPU profiles of the timed windows),
 * BENCH_QUICK=1 (smoke run: tiny windows, small N, no docs), BENCH_DOCS=0 (do not update
 * docs/performance.md), BENCH_RESULTS_DIR (default bench/results), BENCH_REDIS_URL (use this
 * Redis instead of starting one; not pinned), BENCH_ONLY (groups to run: tokens,kit,sign-in;
 * a partial run never writes the docs, nor does a run with BENCH_PLAIN_SHARED_GETTER=1).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { buildHub } from './lib/build-hub.js';
import type { BenchContext, BenchSettings } from './lib/context.js';
import { hasPsi } from './lib/pressure.js';
import { argon2TurnsOnServerCore, freePort, layout, pinSelf, startBenchRedis, startServer, unpin, type BenchRedis, type ServerProcess } from './lib/processes.js';
import { barsMarkdown, describeMachine, labelOf, machineText, memoryMarkdown, mib, scenarioMarkdown, type Bar } from './lib/report.js';
import type { RatioResult, ScenarioResult } from './lib/rounds.js';
import { kitScenarios } from './lib/scenarios/kit.js';
import { signInScenarios, type SignInHub } from './lib/scenarios/sign-in.js';
import { tokenScenarios } from './lib/scenarios/tokens.js';

const DOCS_FILE = fileURLToPath(new URL('../docs/performance.md', import.meta.url));
const DOCS_START = '<!-- bench:latest:start -->';
const DOCS_END = '<!-- bench:latest:end -->';
const HEADER_BAR_BYTES = 8 * 1024;

function numberFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new TypeError(`${name} must be a number ≥ ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

/** `--quick` and `--profile=a,b` on the command line, as BENCH_QUICK=1 and BENCH_PROFILE. */
for (const arg of process.argv.slice(2)) {
  if (arg === '--quick') process.env.BENCH_QUICK = '1';
  else if (arg.startsWith('--profile=')) process.env.BENCH_PROFILE = arg.slice('--profile='.length);
  else throw new TypeError(`unknown argument ${arg} (--quick, --profile=<server,…|all>)`);
}

function settingsFromEnv(): BenchSettings {
  const quick = process.env.BENCH_QUICK === '1';
  const counts = (process.env.BENCH_SUBSITES ?? (quick ? '1,2' : '1,100,1000')).split(',').map((n) => Number(n.trim()));
  if (counts.some((n) => !Number.isInteger(n) || n < 1) || counts[0] !== 1) throw new TypeError('BENCH_SUBSITES: a comma-separated list of counts starting with 1');
  const durationSeconds = numberFromEnv('BENCH_DURATION', quick ? 0.2 : 5, 0.1);
  const connections = numberFromEnv('BENCH_CONNECTIONS', quick ? 2 : 10, 1);
  const lazyConcurrency = numberFromEnv('BENCH_LAZY_CONCURRENCY', quick ? 2 : 4, 1);
  const rounds = numberFromEnv('BENCH_ROUNDS', quick ? 1 : 2, 1);
  const lazyBrowsers = numberFromEnv('BENCH_LAZY_USERS', quick ? 2 : 100, lazyConcurrency);
  const signInUsers = quick ? 4 : 20;
  // Each phase (warm-up or timed) may end with one refresh in flight per connection whose
  // rotated token never comes back: enough chains for every phase of every window, and spare.
  const refreshChains = connections * (2 * 2 * rounds + 2);
  return {
    quick,
    durationSeconds,
    warmupSeconds: numberFromEnv('BENCH_WARMUP', quick ? 0 : 2, 0),
    connections,
    rounds,
    lazyConcurrency,
    lazyBrowsers,
    subsiteCounts: counts,
    retentionWaitSeconds: numberFromEnv('BENCH_RETENTION_WAIT', quick ? 0 : 7, 0),
    auditMaxEntries: quick ? 100 : 100_000,
    users: Math.max(lazyBrowsers, refreshChains + 1, signInUsers),
    signInUsers,
    refreshChains,
    control: process.env.BENCH_CONTROL ? process.env.BENCH_CONTROL !== '0' : !quick,
  };
}

const settings = settingsFromEnv();
if (settings.quick) unpin();
/** Which groups of scenarios run (`BENCH_ONLY=tokens,kit,sign-in`, default all); a partial run never writes the docs. */
const only = new Set((process.env.BENCH_ONLY ?? 'tokens,kit,sign-in').split(',').map((g) => g.trim()));
for (const group of only) if (!['tokens', 'kit', 'sign-in'].includes(group)) throw new TypeError(`BENCH_ONLY: unknown group ${group} (tokens, kit, sign-in)`);
const resultsDir = resolve(process.env.BENCH_RESULTS_DIR ?? fileURLToPath(new URL('./results/', import.meta.url)));
const profile = (process.env.BENCH_PROFILE ?? process.env.BENCH_CPU_PROF ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const runId = randomUUID().slice(0, 8);
const root = `bench:${runId}:`;
const salt = randomBytes(16).toString('base64url');
const running = new Set<ServerProcess>();
let redis: BenchRedis | undefined;
let redisUrl = process.env.BENCH_REDIS_URL ?? '';

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const prefixOf = (name: string) => `${root}${name}:`;

/**
 * The kit's package as `npm pack` ships it, built by `buildKit()` before any subsite starts,
 * into a folder of the bench's own (under the repository, so its imports find node_modules;
 * never the checkout's subsite-kit/dist, which another process may be reading).
 */
const KIT_BUILD = fileURLToPath(new URL('./kit/dist', import.meta.url));
const KIT_MODULE = `${KIT_BUILD}/esm/index.js`;

function buildKit(): void {
  const script = fileURLToPath(new URL('../subsite-kit/scripts/build.mjs', import.meta.url));
  const build = spawnSync(process.execPath, [script, '--out-dir', KIT_BUILD], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`building subsite-kit (node subsite-kit/scripts/build.mjs --out-dir ${KIT_BUILD}) failed`);
}

/** The compiled hub every hub server runs (`buildHub()`, before any starts). */
let hubDist: string | undefined;

async function start(name: string, file: string, env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServer(name, file, {
    REDIS_URL: redisUrl,
    BENCH_KIT_MODULE: KIT_MODULE,
    ...(hubDist ? { BENCH_HUB_DIST: hubDist } : {}),
    BENCH_SALT: salt,
    BENCH_PREFIX: prefixOf(name),
    BENCH_PROFILE_DIR: `${resultsDir}/profiles`,
    ...(file === 'hub.ts' && argon2TurnsOnServerCore() ? { ARGON2_CONCURRENCY: argon2TurnsOnServerCore()! } : {}),
    ...env,
    PORT: env.PORT ?? String(await freePort()),
  });
  running.add(server);
  return server;
}

async function stop(...servers: ServerProcess[]): Promise<void> {
  await Promise.all(servers.map(async (server) => {
    running.delete(server);
    await server.stop();
  }));
}

async function shutdown(): Promise<void> {
  await stop(...running);
  if (redis) {
    await redis.stop();
    log('stopped the bench Redis');
  } else if (redisUrl) {
    const client = createClient({ url: redisUrl });
    client.on('error', () => undefined);
    await client.connect();
    let removed = 0;
    for await (const keys of client.scanIterator({ MATCH: `${root}*`, COUNT: 1000 })) if (keys.length) removed += await client.del(keys);
    await client.quit();
    log(`removed ${removed} Redis keys under ${root}`);
  }
}

/** A hub and its subsites server (kits, each subsite on its own origin), started side by side. */
async function hubWithSubsites(n: number, env: Record<string, string>): Promise<{ hub: ServerProcess; sites: ServerProcess }> {
  const [hubPort, sitesPort] = [await freePort(), await freePort()];
  const [sites, hub] = await Promise.all([
    start(`subsites-${n}`, 'subsites.ts', { PORT: String(sitesPort), BENCH_MODE: 'kit', BENCH_SUBSITES: String(n), BENCH_HUB_URL: `http://127.0.0.1:${hubPort}` }),
    start(`hub-${n}`, 'hub.ts', { PORT: String(hubPort), BENCH_SUBSITES: String(n), BENCH_SUBSITE_PORT: String(sitesPort), BENCH_AUDIT_FILL: '1', AUDIT_MAX_ENTRIES: String(settings.auditMaxEntries), ...env }),
  ]);
  return { hub, sites };
}

function ratioBar(what: string, target: string, r: RatioResult | undefined): Bar {
  if (!r) return { what, bar: target, measured: 'not measured', pass: undefined };
  return { what, bar: target, measured: `${r.ratio.median.toFixed(2)}× (${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)})`, pass: r.pass };
}

/** BENCH_PLAIN_SHARED_GETTER=1: the plain peer runs with the hub's ctx.oidc getter fix (bench/servers/plain-oidc.ts); not the bars' peer. */
const plainHasGetterFix = process.env.BENCH_PLAIN_SHARED_GETTER === '1';

async function main(): Promise<void> {
  const pinned = pinSelf();
  if (!redisUrl) {
    redis = await startBenchRedis();
    redisUrl = redis.url;
  }
  const probe = createClient({ url: redisUrl });
  probe.on('error', () => undefined);
  await probe.connect();
  const redisVersion = /redis_version:(\S+)/.exec(await probe.info('server'))?.[1] ?? 'unknown';
  await probe.quit();
  const layoutText = pinned
    ? `servers under test on core ${layout.server}, load generator on core ${layout.loadGenerator} (taskset)`
    : 'not pinned (taskset missing or a single core)';
  const machine = describeMachine(redisVersion, redis ? redis.placement : 'external (BENCH_REDIS_URL), not pinned', layoutText, hasPsi);
  if (plainHasGetterFix) log('BENCH_PLAIN_SHARED_GETTER=1: "plain oidc-provider" below runs with the hub\'s ctx.oidc getter fix (not the bars\' peer)');
  log(`run ${runId}: ${settings.rounds} rounds of ${settings.durationSeconds} s windows after ${settings.warmupSeconds} s warm-up, ${settings.connections} connections; ${machine.redisPlacement}; load ${machine.loadavgBefore.join(', ')}`);

  log('building subsite-kit (its dist/, as npm ships it) and the hub (compiled, as its image runs it) …');
  buildKit();
  hubDist = buildHub();
  const ctx: BenchContext = { settings, rounds: { rounds: settings.rounds, profile, log, prewarm: !settings.quick }, salt, start, stop, log };
  const counts = settings.subsiteCounts;

  // Every server starts now, side by side (idle ones cost nothing while others are timed):
  // the token-scenario hub with one subsite (a kit; it serves the kit scenarios and sign-in
  // N = 1), the peers, the bare-session baseline, the control hub, and a hub per larger N.
  log(`starting the hubs (N = ${counts.join(', ')}), their subsites, the peers and the baselines …`);
  const none = Promise.resolve(undefined);
  const [{ hub, sites: kits }, plain, oauth2, bare, control, ...bigger] = await Promise.all([
    hubWithSubsites(1, { BENCH_USERS: String(settings.users) }),
    only.has('tokens') ? start('plain-oidc', 'plain-oidc.ts', { BENCH_USERS: String(settings.users) }) : none,
    only.has('tokens') ? start('oauth2-server', 'oauth2-server.ts', {}) : none,
    only.has('kit') ? start('subsites-bare', 'subsites.ts', { BENCH_MODE: 'bare', BENCH_SUBSITES: '1' }) : none,
    only.has('tokens') && settings.control ? start('hub-timer', 'hub.ts', { BENCH_USERS: '1', BENCH_REDIS_TIMER: '5000' }) : none,
    ...(only.has('sign-in') ? counts.slice(1) : []).map((n) => hubWithSubsites(n, { BENCH_USERS: String(settings.signInUsers) })),
  ]);
  log(`ready; hub's log of tokens issued filled to ${String(hub.info.auditPrefilled)} entries (AUDIT_MAX_TOKEN_ENTRIES ${String(hub.info.auditMaxEntries)})`);

  let tokens: Awaited<ReturnType<typeof tokenScenarios>> = { scenarios: [], retention: [], roundTrips: [], notes: [] };
  if (plain && oauth2) {
    tokens = await tokenScenarios(ctx, { hub, plain, oauth2, ...(control ? { control } : {}) });
    await stop(plain, oauth2, ...(control ? [control] : []));
  }
  let kit: Awaited<ReturnType<typeof kitScenarios>> | undefined;
  if (bare) {
    kit = await kitScenarios(ctx, { hub, kits, bare, redisUrl, prefix: prefixOf });
    await stop(bare);
  }

  let signIn: Awaited<ReturnType<typeof signInScenarios>> | undefined;
  if (only.has('sign-in')) {
    const signInHubs: SignInHub[] = [{ subsites: 1, hub, sites: kits }];
    counts.slice(1).forEach((n, i) => {
      const { hub: big, sites } = bigger[i]!;
      log(`hub-${n}: ${n} subsites registered in ${String(big.info.registrationMs)} ms`);
      signInHubs.push({ subsites: n, hub: big, sites });
    });
    signIn = await signInScenarios(ctx, signInHubs);
  }
  machine.loadavgAfter = loadavg().map((n) => Math.round(n * 100) / 100);

  const scenarios: ScenarioResult[] = [...tokens.scenarios, ...(kit ? [kit.page, kit.lazy] : []), ...(signIn ? [signIn.scenario] : [])];
  const ratio = (id: string, of: string, to: string) => scenarios.find((s) => s.id === id)?.ratios.find((r) => r.of === of && r.to === to);
  const costs = signIn?.costs ?? [];
  const hubHeap = tokens.retention.find((r) => r.server === hub.name);
  const plainHeap = tokens.retention.find((r) => r.server === 'plain-oidc');
  const controlHeap = tokens.retention.find((r) => r.server === 'hub-timer');
  const largest = counts[counts.length - 1]!;
  const largestCost = costs.find((c) => c.subsites === largest);
  const heapRatio = hubHeap && plainHeap ? hubHeap.later.heapUsed / plainHeap.later.heapUsed : NaN;
  const bars: Bar[] = [
    ratioBar('client_credentials ÷ plain oidc-provider', '≥ 1.0', ratio('cc', 'hub', 'plain')),
    ratioBar('client_credentials ÷ @node-oauth/oauth2-server', '≥ 1.0', ratio('cc', 'hub', 'oauth2')),
    ratioBar('refresh (rotation) ÷ plain oidc-provider', '≥ 1.0', ratio('refresh', 'hub', 'plain')),
    ratioBar('userinfo ÷ plain oidc-provider', '≥ 1.0', ratio('userinfo', 'hub', 'plain')),
    ratioBar('introspection ÷ plain oidc-provider', '≥ 1.0', ratio('introspection', 'hub', 'plain')),
    {
      what: 'heap after GC under userinfo load ÷ plain peer',
      bar: '≤ 1.5',
      measured: hubHeap && plainHeap ? `${heapRatio.toFixed(2)}× (${mib(hubHeap.later.heapUsed)} / ${mib(plainHeap.later.heapUsed)} MiB)` : 'not measured',
      pass: Number.isFinite(heapRatio) ? heapRatio <= 1.5 : undefined,
    },
    {
      what: 'heap after GC: right after userinfo load ÷ some seconds later (no per-request retention)',
      bar: '≤ 1.1',
      measured: hubHeap ? `${hubHeap.retentionRatio.toFixed(2)}× (${mib(hubHeap.rightAfter.heapUsed)} → ${mib(hubHeap.later.heapUsed)} MiB after ${hubHeap.waitSeconds} s)${controlHeap ? `; control with the node-redis timer: ${controlHeap.retentionRatio.toFixed(2)}× (${mib(controlHeap.rightAfter.heapUsed)} → ${mib(controlHeap.later.heapUsed)} MiB)` : ''}` : 'not measured',
      pass: hubHeap ? hubHeap.retentionRatio <= 1.1 : undefined,
    },
    ratioBar('sign-in (N = 1) ÷ bare argon2id', '≥ 0.8', ratio('sign-in', 'n1', 'argon2')),
    ratioBar(`sign-in N = ${largest} ÷ N = 1`, '≥ 0.8', ratio('sign-in', `n${largest}`, 'n1')),
    {
      what: `sign-in answer headers, N = ${largest}`,
      bar: '< 8 KB',
      measured: largestCost ? `${largestCost.answer.headerBytes} bytes (largest: ${largestCost.answer.largestHeader}, ${largestCost.answer.largestHeaderBytes} bytes); page ${largestCost.answer.bodyBytes} bytes` : 'not measured',
      pass: largestCost ? largestCost.answer.headerBytes < HEADER_BAR_BYTES : undefined,
    },
    ratioBar('kit page ÷ bare express-session + connect-redis', '≥ 0.85', ratio('kit-page', 'kit', 'bare')),
    {
      what: 'hub requests per lazy verification',
      bar: 'exactly 2',
      measured: kit ? `${kit.lazyCounts.hubRequestsPerVerification.toFixed(3)} over ${kit.lazyCounts.verifications} verifications` : 'not measured',
      pass: kit?.lazyCounts.pass,
    },
  ];

  const memoryRows = scenarios.flatMap((s) => Object.entries(s.memory).map(([server, sample]) => ({ scenario: s.id, server, sample })));
  const retentionLines = tokens.retention.map((r) => `| ${r.server}${r.server === 'hub-timer' ? ' (control: node-redis per-command 5 s timer on)' : ''} | ${mib(r.atRest.heapUsed)} | ${mib(r.rightAfter.heapUsed)} | ${mib(r.later.heapUsed)} | ${r.retentionRatio.toFixed(2)}× | ${mib(r.rightAfter.rss)} | ${r.load.requests} in ${r.load.durationSeconds.toFixed(1)} s |`);
  const costLines = costs.map((c) => {
    const fanOut = Object.values(c.hubRequestsCausedBySync).reduce((a, b) => a + b, 0);
    const own = Object.values(c.signInRequests).reduce((a, b) => a + b, 0);
    return `| ${c.subsites} | ${c.answer.headerBytes} | ${c.answer.largestHeader} ${c.answer.largestHeaderBytes} | ${c.answer.bodyBytes} | ${c.beacons} ${JSON.stringify(c.beaconStatuses)} | ${own} | ${fanOut} | ${c.postRedisRoundTrips ?? 'n/a'} | ${c.registrationMs} |${c.error ? ` ${c.error}` : ''}`;
  });
  const n1 = costs[0];
  const nMax = largestCost;
  const sizeRatio = n1 && nMax ? `N = ${largest} ÷ N = 1: headers ${(nMax.answer.headerBytes / n1.answer.headerBytes).toFixed(2)}×, page ${(nMax.answer.bodyBytes / n1.answer.bodyBytes).toFixed(2)}×` : '';

  const report = [
    '```text',
    machineText(machine),
    `${settings.rounds} interleaved rounds per scenario (A B … B A); ${settings.durationSeconds} s timed windows after ${settings.warmupSeconds} s warm-up, ${settings.connections} connections; argon2id ${JSON.stringify(hub.info.argon2)}; audit log at its cap (${String(hub.info.auditMaxEntries)} entries) before the first window`,
    '```',
    '',
    '### Bars',
    '',
    barsMarkdown(bars),
    '',
    '### Scenarios',
    '',
    ...scenarios.flatMap((s) => [scenarioMarkdown(s), '']),
    '### Redis round trips per request',
    '',
    `${tokens.roundTrips[0]?.requests ?? 0} sequential requests per server, counted inside it through node-redis's diagnostics channels (a MULTI, pipeline or script is one; the audit log's batched write included):`,
    '',
    '| scenario | server | round trips per request | commands per request |',
    '| --- | --- | ---: | ---: |',
    ...tokens.roundTrips.map((r) => `| ${r.scenario} | ${r.server} | ${r.perRequest.toFixed(2)} | ${r.commandsPerRequest.toFixed(2)} |`),
    '',
    '### Memory after a forced GC',
    '',
    `Heap after GC at rest, right after a ${settings.durationSeconds} s userinfo load, and ${settings.retentionWaitSeconds} s later (node-redis's per-command timer holds each request for 5 s):`,
    '',
    '| server | heap at rest MiB | heap right after MiB | heap later MiB | right after ÷ later | RSS right after MiB | userinfo load |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...retentionLines,
    ...tokens.notes.map((n) => `- ${n}`),
    '',
    'At the end of each scenario:',
    '',
    memoryMarkdown(memoryRows),
    '',
    '### One sign-in with N subsites (none visited)',
    '',
    '| N | answer header bytes | largest header, bytes | page bytes | beacons (statuses) | hub requests of the sign-in | hub requests caused by the fan-out (bar 0) | Redis round trips of the POST | registering N subsites, ms |',
    '| ---: | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |',
    ...costLines,
    '',
    sizeRatio ? `- ${sizeRatio}` : '',
    `- sign-in form pools: ${Object.entries(signIn?.pools ?? {}).map(([k, v]) => `${k} ${v.size}${v.exhausted ? ` (ran out ${v.exhausted}×)` : ''}`).join(', ')}`,
  ].join('\n');

  process.stdout.write(`\n${report}\n\n`);
  const failed = bars.filter((b) => b.pass === false);
  process.stdout.write(failed.length ? `bars missed: ${failed.map((b) => b.what).join('; ')}\n` : 'every bar met\n');

  const stamp = machine.date.replace(/[:.]/g, '-');
  await mkdir(resultsDir, { recursive: true });
  const json = { runId, machine, settings, argon2: hub.info.argon2, bars, scenarios, retention: tokens.retention, roundTrips: tokens.roundTrips, signInCosts: costs, signInPools: signIn?.pools, lazy: kit?.lazyCounts, sessionBytes: kit?.sessionBytes, labels: Object.fromEntries(scenarios.map((s) => [s.id, Object.fromEntries(s.contestants.map((c) => [c.key, labelOf(s, c.key)]))])) };
  await writeFile(`${resultsDir}/${stamp}.json`, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(`${resultsDir}/latest.json`, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`raw results: ${resultsDir}/${stamp}.json\n`);

  // A run whose plain peer carries the hub's getter fix is not the bars' peer: never the docs' table.
  if (plainHasGetterFix) log('BENCH_PLAIN_SHARED_GETTER=1: the plain peer had the hub\'s ctx.oidc getter fix; docs/performance.md not updated');
  else if (process.env.BENCH_DOCS !== '0' && !settings.quick && only.size === 3) {
    const docs = await readFile(DOCS_FILE, 'utf8').catch(() => '');
    const begin = docs.indexOf(DOCS_START);
    const end = docs.indexOf(DOCS_END);
    if (begin >= 0 && end > begin) {
      await writeFile(DOCS_FILE, `${docs.slice(0, begin)}${DOCS_START}\n\n${report}\n\n${docs.slice(end)}`);
      log('docs/performance.md updated');
    }
  }
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping servers`);
    void shutdown().finally(() => process.exit(130));
  });
}

try {
  await main();
  await shutdown();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  await shutdown();
  process.exit(1);
}
