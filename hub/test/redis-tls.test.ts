/**
 * REDIS_TLS: a hub process on a Redis Cluster that speaks TLS only to its clients and on its bus
 * (`--tls-cluster yes`), its certificate signed by a private CA given to Node the standard way
 * (NODE_EXTRA_CA_CERTS). Before, the nodes of REDIS_CLUSTER_NODES were always spoken to in plain
 * text: a TLS cluster (most managed ones) could not be used at all.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHubProcess } from '../src/testing/hub-process.js';
import { startOwnRedisCluster, type OwnRedisCluster } from '../src/testing/redis-server.js';
import { tlsCertificates } from '../src/testing/tls-certificates.js';

let dir: string;
let cluster: OwnRedisCluster;
let ca: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sso-redis-tls-'));
  const tls = await tlsCertificates(dir);
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
