/**
 * The hub's own CPU per user lookup by login (`findByLogin`), the two reads one after another
 * (name index, then record) against one script (`Store.getIndexed`), on a real Redis:
 *
 *   npx tsx bench/tools/lookup-cpu.ts [--redis=redis://127.0.0.1:6379] [--lookups=3000] [--rounds=8] [--concurrency=10]
 *
 * Alternates the two ways (ABBA) in rounds of `lookups` at `concurrency` lookups in flight, and
 * prints this process's CPU time (user + system, `process.cpuUsage`) and wall time per lookup.
 * Its keys sit under `bench-lookup:<uuid>:` with a TTL, and are deleted at the end.
 */
import { randomUUID } from 'node:crypto';
import { connectRedis, RedisStore } from '../../hub/src/store/redis.js';
import { Keys } from '../../hub/src/store/keys.js';

const args = new Map(process.argv.slice(2).map((a) => { const [name, value] = a.replace(/^--/, '').split('='); return [name!, value]; }));
const lookups = Number(args.get('lookups') ?? 3000);
const rounds = Number(args.get('rounds') ?? 8);
const concurrency = Number(args.get('concurrency') ?? 10);
const keys = new Keys(`${args.get('prefix') ?? 'bench-lookup'}:${randomUUID()}:`);
const store = new RedisStore(await connectRedis(args.get('redis') ?? 'redis://127.0.0.1:6379'));
const id = randomUUID();
const record = JSON.stringify({ id, username: 'alice', email: 'alice@example.test', name: 'Alice', passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$${'x'.repeat(22)}$${'y'.repeat(43)}`, disabled: false, roles: [], createdAt: 1, uid: 1 });
await store.set(keys.userByName('alice'), id, { ttlSeconds: 600 });
await store.set(keys.user(id), record, { ttlSeconds: 600 });

const ways = {
  'two GETs': async (login: string) => {
    const found = (await store.get(keys.userByName(login))) ?? (await store.get(keys.userByEmail(login)));
    return found ? store.get(keys.user(found)) : null;
  },
  'getIndexed': (login: string) => store.getIndexed([keys.userByName(login), keys.userByEmail(login)], keys.userAroundId()),
};
type Way = keyof typeof ways;

async function round(way: Way): Promise<{ cpuUs: number; wallUs: number }> {
  const lookup = ways[way];
  let left = lookups;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) if ((await lookup('alice')) !== record) throw new Error(`${way}: wrong record`);
  }));
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / lookups, wallUs: ((performance.now() - started) * 1000) / lookups };
}

try {
  for (const way of Object.keys(ways) as Way[]) await round(way); // warm-up
  const results: Record<Way, { cpuUs: number; wallUs: number }[]> = { 'two GETs': [], getIndexed: [] };
  for (let r = 0; r < rounds; r += 1) {
    const order: Way[] = r % 2 === 0 ? ['two GETs', 'getIndexed'] : ['getIndexed', 'two GETs'];
    for (const way of order) results[way].push(await round(way));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  for (const [way, list] of Object.entries(results)) {
    console.log(`${way.padEnd(10)} CPU µs per lookup: median ${median(list.map((x) => x.cpuUs)).toFixed(1)} (${list.map((x) => x.cpuUs.toFixed(1)).join(' ')}); wall µs median ${median(list.map((x) => x.wallUs)).toFixed(1)}`);
  }
} finally {
  await store.del(keys.userByName('alice'), keys.user(id));
  await store.close();
}
