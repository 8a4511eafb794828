/**
 * Baseline: what a team would build instead of adopting the hub. oidc-provider 9 on its own
 * HTTP server, one statically configured client, and a minimal Redis adapter (after the
 * library's example adapter, on node-redis), no hub around it.
 */
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Adapter, type AdapterPayload, type Configuration } from 'oidc-provider';
import { connectRedis } from '../../hub/src/store/redis.js';
import { derivedSecret, required, serve, SERVICE_CLIENT } from '../lib/fixtures.js';

const prefix = required('BENCH_PREFIX');
const redis = await connectRedis(required('REDIS_URL'));
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

class RedisAdapter implements Adapter {
  constructor(readonly name: string) {}

  #key(id: string): string {
    return `${prefix}${this.name}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const key = this.#key(id);
    const options = expiresIn ? { expiration: { type: 'EX' as const, value: expiresIn } } : {};
    if (!(GRANTABLE.has(this.name) && payload.grantId) && !payload.uid && !payload.userCode) {
      await redis.set(key, JSON.stringify(payload), options);
      return;
    }
    const multi = redis.multi().set(key, JSON.stringify(payload), options);
    if (GRANTABLE.has(this.name) && payload.grantId) {
      const grantKey = `${prefix}grant:${payload.grantId}`;
      multi.rPush(grantKey, key);
      if (expiresIn) multi.expire(grantKey, expiresIn, 'GT');
    }
    if (payload.uid) multi.set(`${prefix}uid:${payload.uid}`, id, options);
    if (payload.userCode) multi.set(`${prefix}userCode:${payload.userCode}`, id, options);
    await multi.exec();
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const raw = await redis.get(this.#key(id));
    return raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = await redis.get(`${prefix}uid:${uid}`);
    return id ? this.find(id) : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const id = await redis.get(`${prefix}userCode:${userCode}`);
    return id ? this.find(id) : undefined;
  }

  async consume(id: string): Promise<void> {
    const payload = await this.find(id);
    if (!payload) return;
    payload.consumed = Math.floor(Date.now() / 1000);
    await redis.set(this.#key(id), JSON.stringify(payload), { KEEPTTL: true } as never);
  }

  async destroy(id: string): Promise<void> {
    await redis.del(this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const grantKey = `${prefix}grant:${grantId}`;
    const keys = await redis.lRange(grantKey, 0, -1);
    await redis.del([...keys, grantKey]);
  }
}

const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
const configuration: Configuration = {
  adapter: RedisAdapter,
  clients: [
    {
      client_id: SERVICE_CLIENT,
      client_secret: derivedSecret(required('BENCH_SALT'), 'service-secret'),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'bench' }] } as Configuration['jwks'],
  features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true } },
  ttl: { ClientCredentials: 3600 },
};

const port = Number(process.env.PORT ?? 0);
const provider = new Provider(`http://127.0.0.1:${port}`, configuration);
await serve(createServer(provider.callback()), port, async () => {
  if (redis.isOpen) await redis.quit();
});
