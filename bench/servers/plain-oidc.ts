/**
 * Peer: what a team would build instead of adopting the hub. oidc-provider 9 on its own HTTP
 * server, configured like the hub where it matters for speed: the same clients (a service
 * client for client_credentials, a confidential RP with authorization_code + refresh_token),
 * tokens bound to the sign-in session, refresh-token rotation, RS256 ID tokens, the hub's
 * claims and scopes and TTLs, the account read from Redis on every use, and a Redis adapter
 * after the library's example (one key per model, a grant index, a uid index), on the same
 * node-redis client options as the hub's store (no per-command timer).
 *
 * Sign-in is not measured here: `/interaction/:uid` signs in the `login_hint` user and
 * grants the requested scopes at once (no password), so the bench can get tokens.
 */
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Adapter, type AdapterPayload, type Configuration } from 'oidc-provider';
import { loadConfig } from '../../hub/src/config.js';
import { CLAIMS } from '../../hub/src/oidc/account.js';
import { ID_TOKEN_TTL } from '../../hub/src/oidc/provider.js';
import { constructWithSharedOidcGetter } from '../../hub/src/oidc/shared-oidc-getter.js';
import { connectRedis } from '../../hub/src/store/redis.js';
import { withCounters } from '../lib/counting.js';
import { derivedSecret, required, RP_CLIENT, RP_REDIRECT, serve, SERVICE_CLIENT, username } from '../lib/fixtures.js';

const prefix = required('BENCH_PREFIX');
const salt = required('BENCH_SALT');
const userCount = Number(process.env.BENCH_USERS ?? 1);
const redis = await connectRedis(required('REDIS_URL'));
const hubDefaults = loadConfig({ LOG_LEVEL: 'silent' });
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

interface StoredAccount {
  id: string;
  username: string;
  email: string;
  name: string;
  createdAt: number;
}

const accountKey = (id: string) => `${prefix}account:${id}`;
for (let i = 0; i < userCount; i += 1) {
  const id = username(i);
  const account: StoredAccount = { id, username: id, email: `${id}@bench.test`, name: `Bench User ${i}`, createdAt: Math.floor(Date.now() / 1000) };
  await redis.set(accountKey(id), JSON.stringify(account), { expiration: { type: 'EX', value: 86_400 } });
}

const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
const configuration: Configuration = {
  adapter: RedisAdapter,
  clients: [
    {
      client_id: SERVICE_CLIENT,
      client_secret: derivedSecret(salt, 'service-secret'),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: RP_CLIENT,
      client_secret: derivedSecret(salt, 'rp-secret'),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [RP_REDIRECT],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // The account is read from Redis on every use, as the hub reads its user record.
  findAccount: async (_ctx, sub) => {
    const raw = await redis.get(accountKey(sub));
    if (!raw) return undefined;
    const user = JSON.parse(raw) as StoredAccount;
    return {
      accountId: user.id,
      claims: async () => ({ sub: user.id, email: user.email, email_verified: false, name: user.name, preferred_username: user.username, updated_at: user.createdAt }),
    };
  },
  claims: CLAIMS,
  conformIdTokenClaims: false,
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'bench' }] } as Configuration['jwks'],
  cookies: { keys: [derivedSecret(salt, 'plain-cookies')], long: { signed: true, httpOnly: true, sameSite: 'lax' }, short: { signed: true, httpOnly: true, sameSite: 'lax' } },
  pkce: { required: () => true },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
    revocation: { enabled: true },
    userinfo: { enabled: true },
  },
  ttl: {
    AccessToken: hubDefaults.HUB_ACCESS_TOKEN_TTL,
    ClientCredentials: hubDefaults.HUB_ACCESS_TOKEN_TTL,
    AuthorizationCode: 60,
    IdToken: ID_TOKEN_TTL,
    RefreshToken: hubDefaults.HUB_REFRESH_TOKEN_TTL,
    Interaction: 3600,
    Session: hubDefaults.HUB_SESSION_TTL,
    Grant: hubDefaults.HUB_CONSENT_TTL,
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
};

const port = Number(process.env.PORT ?? 0);
// BENCH_PLAIN_SHARED_GETTER=1: with the hub's fix for oidc-provider's per-request `ctx.oidc` getter
// (hub/src/oidc/shared-oidc-getter.ts), to read the hub's own cost apart from that fix. Off in `npm run bench`:
// the peer there is oidc-provider as it ships.
const provider = process.env.BENCH_PLAIN_SHARED_GETTER === '1'
  ? constructWithSharedOidcGetter(() => new Provider(`http://127.0.0.1:${port}`, configuration)).provider
  : new Provider(`http://127.0.0.1:${port}`, configuration);
const callback = provider.callback();

/** Signs in the `login_hint` user, then grants what the client asked for: no page, no password. */
async function interaction(req: Parameters<typeof callback>[0], res: Parameters<typeof callback>[1]): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    const accountId = String(details.params.login_hint ?? username(0));
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
  grant!.addOIDCScope(String(details.params.scope));
  const grantId = await grant!.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const server = createServer(withCounters((req, res) => {
  if (req.url?.startsWith('/interaction/')) {
    interaction(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
    return;
  }
  void callback(req, res);
}));
server.keepAliveTimeout = 60_000;
await serve(server, port, async () => {
  if (redis.isOpen) await redis.quit();
});
