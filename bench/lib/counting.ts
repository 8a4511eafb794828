import { tracingChannel } from 'node:diagnostics_channel';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { heapSnapshot, memoryAfterGc, startProfile, stopProfile } from './probes.js';

/** Channels node-redis (v5+) publishes every command and every MULTI/pipeline on. */
const REDIS_COMMAND = 'node-redis:command';
const REDIS_BATCH = 'node-redis:batch';

/** A request path with its ids blanked, so counts group by route. */
function routeOf(req: IncomingMessage): string {
  const path = (req.url ?? '/').split('?')[0]!;
  const route = path
    .replace(/^\/interaction\/[^/]+/, '/interaction/:uid')
    .replace(/^\/auth\/[^/]+$/, '/auth/:uid')
    .replace(/^\/s\d+\//, '/s:i/');
  return `${req.method} ${route}`;
}

/**
 * Wraps a server's handler with counters the load generator reads between phases:
 * requests per route and, while switched on, Redis round trips (a MULTI or pipeline is one).
 * Control routes live under `/__bench/` and are not counted.
 */
export function withCounters(handler: RequestListener): RequestListener {
  let requests: Record<string, number> = {};
  let redis = { roundTrips: 0, commands: 0 };
  let counting = false;

  const command = tracingChannel(REDIS_COMMAND);
  const batch = tracingChannel(REDIS_BATCH);
  const ignore = () => undefined;
  const rest = { end: ignore, asyncStart: ignore, asyncEnd: ignore, error: ignore };
  const onCommand = {
    ...rest,
    start(message: unknown) {
      // Commands of a pipeline are counted with their batch (MULTI bodies publish no command event).
      if ((message as { batchMode?: string }).batchMode) return;
      redis.commands += 1;
      redis.roundTrips += 1;
    },
  };
  const onBatch = {
    ...rest,
    start(message: unknown) {
      redis.roundTrips += 1;
      redis.commands += (message as { batchSize?: number }).batchSize ?? 0;
    },
  };

  const json = (res: ServerResponse, body: unknown): void => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };

  /**
   * `/__bench/stats` reads the counters; `/__bench/reset[?redis=1]` reads them and starts
   * again; `/__bench/memory` collects garbage and reports memory; `/__bench/profile/start`
   * and `/__bench/profile/stop?name=…` bracket a CPU profile of the timed window, written to
   * `BENCH_PROFILE_DIR/<name>.cpuprofile`; `/__bench/heap-snapshot?name=…` writes
   * `BENCH_PROFILE_DIR/<name>.heapsnapshot`.
   */
  const control = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://bench');
    if (url.pathname === '/__bench/memory') return json(res, memoryAfterGc());
    if (url.pathname === '/__bench/profile/start') {
      void startProfile().then(() => json(res, { profiling: true }), (error: unknown) => json(res, { error: String(error) }));
      return;
    }
    if (url.pathname === '/__bench/heap-snapshot') {
      const name = (url.searchParams.get('name') ?? 'heap').replace(/[^\w.-]/g, '_');
      void heapSnapshot(`${process.env.BENCH_PROFILE_DIR ?? 'bench/results/profiles'}/${name}.heapsnapshot`).then((written) => json(res, { written }), (error: unknown) => json(res, { error: String(error) }));
      return;
    }
    if (url.pathname === '/__bench/profile/stop') {
      const name = (url.searchParams.get('name') ?? 'profile').replace(/[^\w.-]/g, '_');
      void stopProfile(`${process.env.BENCH_PROFILE_DIR ?? 'bench/results/profiles'}/${name}.cpuprofile`).then((written) => json(res, { written }), (error: unknown) => json(res, { error: String(error) }));
      return;
    }
    const snapshot = JSON.stringify({ requests, redis: counting ? redis : undefined });
    if (url.pathname === '/__bench/reset') {
      requests = {};
      redis = { roundTrips: 0, commands: 0 };
      const wanted = url.searchParams.get('redis') === '1';
      if (wanted && !counting) {
        command.subscribe(onCommand);
        batch.subscribe(onBatch);
      } else if (!wanted && counting) {
        command.unsubscribe(onCommand);
        batch.unsubscribe(onBatch);
      }
      counting = wanted;
    }
    res.setHeader('content-type', 'application/json');
    res.end(snapshot);
  };

  return (req, res) => {
    if (req.url?.startsWith('/__bench/')) return control(req, res);
    const route = routeOf(req);
    requests[route] = (requests[route] ?? 0) + 1;
    return handler(req, res);
  };
}
