/**
 * REDIS_TLS: a hub process on a Redis Cluster that speaks TLS only to its clients and on its bus
 * (`--tls-cluster yes`), its certificate signed by a private CA given to Node the standard way
 * (NODE_EXTRA_CA_CERTS). Before, the nodes of REDIS_CLUSTER_NODES were always spoken to in plain
 * text: a TLS cluster (most managed ones) could not be used at all.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHubProcess } from '../src/testing/hub-process.js';
import { startOwnRedisCluster, type OwnRedisCluster } from '../src/testing/redis-server.js';

let dir: string;
let cluster: OwnRedisCluster;
let ca: string;

/** A CA, and a server certificate for 127.0.0.1 signed by it (openssl, as an operator would make them). */
async function certificates(into: string): Promise<{ cert: string; key: string; ca: string }> {
  const path = (name: string) => join(into, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: into, stdio: 'ignore' });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=sso-hub test CA']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  await writeFile(path('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf']);
  return { cert: path('server.pem'), key: path('server.key'), ca: path('ca.pem') };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sso-redis-tls-'));
  const tls = await certificates(dir);
  ca = tls.ca;
  cluster = await startOwnRedisCluster({ tls });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('REDIS_TLS=true with NODE_EXTRA_CA_CERTS: the hub starts on the TLS cluster and is ready', async () => {
  const hub = await startHubProcess({ REDIS_CLUSTER_NODES: cluster.nodes.join(','), REDIS_TLS: 'true', NODE_EXTRA_CA_CERTS: ca, KEY_PREFIX: `tls-test-${Date.now()}:` });
  try {
    const ready = await fetch(`${hub.url}/readyz`);
    expect(await ready.json()).toEqual({ ready: true, reasons: [] });
    // A page that needs the store (a portal session is written): served.
    expect((await fetch(`${hub.url}/login`, { redirect: 'manual' })).status).toBeLessThan(400);
  } finally {
    await hub.stop();
  }
}, 90_000);

test('without REDIS_TLS the same nodes are refused at start with what to check, not a hang', async () => {
  await expect(startHubProcess({ REDIS_CLUSTER_NODES: cluster.nodes.join(','), NODE_EXTRA_CA_CERTS: ca }, '/readyz', 30_000)).rejects.toThrow(/hub exited \(1\) before it was ready: [\s\S]*did not answer: 127\.0\.0\.1:\d+ answers only with TLS: set REDIS_TLS=true/);
}, 60_000);
