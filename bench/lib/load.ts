import autocannon, { type Options, type Request as CannonRequest } from 'autocannon';
import type { WindowPressure } from './pressure.js';

/** What every scenario reports. Latencies in milliseconds. */
export interface Measurement {
  /** Successful requests (or iterations) per second. */
  rps: number;
  p50: number;
  p99: number;
  /** Failed requests: connection errors, timeouts, unexpected status or body. */
  errors: number;
  /** Requests (or iterations) completed in the timed phase. */
  requests: number;
  durationSeconds: number;
  /** Load average and CPU pressure sampled during the timed phase. */
  pressure?: WindowPressure;
}

/** Brackets the timed phase (not the warm-up): pressure sampling, a CPU profile. */
export interface WindowHooks {
  before(): Promise<void>;
  after(): Promise<WindowPressure | undefined>;
}

export interface Timing {
  warmupSeconds: number;
  durationSeconds: number;
  connections: number;
}

export interface CannonTarget {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Builds each request (per-request cookies, bodies, tokens); see autocannon's `setupRequest`. */
  setupRequest?: (request: CannonRequest) => CannonRequest;
  onResponse?: (status: number, body: string) => void;
  /** Status a successful answer has (default: any 2xx). */
  expectStatus?: number;
  /** A successful answer's body contains this. */
  expectBody?: string;
}

function cannon(target: CannonTarget, connections: number, duration: number): Promise<autocannon.Result> {
  const request: CannonRequest = {
    method: target.method ?? 'GET',
    ...(target.headers ? { headers: target.headers } : {}),
    ...(target.body !== undefined ? { body: target.body } : {}),
    ...(target.setupRequest ? { setupRequest: target.setupRequest } : {}),
    ...(target.onResponse ? { onResponse: (status: number, body: string) => target.onResponse!(status, body) } : {}),
  };
  const options: Options = {
    url: target.url,
    connections,
    duration,
    timeout: 10, // seconds
    requests: [request],
    ...(target.expectBody ? { verifyBody: (body) => String(body).includes(target.expectBody!) } : {}),
  };
  return autocannon(options);
}

/** autocannon, warm-up then the timed phase; only the timed phase is reported. */
export async function measureHttp(target: CannonTarget, timing: Timing, hooks?: WindowHooks): Promise<Measurement> {
  if (timing.warmupSeconds > 0) await cannon(target, timing.connections, timing.warmupSeconds);
  await hooks?.before();
  const result = await cannon(target, timing.connections, timing.durationSeconds);
  const pressure = await hooks?.after();
  const expected = target.expectStatus;
  const statusOk = expected === undefined ? result['2xx'] : (result.statusCodeStats?.[String(expected) as keyof typeof result.statusCodeStats]?.count ?? 0);
  const bad = (result.non2xx ?? 0) + (expected !== undefined ? result['2xx'] - statusOk : 0);
  const mismatches = (result as { mismatches?: number }).mismatches ?? 0;
  const errors = result.errors + result.timeouts + bad + mismatches;
  const ok = Math.max(0, statusOk - mismatches);
  return {
    rps: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors,
    requests: ok,
    durationSeconds: result.duration,
    ...(pressure ? { pressure } : {}),
  };
}

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * A closed loop of `concurrency` workers running `iteration` back to back, for multi-step
 * journeys autocannon cannot express (each step depends on the last answer). Every
 * iteration started in the timed phase is awaited and counted.
 */
export async function measureLoop(
  iteration: (worker: number, n: number) => Promise<void>,
  timing: Timing & { concurrency: number; beforeTimed?: () => Promise<void> },
  hooks?: WindowHooks,
): Promise<Measurement> {
  let n = 0;
  const phase = async (seconds: number) => {
    const latencies: number[] = [];
    let errors = 0;
    const start = performance.now();
    const end = start + seconds * 1000;
    await Promise.all(
      Array.from({ length: timing.concurrency }, async (_, worker) => {
        while (performance.now() < end) {
          const t = performance.now();
          try {
            await iteration(worker, (n += 1));
            latencies.push(performance.now() - t);
          } catch (error) {
            errors += 1;
            if (errors === 1) process.stderr.write(`  first failure: ${error instanceof Error ? error.message : String(error)}\n`);
          }
        }
      }),
    );
    return { latencies, errors, elapsed: (performance.now() - start) / 1000 };
  };
  if (timing.warmupSeconds > 0) await phase(timing.warmupSeconds);
  await timing.beforeTimed?.();
  await hooks?.before();
  const { latencies, errors, elapsed } = await phase(timing.durationSeconds);
  const pressure = await hooks?.after();
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    errors,
    requests: latencies.length,
    durationSeconds: elapsed,
    ...(pressure ? { pressure } : {}),
  };
}
