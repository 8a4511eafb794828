/**
 * CPU per beacon of a sign-in's sync page, with no HTTP and no store: the hub's `SyncPlanner`
 * at N subsites, its tags encoded in chunks as `renderSyncPage` sends them, against the floor of
 * signing the same N sync codes alone.
 *
 *   npx tsx bench/tools/sync-plan-cpu.ts [--subsites=1000] [--plans=200] [--rounds=4] [--base=<another checkout>]
 *
 * `--base`: that checkout's planner is measured too, in the same process and the same rounds,
 * so a change to the planner is measured against the code before it (`git worktree add
 * /tmp/base HEAD~1`). Contestants alternate A B … B A; CPU is `process.cpuUsage()`, every
 * thread of this process (V8's garbage collector runs on helper threads too). One process runs
 * them all, so read the ratios, not the absolute numbers.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ClientRegistry } from '../../hub/src/clients/client-registry.js';
import type { SubsiteClient } from '../../hub/src/clients/client.js';
import type { ConsentIndex } from '../../hub/src/oidc/consents.js';
import { syncCodeSigner } from '../../hub/src/sync/sync-codes.js';
import { tagChunks } from '../../hub/src/portal/render.js';
import { SyncPlanner, type SyncPlan } from '../../hub/src/sync/sync-page.js';

const args = new Map<string, string | undefined>(process.argv.slice(2).map((a) => { const [name, value] = a.replace(/^--/, '').split('='); return [name!, value]; }));
const n = Number(args.get('subsites') ?? 1000);
const plans = Number(args.get('plans') ?? 200);
const rounds = Number(args.get('rounds') ?? 4);
const base = args.get('base');

const subsites: SubsiteClient[] = Array.from({ length: n }, (_, i) => ({
  clientId: `subsite-${i}`,
  trusted: true,
  sync: { loginUrl: `http://sub${i}.bench.test:9/sso/synclogin`, logoutUrl: `http://sub${i}.bench.test:9/sso/synclogout`, transport: 'img', key: randomBytes(32).toString('base64url') },
}) as SubsiteClient);
const clients = { syncTargets: async () => subsites } as unknown as ClientRegistry;
const consents = { clientsOf: async () => [] } as unknown as ConsentIndex;

type Planner = { forSignIn(accountId: string): Promise<Pick<SyncPlan, 'tags'>> };
async function planAndEncode(planner: Planner): Promise<number> {
  const plan = await planner.forSignIn('account');
  return tagChunks(plan.tags).reduce((bytes, chunk) => bytes + chunk.length, 0);
}

const contestants = new Map<string, () => Promise<unknown>>();
contestants.set('codes alone', async () => {
  const sign = syncCodeSigner({ issuer: 'http://hub.bench.test', act: 'login', sid: randomUUID(), iat: Math.floor(Date.now() / 1000), ttlSeconds: 60 });
  for (const client of subsites) sign(client.clientId, client.sync!.key);
});
const planner = new SyncPlanner(clients, consents, 'http://hub.bench.test', 60);
contestants.set('plan + encode', () => planAndEncode(planner));
if (base) {
  const module = (await import(pathToFileURL(resolve(base, 'hub/src/sync/sync-page.ts')).href)) as { SyncPlanner: new (...a: unknown[]) => Planner };
  const basePlanner = new module.SyncPlanner(clients, consents, 'http://hub.bench.test', 60);
  contestants.set('base: plan + encode', () => planAndEncode(basePlanner));
}

async function cpuPerBeacon(run: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < plans; i += 1) await run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / plans / n;
}

for (const run of contestants.values()) for (let i = 0; i < 50; i += 1) await run(); // warm-up
const samples = new Map<string, number[]>([...contestants.keys()].map((name) => [name, []]));
const order = [...contestants.keys()];
for (let round = 0; round < rounds; round += 1) {
  for (const name of [...order, ...[...order].reverse()]) samples.get(name)!.push(await cpuPerBeacon(contestants.get(name)!));
}
const median = (values: number[]) => { const sorted = [...values].sort((a, b) => a - b); const mid = sorted.length >> 1; return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2; };
process.stdout.write(`${n} subsites, ${plans} plans per window, ${rounds} rounds (A B … B A); CPU µs per beacon, every thread\n`);
const floor = median(samples.get('codes alone')!);
for (const [name, values] of samples) {
  process.stdout.write(`  ${name.padEnd(22)} median ${median(values).toFixed(2)}  (${values.map((v) => v.toFixed(2)).join(' ')})  ÷ codes alone ${(median(values) / floor).toFixed(2)}×\n`);
}
if (base) process.stdout.write(`  plan + encode ÷ base: ${(median(samples.get('plan + encode')!) / median(samples.get('base: plan + encode')!)).toFixed(2)}×\n`);
