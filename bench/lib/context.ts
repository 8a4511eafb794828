/**
 * What every scenario module gets from the run: its settings, the servers it may start, the
 * interleaving options and a logger. Built once by bench/run.ts.
 */
import type { Timing } from './load.js';
import type { ServerProcess } from './processes.js';
import type { RoundOptions } from './rounds.js';

export interface BenchSettings extends Timing {
  /** Interleaved rounds per scenario (each round is A B … B A). */
  rounds: number;
  /** Smoke mode: tiny windows, few users, small N; proves the harness works, numbers mean nothing. */
  quick: boolean;
  lazyConcurrency: number;
  lazyBrowsers: number;
  /** Registered subsites for the sign-in scenarios, the first is the reference (1). */
  subsiteCounts: number[];
  /** Seconds between the end of userinfo load and the second heap reading. */
  retentionWaitSeconds: number;
  /** Both audit caps of the token-scenario hub (its log of tokens issued is filled to it before any window). */
  auditMaxEntries: number;
  /** Users registered in the token-scenario hub and the plain peer. */
  users: number;
  /** Users the sign-in windows rotate over. */
  signInUsers: number;
  /** Refresh-token chains per server: each timed or warm-up phase may strand up to one per connection. */
  refreshChains: number;
  /** Whether to run the control hub with node-redis's per-command timer back on. */
  control: boolean;
}

export interface BenchContext {
  settings: BenchSettings;
  rounds: RoundOptions;
  salt: string;
  start(name: string, file: string, env: Record<string, string>): Promise<ServerProcess>;
  stop(...servers: ServerProcess[]): Promise<void>;
  log(message: string): void;
}

/** In-flight requests while fixtures are prepared (not measured). */
export const PREPARE_CONCURRENCY = 8;

export const range = (n: number) => Array.from({ length: n }, (_, i) => i);
export const form = { 'content-type': 'application/x-www-form-urlencoded' };
