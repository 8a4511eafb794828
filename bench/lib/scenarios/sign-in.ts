/**
 * Portal sign-in: against bare argon2id (the floor of any password sign-in at the same
 * cost), and with N registered subsites (each on its own origin) against N = 1, in the same
 * interleaved rounds. Then, per N, one sign-in's cost: its answer's header and page bytes,
 * the hub requests of the sign-in and of the sync fan-out, the Redis round trips of the POST.
 */
import type { Request as CannonRequest } from 'autocannon';
import { continueUrlOf } from '../../../hub/src/testing/flows.js';
import { username } from '../fixtures.js';
import { beaconUrls, openSignIn, pool, postSignIn, resetCounters, signedInBrowser, signInAnswerBytes, type AnswerBytes, type Counters, type PendingSignIn } from '../hub-flows.js';
import { measureHttp, type Measurement, type WindowHooks } from '../load.js';
import { signInCeiling } from '../argon2-cost.js';
import { argon2TurnsOnServerCore, runPinned, type ServerProcess } from '../processes.js';
import { interleave, type Contestant, type ScenarioResult } from '../rounds.js';
import { form, PREPARE_CONCURRENCY, range, type BenchContext } from '../context.js';

export interface SignInHub {
  subsites: number;
  hub: ServerProcess;
  sites: ServerProcess;
}

export interface SignInCost {
  subsites: number;
  /** Hub requests of the sign-in itself: form, post, continue to the portal. */
  signInRequests: Record<string, number>;
  /** Redis round trips of the hub while it answered the POST that renders the sync page. */
  postRedisRoundTrips: number | undefined;
  beacons: number;
  beaconStatuses: Record<string, number>;
  /** Hub requests while the browser loaded every beacon: the bar is 0. */
  hubRequestsCausedBySync: Record<string, number>;
  /** The POST's answer (the sync page), as sent. */
  answer: AnswerBytes;
  /** Time the hub took to register the N subsites at start-up, ms. */
  registrationMs: number;
  error?: string;
}

/** One sign-in with every beacon of its sync page loaded, hub requests counted per phase. */
async function signInCost(entry: SignInHub): Promise<SignInCost> {
  const { hub, sites, subsites } = entry;
  const answer = await signInAnswerBytes(hub.url, await openSignIn(hub.url, username(2)));
  const base = { subsites, answer, registrationMs: Number(hub.info.registrationMs ?? NaN) };
  try {
    await signedInBrowser(hub.url, username(1)); // warm: caches, templates, connections
    await resetCounters(hub.url, true);
    const pending = await openSignIn(hub.url, username(0));
    const opened = await resetCounters(hub.url, true);
    const syncPage = await postSignIn(hub.url, pending);
    const posted = await resetCounters(hub.url, true);
    await resetCounters(sites.url);
    const beacons = beaconUrls(syncPage);
    const statuses: Record<string, number> = {};
    await pool(beacons, 16, async (url) => {
      const response = await pending.browser.get(url, { accept: 'image/avif,image/webp,image/*,*/*;q=0.8' });
      await response.arrayBuffer();
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    });
    const duringSync = await resetCounters(hub.url, false);
    await pending.browser.follow(continueUrlOf(syncPage, hub.url));
    const finished = await resetCounters(hub.url, false);
    const signInRequests: Record<string, number> = {};
    for (const counters of [opened, posted, finished] as Counters[]) {
      for (const [route, n] of Object.entries(counters.requests)) signInRequests[route] = (signInRequests[route] ?? 0) + n;
    }
    return { ...base, signInRequests, postRedisRoundTrips: posted.redis?.roundTrips, beacons: beacons.length, beaconStatuses: statuses, hubRequestsCausedBySync: duringSync.requests };
  } catch (error) {
    return { ...base, signInRequests: {}, postRedisRoundTrips: undefined, beacons: 0, beaconStatuses: {}, hubRequestsCausedBySync: {}, error: error instanceof Error ? error.message : String(error) };
  }
}

export async function signInScenarios(ctx: BenchContext, hubs: SignInHub[]): Promise<{ scenario: ScenarioResult; costs: SignInCost[]; pools: Record<string, { size: number; exhausted: number }> }> {
  const { settings } = ctx;
  let expectedRps = 0;
  const ceiling = await signInCeiling();
  const pools: Record<string, { size: number; exhausted: number }> = {};

  const argon: Contestant = {
    key: 'argon2',
    label: 'bare argon2id verification (no HTTP)',
    servers: [],
    async measure(hooks: WindowHooks): Promise<Measurement> {
      // A one-shot process of its own: it times itself; the hooks bracket its whole run.
      await hooks.before();
      // As many verifications in flight as the hubs run at once (their ARGON2_CONCURRENCY).
      const turns = argon2TurnsOnServerCore();
      const m = (await runPinned('argon2.ts', {
        ...(turns ? { BENCH_ARGON2_INFLIGHT: turns } : {}),
        BENCH_WARMUP: String(settings.warmupSeconds),
        BENCH_DURATION: String(settings.durationSeconds),
      })) as unknown as Measurement;
      const pressure = await hooks.after();
      expectedRps = Math.max(expectedRps, m.rps);
      return { ...m, ...(pressure ? { pressure } : {}) };
    },
  };

  const hubContestant = ({ hub, subsites }: SignInHub): Contestant => ({
    key: `n${subsites}`,
    label: `hub sign-in, ${subsites} subsite${subsites === 1 ? '' : 's'}`,
    servers: [hub],
    async measure(hooks: WindowHooks, window: number): Promise<Measurement> {
      // Every POST needs its own interaction, session and CSRF token: open a pool of forms first.
      // autocannon times whole seconds (a 0.2 s window runs for 1 s): size the pool for that.
      const seconds = (settings.warmupSeconds > 0 ? Math.max(1, Math.ceil(settings.warmupSeconds)) : 0) + Math.max(1, Math.ceil(settings.durationSeconds));
      // Three times the fastest rate seen so far, and never below what this machine could do at
      // most (`signInCeiling`): a window that runs out of forms answers 403s (seen in quick mode
      // once sign-in got faster than the argon2 loop's rate it was sized by, and in a test run
      // where that loop had run under load: 334 errors in one window).
      const size = Math.ceil(Math.max(expectedRps * 3, ceiling * 1.2, 5) * seconds) + 4 * settings.connections;
      const items: PendingSignIn[] = await pool(range(size), PREPARE_CONCURRENCY, async (i) => {
        const { path, cookie, body } = await openSignIn(hub.url, username(i % settings.signInUsers));
        return { path, cookie, body };
      });
      let next = 0;
      let exhausted = 0;
      let firstFailure = '';
      const m = await measureHttp({
        url: hub.url,
        method: 'POST',
        setupRequest: (request: CannonRequest) => {
          const item = items[next++] ?? items[items.length - 1]!;
          if (next > items.length) exhausted += 1;
          return { ...request, path: item.path, headers: { ...request.headers, ...form, cookie: item.cookie }, body: item.body };
        },
        onResponse: (status, body) => {
          if ((status !== 200 || !body.includes('data-testid="sync-title"')) && !firstFailure) firstFailure = `form ${next}/${items.length}: ${status} ${body.replace(/\s+/g, ' ').slice(0, 300)}`;
        },
        expectStatus: 200,
        expectBody: 'data-testid="sync-title"',
      }, settings, hooks);
      if (firstFailure) ctx.log(`${subsites} subsites, first failed sign-in: ${firstFailure}`);
      if (window >= 0) pools[`n${subsites}-w${window}`] = { size, exhausted };
      expectedRps = Math.max(expectedRps, m.rps);
      return m;
    },
  });

  const [reference, ...others] = hubs;
  const largest = others.length ? others[others.length - 1]! : reference!;
  const scenario = await interleave('sign-in', 'portal sign-in (CSRF, argon2id, session, sync page), N subsites on their own origins', [argon, ...hubs.map(hubContestant)], [
    { of: `n${reference!.subsites}`, to: 'argon2', bar: 0.8 },
    ...others.map((h) => ({ of: `n${h.subsites}`, to: `n${reference!.subsites}`, ...(h === largest ? { bar: 0.8 } : {}) })),
  ], ctx.rounds);

  const costs: SignInCost[] = [];
  for (const entry of hubs) {
    ctx.log(`sign-in cost, ${entry.subsites} subsites …`);
    costs.push(await signInCost(entry));
  }
  return { scenario, costs, pools };
}
