import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import { loadConfig } from '../../hub/src/config.js';
import { PASSWORD } from './fixtures.js';

/** argon2id at the cost the hub is configured with by default (what the bench's hubs use). */
export function hubArgon2Options(): { type: 2; memoryCost: number; timeCost: number; parallelism: number; raw?: false } {
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  return { type: argon2.argon2id as 2, memoryCost: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_ITERATIONS, parallelism: config.ARGON2_PARALLELISM };
}

/**
 * The most sign-ins a second this machine could do, whatever else it is doing: every core
 * verifying argon2id back to back, at the best CPU time of three verifications here. CPU time,
 * not wall time: a loaded machine stretches wall time (and any rate measured by it), so a
 * bound drawn from a rate measured under load can fall below what the hub does once the load
 * has gone.
 */
export async function signInCeiling(): Promise<number> {
  const options = hubArgon2Options();
  const hash = await argon2.hash(PASSWORD, options);
  let best = Infinity;
  for (let i = 0; i < 3; i += 1) {
    const before = process.cpuUsage();
    if (!(await argon2.verify(hash, PASSWORD))) throw new Error('argon2 verification failed');
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1e6);
  }
  return availableParallelism() / best;
}
