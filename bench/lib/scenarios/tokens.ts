/**
 * The token endpoints, each against its peers in the same interleaved rounds:
 * client_credentials (hub, plain oidc-provider, @node-oauth/oauth2-server), refresh with
 * rotation, userinfo and introspection (hub, plain oidc-provider). Then the memory check:
 * heap after GC at rest, right after userinfo load stops, and some seconds later, for the
 * hub, the plain peer and a control hub with node-redis's per-command timer turned back on.
 */
import type { Request as CannonRequest } from 'autocannon';
import { derivedSecret, RP_CLIENT, SERVICE_CLIENT } from '../fixtures.js';
import { basicAuth, plainRpTokens, pool, resetCounters, rpTokens, type TokenSet } from '../hub-flows.js';
import { measureHttp, type CannonTarget, type Measurement } from '../load.js';
import type { ServerProcess } from '../processes.js';
import type { MemorySample } from '../probes.js';
import { interleave, memoryOf, type Contestant, type ScenarioResult } from '../rounds.js';
import { form, PREPARE_CONCURRENCY, range, type BenchContext } from '../context.js';

export interface TokenServers {
  hub: ServerProcess;
  plain: ServerProcess;
  oauth2: ServerProcess;
  /** The hub with node-redis's per-command timer back on (the memory check's control), if run. */
  control?: ServerProcess;
}

export interface RetentionResult {
  server: string;
  /** Heap and RSS after GC: before the load, right after it, and `waitSeconds` later. */
  atRest: MemorySample;
  rightAfter: MemorySample;
  later: MemorySample;
  waitSeconds: number;
  load: Measurement;
  /** heapUsed right after ÷ heapUsed later: 1.0 means nothing was held by the finished requests. */
  retentionRatio: number;
}

function contestant(key: string, label: string, server: ServerProcess, target: () => CannonTarget, ctx: BenchContext): Contestant {
  return { key, label, servers: [server], measure: (hooks) => measureHttp(target(), ctx.settings, hooks) };
}

/** A refresh-token queue per server: each answer's rotated token goes back in. */
function refreshTarget(url: string, tokens: string[], secret: string, starved: { count: number }): CannonTarget {
  return {
    url: `${url}/token`,
    method: 'POST',
    headers: { ...form, authorization: basicAuth(RP_CLIENT, secret) },
    setupRequest: (request: CannonRequest) => {
      const token = tokens.shift();
      if (!token) starved.count += 1;
      return { ...request, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token ?? 'none-left' }).toString() };
    },
    onResponse: (status, body) => {
      if (status === 200) tokens.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
    },
    expectStatus: 200,
  };
}

const userinfoTarget = (url: string, token: string): CannonTarget => ({ url: `${url}/me`, headers: { authorization: `Bearer ${token}` }, expectStatus: 200, expectBody: '"sub"' });

/** Redis round trips per request (a MULTI, pipeline or script is one), from sequential requests. */
export interface RoundTrips {
  scenario: string;
  server: string;
  perRequest: number;
  commandsPerRequest: number;
  requests: number;
}

const SEQUENTIAL = 20;

/** `SEQUENTIAL` requests one after another, the server counting its Redis round trips meanwhile. */
async function countRoundTrips(scenario: string, server: ServerProcess, send: () => Promise<Response>): Promise<RoundTrips> {
  await resetCounters(server.url, true);
  for (let i = 0; i < SEQUENTIAL; i += 1) {
    const response = await send();
    const body = await response.text();
    if (!response.ok) throw new Error(`${server.name} ${scenario}: ${response.status} ${body.slice(0, 200)}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 50)); // batched writes (the audit log) land
  const counters = await resetCounters(server.url, false);
  return { scenario, server: server.name, perRequest: (counters.redis?.roundTrips ?? NaN) / SEQUENTIAL, commandsPerRequest: (counters.redis?.commands ?? NaN) / SEQUENTIAL, requests: SEQUENTIAL };
}

function fetchTarget(target: CannonTarget): Promise<Response> {
  const request = target.setupRequest ? target.setupRequest({ method: target.method ?? 'GET', headers: target.headers ?? {}, body: target.body } as CannonRequest) : { method: target.method ?? 'GET', headers: target.headers, body: target.body };
  const url = new URL(target.url);
  return fetch(url, { method: request.method ?? 'GET', headers: request.headers as Record<string, string>, ...(request.body !== undefined ? { body: String(request.body) } : {}) }).then(async (response) => {
    if (target.onResponse) {
      const text = await response.clone().text();
      target.onResponse(response.status, text);
    }
    return response;
  });
}

export async function tokenScenarios(ctx: BenchContext, servers: TokenServers): Promise<{ scenarios: ScenarioResult[]; retention: RetentionResult[]; roundTrips: RoundTrips[]; notes: string[] }> {
  const { hub, plain, oauth2 } = servers;
  const { settings } = ctx;
  const serviceSecret = derivedSecret(ctx.salt, 'service-secret');
  const rpSecret = derivedSecret(ctx.salt, 'rp-secret');
  const clientCredentials = (url: string): CannonTarget => ({
    url: `${url}/token`,
    method: 'POST',
    headers: { ...form, authorization: basicAuth(SERVICE_CLIENT, serviceSecret) },
    body: 'grant_type=client_credentials',
    expectStatus: 200,
    expectBody: '"access_token"',
  });
  const scenarios: ScenarioResult[] = [];

  scenarios.push(await interleave('cc', 'POST /token client_credentials', [
    contestant('hub', 'hub', hub, () => clientCredentials(hub.url), ctx),
    contestant('plain', 'plain oidc-provider', plain, () => clientCredentials(plain.url), ctx),
    contestant('oauth2', '@node-oauth/oauth2-server', oauth2, () => clientCredentials(oauth2.url), ctx),
  ], [{ of: 'hub', to: 'plain', bar: 1.0 }, { of: 'hub', to: 'oauth2', bar: 1.0 }], ctx.rounds));

  // Token chains: one authorization-code grant per chain (rotation revokes a whole grant on
  // reuse, so chains must not share one), users 1…; user 0's tokens are read by userinfo.
  const chains = settings.refreshChains;
  ctx.log(`preparing ${chains} refresh-token chains on the hub and on the plain peer …`);
  const hubTokens = await pool(range(chains + 1), PREPARE_CONCURRENCY, (i) => rpTokens(hub.url, i, rpSecret));
  const plainTokens = await pool(range(chains + 1), PREPARE_CONCURRENCY, (i) => plainRpTokens(plain.url, i, rpSecret));
  const queue = (tokens: TokenSet[]) => tokens.slice(1).map((t) => t.refresh_token);
  const hubQueue = queue(hubTokens);
  const plainQueue = queue(plainTokens);
  const starved = { count: 0 };

  const refresh = await interleave('refresh', 'POST /token refresh_token (rotation, new RS256 ID token)', [
    contestant('hub', 'hub', hub, () => refreshTarget(hub.url, hubQueue, rpSecret, starved), ctx),
    contestant('plain', 'plain oidc-provider', plain, () => refreshTarget(plain.url, plainQueue, rpSecret, starved), ctx),
  ], [{ of: 'hub', to: 'plain', bar: 1.0 }], ctx.rounds);
  refresh.notes.push(`${chains} chains per server; requests that found no token in the queue: ${starved.count}`);
  scenarios.push(refresh);

  const hubRead = hubTokens[0]!.access_token;
  const plainRead = plainTokens[0]!.access_token;
  scenarios.push(await interleave('userinfo', 'GET /me (userinfo)', [
    contestant('hub', 'hub', hub, () => userinfoTarget(hub.url, hubRead), ctx),
    contestant('plain', 'plain oidc-provider', plain, () => userinfoTarget(plain.url, plainRead), ctx),
  ], [{ of: 'hub', to: 'plain', bar: 1.0 }], ctx.rounds));

  const introspection = (url: string, token: string): CannonTarget => ({
    url: `${url}/token/introspection`,
    method: 'POST',
    headers: { ...form, authorization: basicAuth(RP_CLIENT, rpSecret) },
    body: new URLSearchParams({ token }).toString(),
    expectStatus: 200,
    expectBody: '"active":true',
  });
  scenarios.push(await interleave('introspection', 'POST /token/introspection', [
    contestant('hub', 'hub', hub, () => introspection(hub.url, hubRead), ctx),
    contestant('plain', 'plain oidc-provider', plain, () => introspection(plain.url, plainRead), ctx),
  ], [{ of: 'hub', to: 'plain', bar: 1.0 }], ctx.rounds));

  // Redis round trips per request, each server, sequential requests (not timed).
  const roundTrips: RoundTrips[] = [];
  const notes: string[] = [];
  try {
    // Refresh on a chain of its own: the timed windows' queues may hold tokens of requests cut
    // off at a window's end (the hub's count failed with a 400 on them in two full runs).
    const [hubChain, plainChain] = [[(await rpTokens(hub.url, 0, rpSecret)).refresh_token], [(await plainRpTokens(plain.url, 0, rpSecret)).refresh_token]];
    for (const [scenario, targets] of [
      ['client_credentials', [[hub, clientCredentials(hub.url)], [plain, clientCredentials(plain.url)], [oauth2, clientCredentials(oauth2.url)]]],
      ['refresh (rotation)', [[hub, refreshTarget(hub.url, hubChain, rpSecret, starved)], [plain, refreshTarget(plain.url, plainChain, rpSecret, starved)]]],
      ['userinfo', [[hub, userinfoTarget(hub.url, hubRead)], [plain, userinfoTarget(plain.url, plainRead)]]],
      ['introspection', [[hub, introspection(hub.url, hubRead)], [plain, introspection(plain.url, plainRead)]]],
    ] as [string, [ServerProcess, CannonTarget][]][]) {
      for (const [server, target] of targets) roundTrips.push(await countRoundTrips(scenario, server, () => fetchTarget(target)));
    }
  } catch (error) {
    notes.push(`round-trip count failed: ${error instanceof Error ? error.message : String(error)}`);
  }

  // Memory: the same userinfo load on each server, heap read at rest, right after, later.
  const retention: RetentionResult[] = [];
  const check = async (server: ServerProcess, token: string) => {
    const atRest = await memoryOf(server);
    const load = await measureHttp(userinfoTarget(server.url, token), { ...settings, warmupSeconds: 0 });
    const rightAfter = await memoryOf(server);
    await new Promise((resolve) => setTimeout(resolve, settings.retentionWaitSeconds * 1000));
    const later = await memoryOf(server);
    const result = { server: server.name, atRest, rightAfter, later, waitSeconds: settings.retentionWaitSeconds, load, retentionRatio: rightAfter.heapUsed / later.heapUsed };
    ctx.log(`memory ${server.name}: heap after GC ${mib(atRest.heapUsed)} at rest, ${mib(rightAfter.heapUsed)} right after ${load.requests} userinfo requests, ${mib(later.heapUsed)} ${settings.retentionWaitSeconds} s later (RSS ${mib(later.rss)})`);
    retention.push(result);
  };
  await check(hub, hubRead);
  await check(plain, plainRead);
  // Control: the hub with node-redis's per-command 5 s timer back on (what the fix removed).
  const { control } = servers;
  if (!control) return { scenarios, retention, roundTrips, notes };
  try {
    const controlToken = (await rpTokens(control.url, 0, rpSecret)).access_token;
    await measureHttp(userinfoTarget(control.url, controlToken), { ...settings, durationSeconds: settings.warmupSeconds || 1, warmupSeconds: 0 });
    await check(control, controlToken);
  } catch (error) {
    notes.push(`control hub with the per-command timer failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { scenarios, retention, roundTrips, notes };
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
