/**
 * The kit's /readyz on a Redis Cluster whose password is changed under a running site: it
 * says the credentials are refused (asked on the first master's connection settings), not
 * "store unreachable"; the one-server case is in subsite-kit/src/readyz-credentials.test.ts.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import { createClient, createCluster } from 'redis';
import { createSubsiteKit, type RedisClient } from '@sso-hub/subsite-kit';
import { startOwnRedisCluster, type OwnRedisCluster } from '../hub/src/testing/redis-server.js';
import { expectCredentialsRefused } from '../subsite-kit/src/test-support/readyz-refusal.js';

const PASSWORD = `site-${randomUUID()}`;
const CHANGED = `changed-${randomUUID()}`;
let cluster: OwnRedisCluster;

beforeAll(async () => {
  cluster = await startOwnRedisCluster({ password: PASSWORD });
}, 60_000);

afterAll(async () => {
  await cluster.stop();
});

/** `CONFIG SET requirepass` on every node, then their other clients cut off. */
async function setPassword(from: string, to: string): Promise<void> {
  for (const { host, port } of cluster.rootNodes) {
    const admin = createClient({ socket: { host, port, reconnectStrategy: false }, password: from });
    admin.on('error', () => undefined);
    await admin.connect();
    await admin.sendCommand(['CONFIG', 'SET', 'masterauth', to, 'requirepass', to]);
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
    await admin.destroy();
  }
}

test('the cluster\'s password changed under a running site: /readyz says the credentials are refused, never a password', async () => {
  const redis = createCluster({ rootNodes: cluster.rootNodes.map((node) => ({ socket: node })), defaults: { password: PASSWORD, socket: { connectTimeout: 1_000 } }, commandOptions: { timeout: 0 } });
  redis.on('error', () => undefined);
  await redis.connect();
  const sso = await createSubsiteKit({
    hubUrl: 'http://127.0.0.1:9',
    clientId: 'bbs',
    clientSecret: 'bbs-secret',
    redirectUri: 'http://bbs.test/sso/callback',
    syncKey: 'kit-readyz-cluster-sync-key-0123456789abcdef',
    sessionSecret: 'kit-readyz-cluster-session-secret-0123456789',
    redis: redis as unknown as RedisClient,
    redisPrefix: `readyz-${randomUUID()}:`,
    logger: { warn: () => {} },
  });
  const app = express().use(sso.healthRoutes({ timeoutMs: 1_000 }));
  try {
    await expectCredentialsRefused(app, { old: PASSWORD, changed: CHANGED, set: setPassword }, { reason: /^store refuses this site's Redis credentials \(Redis answers (WRONGPASS|NOAUTH)\)/ });
  } finally {
    await redis.destroy();
  }
}, 60_000);
