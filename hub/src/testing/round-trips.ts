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
 *
 * `waits` counts the times the work waited on the store: a command sent before any answer
 * came back since the last wait began (sent side by side, as `Promise.all` sends them: one
 * socket write) shares that wait; one sent after an answer starts the next. A request's
 * latency grows with its waits, and each wait is a write and a read on the socket. Every
 * command counts here, also those a caller leaves out of `trips` as shared (the audit log's
 * batched write, the client list's version check): a request that awaits one waits for it.
 * `notWaitedOn` names commands the work never awaits (the audit log's batched write, sent by
 * its own timer, which on a slow machine can fire inside the window): they stay in `trips`
 * but neither start nor end a wait.
 */
export async function recordRoundTrips<T>(work: () => Promise<T>, notWaitedOn?: RegExp): Promise<{ result: T; trips: string[]; waits: number }> {
  const trips: string[] = [];
  let waits = 0;
  let answeredSinceWait = true;
  const sent = () => {
    if (answeredSinceWait) waits += 1;
    answeredSinceWait = false;
  };
  const answered = () => {
    answeredSinceWait = true;
  };
  const ignore = () => undefined;
  const tripOf = (traced: Traced) => `${traced.command ?? '?'} ${traced.args?.[traced.command === 'EVALSHA' || traced.command === 'EVAL' ? 3 : 1] ?? ''}`.trim();
  const waitedOn = (traced: Traced) => !notWaitedOn || traced.batchMode !== undefined || !notWaitedOn.test(tripOf(traced));
  const rest = { end: ignore, asyncEnd: ignore, error: ignore };
  const onCommand = {
    ...rest,
    start(message: unknown) {
      const traced = message as Traced;
      if (traced.batchMode) return; // counted with its batch
      if (waitedOn(traced)) sent();
      trips.push(tripOf(traced));
    },
    asyncStart(message: unknown) {
      if (waitedOn(message as Traced)) answered();
    },
  };
  const onBatch = {
    ...rest,
    start(message: unknown) {
      const traced = message as Traced;
      sent();
      trips.push(`${traced.batchMode ?? 'MULTI'}×${traced.batchSize ?? 0}`);
    },
    asyncStart: answered,
  };
  const command = tracingChannel(REDIS_COMMAND);
  const batch = tracingChannel(REDIS_BATCH);
  command.subscribe(onCommand);
  batch.subscribe(onBatch);
  try {
    const result = await work();
    return { result, trips, waits };
  } finally {
    command.unsubscribe(onCommand);
    batch.unsubscribe(onBatch);
  }
}
