/**
 * The kit's /readyz on a Sentinel-managed Redis whose password is changed under a running
 * site: it says the credentials are refused, not "store unreachable" (the one-server case is in
 * subsite-kit/src/readyz-credentials.test.ts, the cluster's in test/kit-readyz-cluster.test.ts).
 * A Sentinel client keeps its options to itself, so the kit asks through a duplicate of it
 * (no rediscovery, its node errors passed through) that it connects once and destroys.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { createClient, createSentinel } from 'redis';
import { createSubsiteKit, type RedisClient } from '@sso-hub/subsite-kit';
import { startOwnRedisSentinel, type OwnRedisSentinel } from '../hub/src/testing/redis-server.js';
import { expectCredentialsRefused } from '../subsite-kit/src/test-support/readyz-refusal.js';

const PASSWORD = `site-${randomUUID()}`;
const CHANGED = `changed-${randomUUID()}`;
let sentinel: OwnRedisSentinel;

beforeAll(async () => {
  sentinel = await startOwnRedisSentinel('kit-readyz', { password: PASSWORD });
  // No failover in these tests (none is asked for: readyForFailover is not called), as a frozen
  // primary failed over between two checks once made the site rightly ready again.
}, 60_000);

afterAll(async () => {
  await sentinel.stop();
});

/** `SENTINEL SET <name> <option> <value>` on every sentinel. */
async function sentinelsSet(option: string, value: string): Promise<void> {
  for (const node of sentinel.sentinelRootNodes) {
    const one = createClient({ socket: { ...node, reconnectStrategy: false } });
    one.on('error', () => undefined);
    await one.connect();
    await one.sendCommand(['SENTINEL', 'SET', sentinel.name, option, value]);
    await one.destroy();
  }
}

/**
 * The password changed as an operator changes it: the sentinels' `auth-pass` first (they keep
 * seeing the primary up), then `requirepass` on the primary, and its other clients cut off (a
 * restart with the new password). Only the site's client still has the old one.
 */
async function setPassword(from: string, to: string): Promise<void> {
  await sentinelsSet('auth-pass', to);
  const admin = createClient({ socket: { host: '127.0.0.1', port: await sentinel.primaryPort(), reconnectStrategy: false }, password: from });
  admin.on('error', () => undefined);
  await admin.connect();
  await admin.sendCommand(['CONFIG', 'SET', 'requirepass', to]);
  await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
  await admin.destroy();
}

/**
 * The site's probe deadline: generous, since on a loaded CI machine (two jest workers, a dozen
 * Redis servers) the Sentinel probe's connections (sentinel, then primary) can take over a second.
 */
const TIMEOUT_MS = 3_000;

async function siteOn(redis: RedisClient) {
  const sso = await createSubsiteKit({
    hubUrl: 'http://127.0.0.1:9',
    clientId: 'bbs',
    clientSecret: 'bbs-secret',
    redirectUri: 'http://bbs.test/sso/callback',
    syncKey: 'kit-readyz-sentinel-sync-key-0123456789abcdef',
    sessionSecret: 'kit-readyz-sentinel-session-secret-0123456789',
    redis,
    redisPrefix: `readyz-${randomUUID()}:`,
    logger: { warn: () => {} },
  });
  return express().use(sso.healthRoutes({ timeoutMs: TIMEOUT_MS }));
}

/** The site's Sentinel client, as the kit README shows it: the primary's password, no offline queue, no per-command timer. */
function sentinelClient() {
  return createSentinel({
    name: sentinel.name,
    sentinelRootNodes: sentinel.sentinelRootNodes,
    nodeClientOptions: { password: PASSWORD, disableOfflineQueue: true, socket: { connectTimeout: 1_000 } },
    commandOptions: { timeout: 0 },
  });
}

test('the primary\'s password changed under a running site: /readyz says the credentials are refused, never a password', async () => {
  const redis = sentinelClient();
  redis.on('error', () => undefined);
  await redis.connect();
  const app = await siteOn(redis as unknown as RedisClient);
  try {
    await expectCredentialsRefused(app, { old: PASSWORD, changed: CHANGED, set: setPassword }, { withinMs: 2 * TIMEOUT_MS + 1_000, readyAgainTries: 60 });
  } finally {
    await redis.destroy();
  }
}, 60_000);

test('a primary that answers nothing is still "store unreachable", within twice timeoutMs', async () => {
  const redis = sentinelClient();
  redis.on('error', () => undefined);
  await redis.connect();
  const app = await siteOn(redis as unknown as RedisClient);
  try {
    expect((await request(app).get('/readyz')).status).toBe(200);
    await sentinel.pausePrimary();
    const started = Date.now();
    const res = await request(app).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.reasons).toEqual(['store unreachable']);
    expect(Date.now() - started).toBeLessThan(2 * TIMEOUT_MS + 1_000);
    // Asked again while the first Sentinel probe still waits on the frozen primary to let it go:
    // no second probe joins it, and the answer takes one deadline, not two.
    const again = Date.now();
    expect((await request(app).get('/readyz')).body.reasons).toEqual(['store unreachable']);
    expect(Date.now() - again).toBeLessThan(TIMEOUT_MS + 1_000);
  } finally {
    await sentinel.resumeReplica();
    await redis.destroy();
  }
}, 60_000);
