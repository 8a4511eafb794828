/**
 * Redis Sentinel failover under load (issue 12, "Distributed store"): the primary is killed
 * (SIGKILL, by PID) in the middle of a stream of sign-ins and token requests. The hub must
 * answer 503 while there is no primary (never a 500, never a hang) and recover by itself once
 * the sentinels have promoted the replica. And a replica promoted without the last writes must
 * not bring back a used code or refresh token as unused: the single-use claim waits for the
 * replica (WAIT) before tokens go out.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LEASE_MS } from '../src/oidc/redemption.js';
import { connectRedis, RedisStore } from '../src/store/redis.js';
import { TestBrowser } from '../src/testing/browser.js';
import { SENTINEL_DOWN_AFTER_MS, startOwnRedisSentinel, type OwnRedisSentinel } from '../src/testing/redis-server.js';
import type { RunningHub } from '../src/testing/test-hub.js';
import { authUrl, basic, closeFailoverHub, codeRequest, failoverHub, FAILOVER_REDIRECT as REDIRECT, FAILOVER_USER as ALICE, postForm, walk, type JsonAnswer } from './support.js';

/** A request still open after this long is a hang (the store's deadline is 2 s). */
const HANG_MS = 15_000;
/** How long the hub may take to serve again after the kill, before the test calls it stuck. */
const RECOVERY_LIMIT_MS = 45_000;

interface Sample {
  /** Milliseconds since the kill (negative: before it). */
  at: number;
  ms: number;
  step: string;
  /** HTTP status, or 0 for a request that did not finish within HANG_MS. */
  status: number;
}

/**
 * Runs `work` with a signal that aborts after HANG_MS, and clears that timer once `work` is
 * done. A `sleep(HANG_MS)` raced against each token request kept a 15 s timer running per
 * request (78 of them after the run), holding the jest worker up to 15 s after its last test.
 */
async function withinHang<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${HANG_MS} ms`)), HANG_MS);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** A browser that records the status and duration of every request it makes. */
class RecordingBrowser extends TestBrowser {
  constructor(private readonly record: (step: string, started: number, status: number) => void) {
    super();
  }

  override async request(url: string, init: Parameters<TestBrowser['request']>[1] = {}): Promise<Response> {
    const started = Date.now();
    const step = `${init.method ?? 'GET'} ${new URL(url).pathname.replace(/\/interaction\/[^/]+/, '/interaction/:uid')}`;
    try {
      const response = await withinHang((signal) => super.request(url, { ...init, signal }));
      this.record(step, started, response.status);
      return response;
    } catch (error) {
      this.record(step, started, 0);
      throw error;
    }
  }
}

async function hubWith(sentinel: OwnRedisSentinel): Promise<{ hub: RunningHub; secret: string }> {
  const client = await connectRedis({ kind: 'sentinel', sentinels: sentinel.sentinelRootNodes, name: sentinel.name });
  // As the hub runs on Sentinel by default: each single-use claim waits for the replica; here up
  // to 1.5 s (inside the store's 2 s deadline) rather than REDIS_WAIT_TIMEOUT_MS's default 500 ms:
  // on a loaded machine a running replica once took longer to acknowledge a refresh (a 503 where
  // the test wants tokens). A paused replica acknowledges nothing, however long the wait.
  const store = new RedisStore(client, { waitReplicas: 1, waitTimeoutMs: 1_500 });
  return failoverHub('redis-sentinel', {}, store);
}

async function stop(hub: RunningHub | undefined, sentinel: OwnRedisSentinel | undefined): Promise<void> {
  await closeFailoverHub(hub);
  await sentinel?.stop();
}

describe('Redis Sentinel: the primary crashes during a stream of sign-ins and token requests', () => {
  let sentinel: OwnRedisSentinel | undefined;
  let hub: RunningHub | undefined;
  afterAll(() => stop(hub, sentinel));

  test('503 while there is no primary (never 500, never a hang), then the hub recovers by itself', async () => {
    sentinel = await startOwnRedisSentinel('sso-failover');
    await sentinel.readyForFailover();
    const started = await hubWith(sentinel);
    hub = started.hub;
    const running = hub;
    const auth = { authorization: basic('rp', started.secret) };

    let killedAt = Number.POSITIVE_INFINITY;
    const samples: Sample[] = [];
    const record = (step: string, begun: number, status: number) =>
      samples.push({ at: begun - (Number.isFinite(killedAt) ? killedAt : begun + 1), ms: Date.now() - begun, step, status });
    const post = async (step: string, form: Record<string, string>): Promise<JsonAnswer> => {
      const begun = Date.now();
      const answer = await withinHang((signal) =>
        Promise.race([postForm(`${running.url}/token`, form, auth), new Promise<JsonAnswer>((resolve) => signal.addEventListener('abort', () => resolve({ status: 0, body: {} } as JsonAnswer)))]),
      );
      record(step, begun, answer.status);
      return answer;
    };

    /** One user's sign-in, code exchange and refresh; true when every step succeeded. */
    const flow = async (): Promise<boolean> => {
      const request = codeRequest('rp', REDIRECT);
      let code: string | null;
      try {
        code = (await walk(new RecordingBrowser(record), running.url, authUrl(running.url, request.params), ALICE)).callback.searchParams.get('code');
      } catch {
        return false; // a 503 page (recorded) ended the walk: this user would press reload
      }
      if (!code) return false;
      const issued = await post('POST /token (code)', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: request.verifier });
      if (issued.status !== 200) return false;
      const refreshed = await post('POST /token (refresh)', { grant_type: 'refresh_token', refresh_token: String(issued.body.refresh_token) });
      return refreshed.status === 200;
    };

    let finished = false;
    const flowsAfterRecovery: number[] = [];
    const worker = async () => {
      while (!finished) {
        const begun = Date.now();
        const ok = await flow();
        if (!ok) await sleep(200); // as a person, or a client honouring Retry-After, would wait
        if (ok && begun > killedAt) flowsAfterRecovery.push(Date.now() - killedAt);
      }
    };
    const workers = Array.from({ length: 4 }, () => worker());
    await sleep(2_000); // a steady stream first
    const before = samples.length;
    killedAt = Date.now();
    const killedPort = await sentinel.killPrimary();
    // Keep the stream going until flows that started after the kill succeed again.
    while (flowsAfterRecovery.length < 4 && Date.now() - killedAt < RECOVERY_LIMIT_MS) await sleep(100);
    finished = true;
    await Promise.all(workers);

    const after = samples.filter((s) => s.at >= 0 || samples.indexOf(s) >= before);
    const failures = after.filter((s) => s.status !== 200 && !(s.status >= 300 && s.status < 400));
    const unavailable = failures.filter((s) => s.status === 503);
    const firstSuccess = Math.min(...after.filter((s) => s.status === 200 && s.at >= 0).map((s) => s.at + s.ms));
    const lastUnavailable = Math.max(0, ...unavailable.map((s) => s.at + s.ms));
    const summary = {
      killedPort,
      newPrimary: await sentinel.primaryPort(),
      sentinelDownAfterMs: SENTINEL_DOWN_AFTER_MS,
      requestsBeforeKill: before,
      requestsAfterKill: after.length,
      answeredAfterKill: Object.fromEntries([...new Set(after.map((s) => s.status))].map((status) => [status, after.filter((s) => s.status === status).length])),
      failedSteps: Object.fromEntries([...new Set(failures.map((s) => `${s.status} ${s.step}`))].map((key) => [key, failures.filter((s) => `${s.status} ${s.step}` === key).length])),
      firstRequestServedAfterKillMs: firstSuccess,
      last503AfterKillMs: lastUnavailable,
      firstFullFlowAfterKillMs: flowsAfterRecovery[0],
      slowestRequestMs: Math.max(...after.map((s) => s.ms)),
    };
    process.stdout.write(`sentinel failover: ${JSON.stringify(summary)}\n`);

    // Recovered by itself: whole flows started after the kill went through again.
    expect(flowsAfterRecovery.length).toBeGreaterThanOrEqual(4);
    // Never a hang, never a 500: a request either succeeded, redirected, or said 503.
    expect(after.filter((s) => s.status === 0)).toEqual([]);
    expect(after.filter((s) => s.status >= 500 && s.status !== 503)).toEqual([]);
    // And the outage was seen as 503s (a failover with no failed request would prove nothing).
    expect(unavailable.length).toBeGreaterThan(0);
  }, 120_000);
});

describe('Redis Sentinel: a used code or refresh token stays used after a failover (WAIT)', () => {
  let sentinel: OwnRedisSentinel | undefined;
  let hub: RunningHub | undefined;
  afterAll(() => stop(hub, sentinel));

  test('a redemption the replica has not acknowledged is a 503, not tokens; once acknowledged it survives the failover', async () => {
    sentinel = await startOwnRedisSentinel('sso-wait');
    await sentinel.readyForFailover();
    const started = await hubWith(sentinel);
    hub = started.hub;
    const running = hub;
    const auth = { authorization: basic('rp', started.secret) };
    const token = (form: Record<string, string>) => postForm(`${running.url}/token`, form, auth);

    const request = codeRequest('rp', REDIRECT);
    const { callback } = await walk(new TestBrowser(), running.url, authUrl(running.url, request.params), ALICE);
    const exchange = { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: request.verifier };

    // The replica stops acknowledging: a claim only the primary holds would be lost with it.
    await sentinel.pauseReplica();
    let unacknowledged: JsonAnswer;
    try {
      unacknowledged = await token(exchange);
    } finally {
      await sentinel.resumeReplica();
    }
    expect(unacknowledged.status).toBe(503);
    expect(unacknowledged.body.error).toBe('temporarily_unavailable');
    expect(unacknowledged.body.access_token).toBeUndefined();

    // A 503 is safe to retry: once the failed attempt's claim has lapsed, the code works.
    await sleep(LEASE_MS + 500);
    const issued = await token(exchange);
    expect(issued.status).toBe(200);
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: String(issued.body.refresh_token) });
    expect(refreshed.status).toBe(200);

    // The primary crashes right after; the promoted replica must still know both as used.
    const killed = await sentinel.killPrimary();
    const deadline = Date.now() + RECOVERY_LIMIT_MS;
    while ((await sentinel.primaryPort().catch(() => killed)) === killed && Date.now() < deadline) await sleep(100);
    expect(await sentinel.primaryPort()).not.toBe(killed);
    let reused = await token(exchange);
    while (reused.status === 503 && Date.now() < deadline) {
      await sleep(250);
      reused = await token(exchange);
    }
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
    const oldRefresh = await token({ grant_type: 'refresh_token', refresh_token: String(issued.body.refresh_token) });
    expect(oldRefresh.status).toBe(400);
    expect(oldRefresh.body.error).toBe('invalid_grant');
  }, 120_000);
});

/** The store the hub runs on, which stops the replica right before the next commit of a token answer (once). */
class ReplicaStoppingStore extends RedisStore {
  beforeCommit: (() => Promise<void>) | undefined;

  override async swapAfter(...args: Parameters<RedisStore['swapAfter']>): Promise<boolean> {
    const before = this.beforeCommit;
    this.beforeCommit = undefined;
    if (before) await before();
    return super.swapAfter(...args);
  }
}

describe('Redis Sentinel: a refresh answers once the replica holds its new tokens, not before', () => {
  let sentinel: OwnRedisSentinel | undefined;
  let hub: RunningHub | undefined;
  afterAll(async () => {
    await sentinel?.resumeReplica();
    await stop(hub, sentinel);
  });

  test('the replica stops acknowledging after the claim, before the commit: 503, no tokens; the retry refreshes, and its tokens survive the failover', async () => {
    sentinel = await startOwnRedisSentinel('sso-commit');
    const own = sentinel;
    const client = await connectRedis({ kind: 'sentinel', sentinels: own.sentinelRootNodes, name: own.name });
    const store = new ReplicaStoppingStore(client, { waitReplicas: 1, waitTimeoutMs: 1_500 });
    const started = await failoverHub('redis-sentinel', {}, store);
    hub = started.hub;
    const running = hub;
    const token = (form: Record<string, string>) => postForm(`${running.url}/token`, form, { authorization: basic('rp', started.secret) });
    const request = codeRequest('rp', REDIRECT);
    const { callback } = await walk(new TestBrowser(), running.url, authUrl(running.url, request.params), ALICE);
    const issued = await token({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: request.verifier });
    expect(issued.status).toBe(200);
    const refresh = { grant_type: 'refresh_token', refresh_token: String(issued.body.refresh_token) };

    // The claim on the refresh token is acknowledged; then the replica stops, and the new tokens
    // and the commit reach the primary only.
    store.beforeCommit = () => own.pauseReplica();
    let unacknowledged: JsonAnswer;
    try {
      unacknowledged = await token(refresh);
    } finally {
      await own.resumeReplica();
    }
    expect(unacknowledged.status).toBe(503);
    expect(unacknowledged.body.error).toBe('temporarily_unavailable');
    expect(unacknowledged.body.refresh_token).toBeUndefined();

    // The 503 is safe to retry: the same refresh token refreshes (nothing revoked).
    await sleep(LEASE_MS + 500);
    const refreshed = await token(refresh);
    expect(refreshed.status).toBe(200);

    // The primary crashes right after that answer; the promoted replica holds the new refresh token.
    await own.readyForFailover();
    const killed = await own.killPrimary();
    const deadline = Date.now() + RECOVERY_LIMIT_MS;
    while ((await own.primaryPort().catch(() => killed)) === killed && Date.now() < deadline) await sleep(100);
    let next = await token({ grant_type: 'refresh_token', refresh_token: String(refreshed.body.refresh_token) });
    while (next.status === 503 && Date.now() < deadline) {
      await sleep(250);
      next = await token({ grant_type: 'refresh_token', refresh_token: String(refreshed.body.refresh_token) });
    }
    expect(next.status).toBe(200);
  }, 120_000);
});
