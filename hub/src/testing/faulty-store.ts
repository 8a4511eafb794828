import { StoreUnavailableError, type Store, type WriteOp } from '../store/store.js';

/**
 * What a store write does under test: `ok` goes through; `stall` is a write that lands but
 * whose answer never comes back in time (the caller sees the store as down); `fail` is a
 * write that never reaches the store; `delayMs` is a slow write that then goes through.
 */
export type Fault = 'ok' | 'stall' | 'fail' | { delayMs: number };

/**
 * Decides, for each write (and each read, with `reads`), what happens to it. `call` numbers
 * the store calls: the ops of one batch (Store.write) share it, concurrent calls never do.
 */
export type FaultPlan = (method: string, key: string, call: number) => Fault;

const READS = new Set(['kind', 'get', 'getMany', 'getIndexed', 'ttl', 'setMembers', 'setCard', 'setScan', 'zRangeByScore', 'zRevRange', 'zRevRangeByScore', 'zCard', 'ping', 'close']);
/** Reads of data (not the health check or shutdown): the plan decides on them too when asked. */
const DATA_READS = new Set(['get', 'getMany', 'getIndexed', 'ttl', 'setMembers', 'setCard', 'setScan', 'zRangeByScore', 'zRevRange', 'zRevRangeByScore', 'zCard']);

/** Whether a store method is a read of data (one the plan sees only with `reads`). */
export function isStoreRead(method: string): boolean {
  return DATA_READS.has(method);
}

export interface FaultyStoreOptions {
  /**
   * Reads go through the plan too (default false: reads always go through). A read's `stall`
   * is a read whose answer is lost; getMany's and getIndexed's key is its keys joined by commas.
   */
  reads?: boolean;
}

/** A batch of writes (Store.write) fails as its worst write would: fail, then stall, then the longest delay. */
function worst(faults: Fault[]): Fault {
  if (faults.includes('fail')) return 'fail';
  if (faults.includes('stall')) return 'stall';
  const delays = faults.filter((f): f is { delayMs: number } => typeof f === 'object').map((f) => f.delayMs);
  return delays.length > 0 ? { delayMs: Math.max(...delays) } : 'ok';
}

/**
 * A store that injects faults into chosen writes, for tests of what a client sees when
 * the store stalls part-way through a request. Reads always go through, unless `reads`.
 */
export function faultyStore(inner: Store, options: FaultyStoreOptions = {}): { store: Store; plan(next: FaultPlan | undefined): void } {
  let current: FaultPlan | undefined;
  let calls = 0;
  const store = new Proxy(inner, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== 'function') return value;
      // Bound to the store itself: its private fields are not reachable through the proxy.
      if (typeof property !== 'string' || (READS.has(property) && !(options.reads && DATA_READS.has(property)))) return (value as (...a: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        const call = (calls += 1);
        const fault = property === 'write' ? worst((args[0] as WriteOp[]).map((op) => current?.(op.op, op.key, call) ?? 'ok'))
          // The writes, then the compare-and-set (Store.swapAfter): each as the plan sees it alone.
          : property === 'swapAfter' ? worst([...(args[0] as WriteOp[]).map((op) => current?.(op.op, op.key, call) ?? 'ok'), current?.('swap', String(args[1]), call) ?? 'ok'])
          : (current?.(property, String(args[0]), call) ?? 'ok');
        if (typeof fault === 'object') await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
        if (fault === 'fail') throw new StoreUnavailableError(new Error(`injected failure of ${property}`));
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (fault === 'stall') throw new StoreUnavailableError(new Error(`injected stall of ${property}`));
        return result;
      };
    },
  });
  return { store, plan: (next) => void (current = next) };
}
