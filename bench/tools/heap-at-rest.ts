/**
 * The heap after GC of the bench hub and of the plain oidc-provider peer at rest (started as
 * the bench starts them, on the bench's own redis-server, nothing timed), and a heap snapshot
 * of each for bench/tools/heap-top.ts. Quicker than a bench run when working on memory.
 *
 *   npx tsx bench/tools/heap-at-rest.ts [out-dir=bench/results/heap] [servers=hub,plain-oidc]
 *   npx tsx bench/tools/heap-top.ts bench/results/heap/hub.heapsnapshot
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { buildHub } from '../lib/build-hub.js';
import { freePort, startBenchRedis, startServer, type ServerProcess } from '../lib/processes.js';

const FILES: Record<string, string> = { hub: 'hub.ts', 'plain-oidc': 'plain-oidc.ts' };
const hubDist = buildHub(); // compiled, as the image runs it
const outDir = resolve(process.argv[2] ?? 'bench/results/heap');
const names = (process.argv[3] ?? 'hub,plain-oidc').split(',');
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

const redis = await startBenchRedis();
const servers: ServerProcess[] = [];
try {
  for (const name of names) {
    const file = FILES[name];
    if (!file) throw new TypeError(`unknown server ${name}; known: ${Object.keys(FILES).join(', ')}`);
    const server = await startServer(name, file, {
      REDIS_URL: redis.url,
      BENCH_SALT: randomUUID(),
      BENCH_PREFIX: `bench:heap:${name}:`,
      BENCH_PROFILE_DIR: outDir,
      PORT: String(await freePort()),
      ...(name === 'hub' && hubDist ? { BENCH_HUB_DIST: hubDist } : {}),
    });
    servers.push(server);
    const memory = (await (await fetch(`${server.url}/__bench/memory`)).json()) as { heapUsed: number; rss: number };
    const snapshot = (await (await fetch(`${server.url}/__bench/heap-snapshot?name=${name}`)).json()) as { written?: string; error?: string };
    process.stdout.write(`${name}: heap after GC ${mib(memory.heapUsed)}, RSS ${mib(memory.rss)}; snapshot ${snapshot.written ?? snapshot.error}\n`);
  }
} finally {
  for (const server of servers) await server.stop();
  await redis.stop();
}
