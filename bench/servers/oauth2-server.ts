/**
 * Peer for client_credentials: `@node-oauth/oauth2-server` on express 5 with a Redis model,
 * what a Node team might pick instead of oidc-provider. The client record is read from
 * Redis on every request (its secret stored as a SHA-256 digest, compared in constant
 * time) and each token is written with its TTL under its digest, as the hub does.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import express from 'express';
import OAuth2Server, { type ClientCredentialsModel, type Client, type Token } from '@node-oauth/oauth2-server';
import { loadConfig } from '../../hub/src/config.js';
import { connectRedis } from '../../hub/src/store/redis.js';
import { withCounters } from '../lib/counting.js';
import { derivedSecret, required, serve, SERVICE_CLIENT } from '../lib/fixtures.js';

const prefix = required('BENCH_PREFIX');
const redis = await connectRedis(required('REDIS_URL'));
const ttl = loadConfig({ LOG_LEVEL: 'silent' }).HUB_ACCESS_TOKEN_TTL;
const sha256 = (value: string) => createHash('sha256').update(value).digest();

interface StoredClient {
  id: string;
  secretSha256: string;
  grants: string[];
}

await redis.set(
  `${prefix}client:${SERVICE_CLIENT}`,
  JSON.stringify({ id: SERVICE_CLIENT, secretSha256: sha256(derivedSecret(required('BENCH_SALT'), 'service-secret')).toString('base64url'), grants: ['client_credentials'] } satisfies StoredClient),
  { expiration: { type: 'EX', value: 86_400 } },
);

const model: ClientCredentialsModel = {
  async getClient(clientId, clientSecret): Promise<Client | false> {
    const raw = await redis.get(`${prefix}client:${clientId}`);
    if (!raw) return false;
    const stored = JSON.parse(raw) as StoredClient;
    const expected = Buffer.from(stored.secretSha256, 'base64url');
    if (!timingSafeEqual(sha256(clientSecret ?? ''), expected)) return false;
    return { id: stored.id, grants: stored.grants, accessTokenLifetime: ttl };
  },
  async getUserFromClient(client) {
    return { id: client.id };
  },
  async saveToken(token, client, user): Promise<Token> {
    const stored = { clientId: client.id, userId: user.id, expiresAt: token.accessTokenExpiresAt?.getTime(), scope: token.scope };
    await redis.set(`${prefix}token:${sha256(token.accessToken).toString('base64url')}`, JSON.stringify(stored), { expiration: { type: 'EX', value: ttl } });
    return { ...token, client, user };
  },
  async getAccessToken(accessToken) {
    const raw = await redis.get(`${prefix}token:${sha256(accessToken).toString('base64url')}`);
    if (!raw) return false;
    const stored = JSON.parse(raw) as { clientId: string; userId: string; expiresAt: number; scope?: string[] };
    return { accessToken, accessTokenExpiresAt: new Date(stored.expiresAt), client: { id: stored.clientId, grants: ['client_credentials'] }, user: { id: stored.userId }, ...(stored.scope ? { scope: stored.scope } : {}) };
  },
};

const oauth = new OAuth2Server({ model, accessTokenLifetime: ttl, allowExtendedTokenAttributes: false });
const app = express();
app.disable('x-powered-by');
app.post('/token', express.urlencoded({ extended: false }), async (req, res) => {
  const request = new OAuth2Server.Request(req);
  const response = new OAuth2Server.Response(res);
  try {
    await oauth.token(request, response, { requireClientAuthentication: { client_credentials: true } });
    res.set(response.headers).status(response.status ?? 200).json(response.body);
  } catch (error) {
    const failure = error as { code?: number; name?: string; message?: string };
    res.status(failure.code ?? 500).json({ error: failure.name ?? 'server_error', error_description: failure.message });
  }
});

const server = createServer(withCounters(app));
server.keepAliveTimeout = 60_000;
await serve(server, Number(process.env.PORT ?? 0), async () => {
  if (redis.isOpen) await redis.quit();
});
