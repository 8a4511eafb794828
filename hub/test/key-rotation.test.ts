/**
 * Live signing-key rotation for a fleet (issue 9, operators 3): two hub processes on one
 * Redis prefix. After `keys rotate` both publish the new key within the check interval,
 * neither signs with it before its activation, ID tokens from either verify against the
 * other's /jwks all along, after the activation both sign with it, and the old key retires
 * on both after the longest token lifetime.
 */
import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { runCli } from '../src/cli.js';
import { connectRedis } from '../src/store/redis.js';
import { startTestHub, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';
import { basic, postForm } from './support.js';

const CHECK_MS = 200;
const ACTIVATION_DELAY_MS = 5_000;
const RETIRE_SECONDS = 5; // the longest token lifetime, for this test
const SECRET = 'legacy-app-secret-of-at-least-32-characters';
/** Clients of the ES256 and EdDSA keys, and the key type of each. */
const OTHER_KINDS = [['legacy-es', 'ES256'], ['legacy-ed', 'EdDSA']] as const;
const KTY = { RS256: 'RSA', ES256: 'EC', EdDSA: 'OKP' } as const;

describe('live signing-key rotation with two hub processes (Redis)', () => {
  const prefix = `test:rotation:${randomUUID()}:`;
  const env = {
    KEY_PREFIX: prefix,
    HUB_ISSUER: 'http://hub.rotation.test',
    HUB_STORE_CHECK_MS: String(CHECK_MS),
    HUB_KEY_ACTIVATION_DELAY_MS: String(ACTIVATION_DELAY_MS),
    HUB_SUBSITE_JWKS_REFETCH_MS: '0', // no subsite here: the test's hubs verify against each other's /jwks
    HUB_KEY_RETIRE_SECONDS: String(RETIRE_SECONDS),
    HUB_ENABLE_PASSWORD_GRANT: 'true',
    LOGIN_MAX_ATTEMPTS_PER_IP: '1000',
  };
  let a: RunningHub;
  let b: RunningHub;

  beforeAll(async () => {
    a = await startTestHub('redis', env);
    b = await startTestHub('redis', env);
    await a.services.clients.register({ clientId: 'legacy', clientSecret: SECRET, grantTypes: ['password', 'refresh_token'], trusted: true });
    // The same rotation for the other kinds of key, through clients that asked for them.
    for (const [clientId, alg] of OTHER_KINDS) {
      await a.services.clients.register({ clientId, clientSecret: SECRET, grantTypes: ['password', 'refresh_token'], trusted: true, idTokenSignedResponseAlg: alg });
    }
    await a.services.users.create({ username: 'rita', email: 'rita@example.test', password: 'rotation-pass-1' });
  });

  afterAll(async () => {
    await a.close();
    await b.close();
    const client = await connectRedis(TEST_REDIS_URL);
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*` })) if (keys.length) await client.del(keys);
    await client.quit();
  });

  /** One refresh token per process and client (a password grant once; refreshing costs no password hash). */
  const refreshTokens = new Map<string, string>();

  async function idTokenFrom(hub: RunningHub, clientId = 'legacy'): Promise<string> {
    const slot = `${hub.url} ${clientId}`;
    const refreshToken = refreshTokens.get(slot);
    const form: Record<string, string> = refreshToken
      ? { grant_type: 'refresh_token', refresh_token: refreshToken }
      : { grant_type: 'password', username: 'rita', password: 'rotation-pass-1', scope: 'openid' };
    const answer = await postForm(`${hub.url}/token`, form, { authorization: basic(clientId, SECRET) });
    expect(answer.status).toBe(200);
    refreshTokens.set(slot, String(answer.body.refresh_token));
    return String(answer.body.id_token);
  }

  async function jwksOf(hub: RunningHub): Promise<JSONWebKeySet> {
    return (await (await fetch(`${hub.url}/jwks`)).json()) as JSONWebKeySet;
  }

  /** The published kids of one key type (RSA unless said), the signing key first. */
  const kids = (set: JSONWebKeySet, kty: string = 'RSA') => set.keys.filter((key) => key.kty === kty).map((key) => key.kid);

  /** Verifies a token against the other process's /jwks as a relying party would. */
  async function verifiesAt(token: string, hub: RunningHub): Promise<boolean> {
    try {
      await jwtVerify(token, createLocalJWKSet(await jwksOf(hub)));
      return true;
    } catch {
      return false;
    }
  }

  test('publish first on every process, sign after the activation, verify everywhere throughout', async () => {
    const firstKid = kids(await jwksOf(a))[0];
    const firstOther = new Map<string, string>();
    for (const [clientId, alg] of OTHER_KINDS) {
      firstOther.set(alg, kids(await jwksOf(a), KTY[alg])[0]!);
      expect(decodeProtectedHeader(await idTokenFrom(b, clientId))).toMatchObject({ alg, kid: firstOther.get(alg) });
    }
    for (const hub of [a, b]) expect(decodeProtectedHeader(await idTokenFrom(hub)).kid).toBe(firstKid);
    expect(kids(await jwksOf(b))).toEqual([firstKid]);
    const lines: string[] = [];
    const rotatedAt = Date.now();
    expect(await runCli(['keys', 'rotate'], { REDIS_URL: TEST_REDIS_URL, ...env }, (line) => lines.push(line))).toBe(0);
    const writtenAt = Date.now(); // the new set is in the store from here on
    const newKids = new Map([...lines.join('\n').matchAll(/new signing key (\S+) \((\w+)\)/g)].map((match) => [match[2]!, match[1]!]));
    expect([...newKids.keys()].sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    const newKid = newKids.get('RS256')!;
    const stored = JSON.parse((await a.store.get(a.services.keys.signingKeys()))!) as { keys: { kid: string; activatesAt: number }[] };
    const activatesAt = stored.keys.find((key) => key.kid === newKid)!.activatesAt;
    expect(activatesAt).toBeGreaterThanOrEqual(rotatedAt + ACTIVATION_DELAY_MS);

    // Published by both processes within the check interval (plus scheduling slack), while
    // tokens are being issued by both all along.
    const published = (async () => {
      while (Date.now() - writtenAt < 3_000) {
        const [seenA, seenB] = await Promise.all([jwksOf(a), jwksOf(b)]);
        if (kids(seenA).includes(newKid) && kids(seenB).includes(newKid)) return Date.now();
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return 0;
    })();

    // Until the activation: the old key signs, on both; every token verifies at the other process.
    const seen: { kid: string; doneAt: number; verified: boolean }[] = [];
    let turn = 0;
    while (Date.now() < activatesAt + CHECK_MS * 4) {
      const [from, other] = turn++ % 2 === 0 ? [a, b] : [b, a];
      const token = await idTokenFrom(from);
      const doneAt = Date.now();
      seen.push({ kid: String(decodeProtectedHeader(token).kid), doneAt, verified: await verifiesAt(token, other) });
    }
    const publishedBoth = await published;
    expect(publishedBoth).toBeGreaterThan(0);
    // Within seconds (a check interval plus scheduling on a loaded machine), and before the activation.
    expect(publishedBoth - writtenAt).toBeLessThan(3_000);
    expect(publishedBoth).toBeLessThan(activatesAt);
    expect(seen.every((token) => token.verified)).toBe(true);
    const before = seen.filter((token) => token.doneAt < activatesAt);
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(before.map((token) => token.kid)).toEqual(before.map(() => firstKid));
    expect(seen.at(-1)!.kid).toBe(newKid);

    // After the activation both sign with the new key; the old one stays published.
    for (const hub of [a, b]) {
      const token = await idTokenFrom(hub);
      expect(decodeProtectedHeader(token).kid).toBe(newKid);
      expect(await verifiesAt(token, hub === a ? b : a)).toBe(true);
      expect(kids(await jwksOf(hub))).toEqual([newKid, firstKid]);
      for (const [clientId, alg] of OTHER_KINDS) {
        const other = await idTokenFrom(hub, clientId);
        expect(decodeProtectedHeader(other)).toMatchObject({ alg, kid: newKids.get(alg) });
        expect(await verifiesAt(other, hub === a ? b : a)).toBe(true);
        expect(kids(await jwksOf(hub), KTY[alg])).toEqual([newKids.get(alg), firstOther.get(alg)]);
      }
    }

    // The replaced key retires on both once the new one has signed for the longest token lifetime.
    const retiresAt = activatesAt + RETIRE_SECONDS * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, retiresAt - Date.now() - 300)));
    expect(kids(await jwksOf(a))).toContain(firstKid);
    await new Promise((resolve) => setTimeout(resolve, 300 + CHECK_MS * 3));
    expect(kids(await jwksOf(a))).toEqual([newKid]);
    expect(kids(await jwksOf(b))).toEqual([newKid]);
    for (const [, alg] of OTHER_KINDS) expect(kids(await jwksOf(b), KTY[alg])).toEqual([newKids.get(alg)]);
  }, 30_000);
});
