import { tracingChannel } from 'node:diagnostics_channel';

/** Channels node-redis publishes every command and every MULTI/pipeline on. */
const REDIS_COMMAND = 'node-redis:command';
const REDIS_BATCH = 'node-redis:batch';

interface Traced {
  command?: string;
  args?: string[];
  batchMode?: string;
  batchSize?: number;
}

/**
 * Records the Redis round trips this process makes while running `work` (a MULTI or a
 * pipeline is one round trip), by node-redis's diagnostics channels: what a request
 * really costs the store, counted, not timed. Each entry names the command (or
 * `MULTI×n`) and its first key.
 */
export async function recordRoundTrips<T>(work: () => Promise<T>): Promise<{ result: T; trips: string[] }> {
  const trips: string[] = [];
  const ignore = () => undefined;
  const rest = { end: ignore, asyncStart: ignore, asyncEnd: ignore, error: ignore };
  const onCommand = {
    ...rest,
    start(message: unknown) {
      const traced = message as Traced;
      if (traced.batchMode) return; // counted with its batch
      trips.push(`${traced.command ?? '?'} ${traced.args?.[traced.command === 'EVALSHA' || traced.command === 'EVAL' ? 3 : 1] ?? ''}`.trim());
    },
  };
  const onBatch = {
    ...rest,
    start(message: unknown) {
      const traced = message as Traced;
      trips.push(`${traced.batchMode ?? 'MULTI'}×${traced.batchSize ?? 0}`);
    },
  };
  const command = tracingChannel(REDIS_COMMAND);
  const batch = tracingChannel(REDIS_BATCH);
  command.subscribe(onCommand);
  batch.subscribe(onBatch);
  try {
    const result = await work();
    return { result, trips };
  } finally {
    command.unsubscribe(onCommand);
    batch.unsubscribe(onBatch);
  }
}
