/**
 * Issue 14: the bench harness works end to end. `npm run bench -- --quick` runs every
 * scenario on tiny windows (one interleaved round, N = 1 and 2 subsites) against its own
 * redis-server, and the results file must hold each scenario with its peers, the ratios
 * the bars are judged on, the load and CPU pressure sampled during each window, memory
 * after a forced GC, the retention check and the sign-in byte counts. Nothing here is
 * timed: the figures of a smoke run mean nothing, only their presence and shape do (and
 * the counts, which do not depend on speed: 2 hub requests per lazy verification).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// About 30 s on an idle 2-core machine; about 4 minutes at a load average of 22 (start-up dominates).
const RUN_LIMIT_MS = 480_000;

interface Window { rps: number; errors: number; pressure?: { load1Mean: number; samples: number; cpuSomePercent?: number } }
interface Results {
  machine: { redisPlacement: string; loadavgBefore: number[] };
  settings: { quick: boolean; rounds: number };
  bars: { what: string; pass?: boolean; measured: string }[];
  scenarios: {
    id: string;
    order: string[];
    contestants: { key: string; windows: Window[]; rps: { median: number } }[];
    ratios: { of: string; to: string; bar?: number; ratio: { values: number[] } }[];
    memory: Record<string, { heapUsed: number; rss: number; collected: boolean }>;
  }[];
  retention: { server: string; atRest: { heapUsed: number }; rightAfter: { heapUsed: number }; later: { heapUsed: number } }[];
  signInCosts: { subsites: number; answer: { status: number; headerBytes: number; bodyBytes: number }; beacons: number; hubRequestsCausedBySync: Record<string, number>; error?: string }[];
  lazy: { verifications: number; hubRequestsPerVerification: number };
  roundTrips: { scenario: string; server: string; perRequest: number }[];
}

let dir = '';
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the quick bench runs every scenario with its peers, interleaved, and reports memory, pressure and sign-in bytes', async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick'], {
    cwd: ROOT,
    env: { ...process.env, BENCH_RESULTS_DIR: dir, BENCH_DOCS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  // Out of time: SIGTERM makes the bench stop its servers and its Redis (by their PIDs).
  const deadline = setTimeout(() => child.kill('SIGTERM'), RUN_LIMIT_MS);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(deadline);
  if (code !== 0) throw new Error(`bench exited with ${code}\n${output}`);

  const results = JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')) as Results;
  expect(results.settings.quick).toBe(true);
  const ids = results.scenarios.map((s) => s.id);
  expect(ids).toEqual(expect.arrayContaining(['cc', 'refresh', 'userinfo', 'introspection', 'kit-page', 'lazy', 'sign-in']));

  const scenario = (id: string) => results.scenarios.find((s) => s.id === id)!;
  // Peers in the same run, interleaved A B … B A.
  expect(scenario('cc').order).toEqual(['hub', 'plain', 'oauth2', 'oauth2', 'plain', 'hub']);
  for (const id of ['refresh', 'userinfo', 'introspection']) expect(scenario(id).order).toEqual(['hub', 'plain', 'plain', 'hub']);
  expect(scenario('kit-page').order).toEqual(['kit', 'bare', 'bare', 'kit']);
  expect(scenario('sign-in').order).toEqual(['argon2', 'n1', 'n2', 'n2', 'n1', 'argon2']);
  // No window had a failed answer (a wrong status or body, a refresh queue run dry) unless the
  // machine was overloaded during it: on a 2-core machine at a load average of 4 and more, a
  // 0.2 s window can see the hub's 2 s store deadline answer 503 or autocannon time out, which
  // says nothing about the harness. How many succeeded depends on the load, so that is not checked.
  for (const s of results.scenarios) {
    for (const c of s.contestants) {
      // The bench's own words on a failed answer (its first failure per window) come with it.
      const said = output.split('\n').filter((line) => /first fail/i.test(line)).join('\n');
      for (const w of c.windows) if ((w.pressure?.load1Mean ?? 0) < 4) expect({ scenario: s.id, contestant: c.key, errors: w.errors, ...(w.errors ? { said } : {}) }).toEqual({ scenario: s.id, contestant: c.key, errors: 0 });
    }
  }
  // Ratios pair neighbouring windows: two per round.
  expect(scenario('cc').ratios.map((r) => `${r.of}/${r.to}:${r.ratio.values.length}`)).toEqual(['hub/plain:2', 'hub/oauth2:2']);
  expect(scenario('sign-in').ratios.find((r) => r.of === 'n2' && r.to === 'n1')?.bar).toBe(0.8);

  // Load and CPU pressure sampled during every timed window.
  for (const s of results.scenarios) for (const c of s.contestants) for (const w of c.windows) expect(w.pressure?.samples).toBeGreaterThanOrEqual(2);

  // Memory after a forced GC for the hub, the plain peer and the kit, at each scenario's end.
  expect(scenario('userinfo').memory['hub-1']?.collected).toBe(true);
  expect(scenario('userinfo').memory['plain-oidc']?.heapUsed).toBeGreaterThan(0);
  expect(scenario('kit-page').memory['subsites-1']?.rss).toBeGreaterThan(0);
  expect(results.retention.map((r) => r.server)).toEqual(['hub-1', 'plain-oidc']);
  for (const r of results.retention) expect(r.later.heapUsed).toBeGreaterThan(0);

  // Sign-in bytes for each N, and no hub request caused by the fan-out.
  expect(results.signInCosts.map((c) => c.subsites)).toEqual([1, 2]);
  for (const c of results.signInCosts) {
    expect(c.error).toBeUndefined();
    expect(c.answer.status).toBe(200);
    expect(c.answer.headerBytes).toBeGreaterThan(100);
    expect(c.beacons).toBe(c.subsites);
    expect(c.hubRequestsCausedBySync).toEqual({});
  }
  expect(results.lazy.hubRequestsPerVerification).toBe(2);
  // Redis round trips per request, counted inside each server (plain oidc-provider's client_credentials: one SET).
  expect(results.roundTrips.map((r) => `${r.scenario} ${r.server}`)).toHaveLength(9);
  expect(results.roundTrips.find((r) => r.scenario === 'client_credentials' && r.server === 'plain-oidc')?.perRequest).toBe(1);
  expect(results.bars.length).toBeGreaterThanOrEqual(12);
  expect(output).toContain('### Bars');
}, RUN_LIMIT_MS + 30_000);
