/**
 * Baselines: express 5 answering with nothing else (`hello`), after one Redis GET (`get`),
 * or after one Redis SET EX and one GET of what it wrote (`setget`, a token write and read).
 * Same node-redis client and options as the hub's store.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import express from 'express';
import { connectRedis } from '../../hub/src/store/redis.js';
import { required, serve } from '../lib/fixtures.js';

const mode = required('BENCH_MODE');
const prefix = required('BENCH_PREFIX');
const TOKEN_TTL = 60; // seconds; every key the baseline writes expires
const payload = JSON.stringify({ kind: 'ClientCredentials', clientId: 'bench-service', scope: 'api', iat: 0, exp: 3600, extra: 'x'.repeat(120) });

const redis = mode === 'hello' ? undefined : await connectRedis(required('REDIS_URL'));
const fixedKey = `${prefix}hello`;
if (redis) await redis.set(fixedKey, payload, { expiration: { type: 'EX', value: 3600 } });

const app = express();
app.disable('x-powered-by');
if (mode === 'hello') {
  app.get('/', (_req, res) => {
    res.send('Hello World!');
  });
} else if (mode === 'get') {
  app.get('/', async (_req, res) => {
    res.type('json').send(await redis!.get(fixedKey));
  });
} else if (mode === 'setget') {
  app.get('/', async (_req, res) => {
    const key = `${prefix}t:${randomUUID()}`;
    await redis!.set(key, payload, { expiration: { type: 'EX', value: TOKEN_TTL } });
    res.type('json').send(await redis!.get(key));
  });
} else {
  throw new Error(`unknown BENCH_MODE ${mode}`);
}

await serve(createServer(app), Number(process.env.PORT ?? 0), async () => {
  if (redis?.isOpen) await redis.quit();
});
