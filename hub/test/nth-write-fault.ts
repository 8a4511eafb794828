/**
 * Runs one service call with its `nth` store write (1-based; a batch is one write) faulted as
 * `kind` says (faulty-store.ts: `fail` never reaches the store, `stall` lands with its answer
 * lost), for the sweeps that fault each write of a call in turn and then retry it.
 */
import type { faultyStore } from '../src/testing/faulty-store.js';

export type WriteFault = 'fail' | 'stall';

/** How many writes the call made, and what it threw (undefined: it went through). */
export async function withNthWriteFaulted(faulty: ReturnType<typeof faultyStore>, nth: number | undefined, kind: WriteFault, call: () => Promise<unknown>): Promise<{ writes: number; error?: unknown }> {
  let writes = 0;
  let lastCall = -1;
  faulty.plan((method, _key, callNumber) => {
    // The store clock's re-measure runs on its own timer, not the call's.
    if (method === 'time') return 'ok';
    if (callNumber !== lastCall) {
      lastCall = callNumber;
      writes += 1;
    }
    return writes === nth ? kind : 'ok';
  });
  try {
    await call();
    return { writes };
  } catch (error) {
    return { writes, error };
  } finally {
    faulty.plan(undefined);
  }
}
