/**
 * Garbage collection per request of the hub (and a peer) under one scenario's load: each server
 * runs with V8's `--trace-gc-nvp`, and this tool sums the trace lines of each timed window:
 * scavenges and mark-compacts with their pauses, and per request the bytes allocated in the young
 * generation, the bytes promoted to the old one (what survived two scavenges, or was kept alive
 * from the old generation: the concurrent marking and the next mark-compact pay for it) and those
 * copied within the young generation.
 *
 *   npx tsx bench/tools/gc-per-request.ts [requests, 3000] [scenario: refresh|cc|userinfo|introspection]
 *
 * `GC_BASE=<another checkout>`: that checkout's hub is measured too (`plain`: plain oidc-provider,
 * bench/servers/plain-oidc.ts), alternately (A B B A), `GC_ROUNDS` (1) times. `GC_WARMUP` (500)
 * untimed requests first, `GC_CONCURRENCY` (10) in flight. `GC_NODE_FLAGS`: more flags for both
 * servers (e.g. `--max-semi-space-size=64`). Uses `BENCH_REDIS_URL` or the Redis on
 * 127.0.0.1:6379 (keys under `BENCH_KEY_PREFIX`, removed at the end). The load is not pinned:
 * GC counts and bytes do not depend on the machine's other work, pause times do. V8 traces every
 * isolate of the process: a worker thread's collections (the hub's, idle under this load) are in
 * the sums too.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { derivedSecret, RP_CLIENT, SERVICE_CLIENT } from '../lib/fixtures.js';
import { basicAuth, plainRpTokens, rpTokens } from '../lib/hub-flows.js';
import { buildHub } from '../lib/build-hub.js';
import { freePort } from '../lib/processes.js';

const requests = Number(process.argv[2] ?? 3000);
const scenario = process.argv[3] ?? 'refresh';
const warmup = Number(process.env.GC_WARMUP ?? 500);
const rounds = Number(process.env.GC_ROUNDS ?? 1);
const concurrency = Number(process.env.GC_CONCURRENCY ?? 10);
const extraFlags = process.env.GC_NODE_FLAGS ? process.env.GC_NODE_FLAGS.split(' ') : [];
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const salt = randomUUID();
const root = `${process.env.BENCH_KEY_PREFIX ?? 'bench:'}gc-${salt.slice(0, 8)}:`;
const rpSecret = derivedSecret(salt, 'rp-secret');
const serviceSecret = derivedSecret(salt, 'service-secret');
const form = { 'content-type': 'application/x-www-form-urlencoded' };

interface Traced {
  name: string;
  url: string;
  plain: boolean;
  /** The server's `--trace-gc-nvp` lines so far. */
  lines: string[];
  stop(): void;
}

async function start(name: string, checkout: string, plain = false): Promise<Traced> {
  const dist = plain ? undefined : buildHub(checkout);
  const port = await freePort();
  const file = `${checkout}/bench/servers/${plain ? 'plain-oidc.ts' : 'hub.ts'}`;
  const child = spawn(process.execPath, ['--expose-gc', '--trace-gc-nvp', ...extraFlags, '--import', 'tsx', file], {
    env: { ...process.env, REDIS_URL: redisUrl, BENCH_SALT: salt, BENCH_PREFIX: `${root}${name}:`, PORT: String(port), BENCH_USERS: String(concurrency + 2), ...(dist ? { BENCH_HUB_DIST: dist } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buffered = '';
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) {
      if (line.startsWith('BENCH_READY ')) ready();
      else if (line.includes(' gc=')) lines.push(line);
    }
  });
  child.once('exit', (code) => {
    if (code) process.stderr.write(`${name} exited with ${code}\n`);
  });
  await isReady;
  return { name, url: `http://127.0.0.1:${port}`, plain, lines, stop: () => child.kill('SIGTERM') };
}

async function ok(response: Response): Promise<string> {
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${scenario}: ${response.status} ${text}`);
  return text;
}

async function sender(server: Traced): Promise<() => Promise<void>> {
  const chains = await Promise.all(Array.from({ length: concurrency }, (_, i) => (server.plain ? plainRpTokens : rpTokens)(server.url, i + 1, rpSecret)));
  const queue = chains.map((tokens) => tokens.refresh_token);
  const rp = { ...form, authorization: basicAuth(RP_CLIENT, rpSecret) };
  switch (scenario) {
    case 'refresh':
      return async () => {
        const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: queue.shift()! }).toString();
        queue.push((JSON.parse(await ok(await fetch(`${server.url}/token`, { method: 'POST', headers: rp, body }))) as { refresh_token: string }).refresh_token);
      };
    case 'cc':
      return async () => void (await ok(await fetch(`${server.url}/token`, { method: 'POST', headers: { ...form, authorization: basicAuth(SERVICE_CLIENT, serviceSecret) }, body: 'grant_type=client_credentials' })));
    case 'userinfo':
      return async () => void (await ok(await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${chains[0]!.access_token}` } })));
    case 'introspection':
      return async () => void (await ok(await fetch(`${server.url}/token/introspection`, { method: 'POST', headers: rp, body: new URLSearchParams({ token: chains[0]!.access_token }).toString() })));
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

async function loop(send: () => Promise<void>, n: number): Promise<void> {
  let left = n;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left > 0) {
        left -= 1;
        await send();
      }
    }),
  );
}

function field(line: string, name: string): number {
  const match = new RegExp(` ${name}=([0-9.]+)`).exec(line);
  return match ? Number(match[1]) : 0;
}

function summary(lines: string[]): string {
  const scavenges = lines.filter((line) => line.includes(' gc=s '));
  const majors = lines.filter((line) => !line.includes(' gc=s '));
  const sum = (of: string[], name: string): number => of.reduce((total, line) => total + field(line, name), 0);
  const kb = (bytes: number): string => (bytes / requests / 1024).toFixed(2);
  return (
    `scavenges ${scavenges.length} (${sum(scavenges, 'pause').toFixed(0)} ms), mark-compacts ${majors.length} (${sum(majors, 'pause').toFixed(0)} ms paused, ${sum(majors, 'background.mark').toFixed(0)} ms marking on helper threads); ` +
    `per request: allocated ${kb(sum(scavenges, 'allocated'))} KB, promoted ${kb(sum(scavenges, 'promoted'))} KB, copied in the young generation ${kb(sum(scavenges, 'new_space_survived'))} KB`
  );
}

const ours = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const base = process.env.GC_BASE;
const servers = [await start('hub', ours), ...(base ? [base === 'plain' ? await start('plain', ours, true) : await start('base', base)] : [])];
try {
  const sends = await Promise.all(servers.map(sender));
  for (let i = 0; i < servers.length; i += 1) await loop(sends[i]!, warmup);
  for (let round = 0; round < rounds; round += 1) {
    for (const i of servers.length === 2 ? [0, 1, 1, 0] : [0]) {
      const server = servers[i]!;
      const from = server.lines.length;
      await loop(sends[i]!, requests);
      await new Promise((resolve) => setTimeout(resolve, 100)); // the last lines
      process.stdout.write(`${server.name.padEnd(5)} round ${round} ${scenario} ×${requests}: ${summary(server.lines.slice(from))}\n`);
    }
  }
} finally {
  for (const server of servers) server.stop();
  const client = createClient({ url: redisUrl });
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${root}*`, COUNT: 1000 })) if (keys.length) await client.del(keys);
  await client.quit();
}
