/**
 * REDIS_URL's scheme not matching the one server: `rediss://` to a plain-text port, or
 * `redis://` to a TLS-only port. Neither gets a reply at all, so the start (and the CLI) said
 * "did not answer … is it running and reachable", as it did for REDIS_TLS before the cluster and
 * Sentinel probe; an operator review of a production start sent the operator to check a server
 * that was running.
 */
import { jest } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOwnRedis, startOwnTlsRedis, type OwnRedis } from '../testing/redis-server.js';
import { tlsCertificates } from '../testing/tls-certificates.js';
import { unreachableRedisMessage } from './index.js';

jest.setTimeout(60_000);

let dir: string;
let plain: OwnRedis;
let tlsOnly: OwnRedis;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sso-single-tls-'));
  plain = await startOwnRedis();
  tlsOnly = await startOwnTlsRedis(await tlsCertificates(dir));
});

afterAll(async () => {
  await plain?.stop();
  await tlsOnly?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('rediss:// to a plain-text Redis says it answers without TLS and what to write, not "is it running"', async () => {
  const url = plain.url.replace(/^redis:/, 'rediss:');
  const message = await unreachableRedisMessage({ kind: 'single', url }, new Error('Connection timeout'));
  expect(message).toMatch(/127\.0\.0\.1:\d+ answers without TLS, and REDIS_URL is rediss:\/\/.*write REDIS_URL as redis:\/\//);
  expect(message).not.toMatch(/is it running/);
});

test('redis:// to a TLS-only Redis (a private CA) says it answers only with TLS and what to write', async () => {
  const url = tlsOnly.url.replace(/^rediss:/, 'redis:');
  const message = await unreachableRedisMessage({ kind: 'single', url }, new Error('read ECONNRESET'));
  expect(message).toMatch(/127\.0\.0\.1:\d+ answers only with TLS: write REDIS_URL as rediss:\/\/.*REDIS_TLS_CA_FILE/);
  expect(message).not.toMatch(/is it running/);
});

test('a port where nothing listens is still "did not answer … is it running"', async () => {
  const message = await unreachableRedisMessage({ kind: 'single', url: 'rediss://127.0.0.1:1' }, new Error('connect ECONNREFUSED'));
  expect(message).toMatch(/did not answer \(no reply at all/);
});
