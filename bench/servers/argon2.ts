/**
 * Baseline for the sign-in: bare argon2id verification at the hub's configured cost, with
 * no HTTP, session or store, on the core this process is pinned to. As many verifications
 * are kept in flight as the hubs let run at once: `BENCH_ARGON2_INFLIGHT`, which the bench
 * sets to the ARGON2_CONCURRENCY it gives the hubs (one per core they are pinned to); unset,
 * the hub's default computed here.
 * `BENCH_ARGON2_CPU=1`: its CPU time per verification is reported too (`bench/tools/sign-in-cpu.ts`).
 */
import argon2 from 'argon2';
import { loadConfig } from '../../hub/src/config.js';
import { hubArgon2Options } from '../lib/argon2-cost.js';
import { PASSWORD } from '../lib/fixtures.js';

const options = hubArgon2Options();
const concurrency = Number(process.env.BENCH_ARGON2_INFLIGHT ?? loadConfig({ LOG_LEVEL: 'silent' }).argon2Turns.concurrency);
const warmupMs = Number(process.env.BENCH_WARMUP ?? 3) * 1000;
const durationMs = Number(process.env.BENCH_DURATION ?? 10) * 1000;
const hash = await argon2.hash(PASSWORD, options);

async function run(ms: number): Promise<{ count: number; latencies: number[]; elapsedMs: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        if (!(await argon2.verify(hash, PASSWORD))) throw new Error('argon2 verification failed');
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { count: latencies.length, latencies, elapsedMs: performance.now() - start };
}

await run(warmupMs);
const cpuBefore = process.cpuUsage();
const { count, latencies, elapsedMs } = await run(durationMs);
const cpu = process.cpuUsage(cpuBefore);
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
process.stdout.write(
  `BENCH_RESULT ${JSON.stringify({
    rps: count / (elapsedMs / 1000),
    p50: at(0.5),
    p99: at(0.99),
    requests: count,
    errors: 0,
    durationSeconds: elapsedMs / 1000,
    argon2: { type: 'argon2id', memoryKiB: options.memoryCost, iterations: options.timeCost, parallelism: options.parallelism, inFlight: concurrency },
    // `BENCH_ARGON2_CPU=1` (sign-in-cpu.ts): this process's CPU time per verification, every thread.
    ...(process.env.BENCH_ARGON2_CPU === '1' ? { cpuMsPerVerification: (cpu.user + cpu.system) / 1000 / count } : {}),
  })}\n`,
);
