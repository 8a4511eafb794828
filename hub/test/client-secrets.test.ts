import { createHmac } from 'node:crypto';
import { runCli } from '../src/cli.js';
import { ClientRegistry } from '../src/clients/client-registry.js';
import { matchClientSecret, secretDigest } from '../src/clients/client-secret.js';
import type { SubsiteClient } from '../src/clients/client.js';
import { applySeed, parseSeed } from '../src/seed.js';
import { captureLogger } from '../src/testing/capture-logger.js';
import { startTestHub, TEST_REDIS_URL, type RunningHub } from '../src/testing/test-hub.js';
import { scanKeys, type RedisClient } from '../src/store/redis-client.js';
import type { RedisStore } from '../src/store/redis.js';
import { basic, postForm } from './support.js';

/** Every value stored under the hub's prefix, whatever its type, as text: to search for a secret. */
async function everyStoredValue(hub: RunningHub): Promise<string> {
  const client = (hub.store as RedisStore).client as RedisClient;
  const redis = client as unknown as {
    type(key: string): Promise<string>;
    get(key: string): Promise<string | null>;
    hGetAll(key: string): Promise<Record<string, string>>;
    sMembers(key: string): Promise<string[]>;
    zRange(key: string, start: number, stop: number): Promise<string[]>;
    lRange(key: string, start: number, stop: number): Promise<string[]>;
  };
  const values: string[] = [];
  for await (const keys of scanKeys(client, `${hub.config.KEY_PREFIX}*`)) {
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'string') values.push((await redis.get(key)) ?? '');
      else if (type === 'hash') values.push(JSON.stringify(await redis.hGetAll(key)));
      else if (type === 'set') values.push(...(await redis.sMembers(key)));
      else if (type === 'zset') values.push(...(await redis.zRange(key, 0, -1)));
      else if (type === 'list') values.push(...(await redis.lRange(key, 0, -1)));
      else values.push(`(unread ${type} ${key})`);
    }
  }
  return `${values.join('\n')}\n(keys: ${values.length})`;
}

const clientCredentials = (hub: RunningHub, clientId: string, secret: string, how: 'basic' | 'post' = 'basic') =>
  how === 'basic'
    ? postForm(`${hub.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic(clientId, secret) })
    : postForm(`${hub.url}/token`, { grant_type: 'client_credentials', client_id: clientId, client_secret: secret });

const SERVICE = { grantTypes: ['client_credentials' as const] };

describe('client secrets: hashed at rest (RFC 6819 §5.1.4.1.3), rotation with overlap (redis)', () => {
  let hub: RunningHub;
  const logged = captureLogger();
  const run = async (...argv: string[]) => {
    const lines: string[] = [];
    const code = await runCli(argv, { REDIS_URL: TEST_REDIS_URL, KEY_PREFIX: hub.config.KEY_PREFIX }, (line) => lines.push(line), (line) => lines.push(line));
    return { code, out: lines.join('\n') };
  };

  beforeAll(async () => {
    hub = await startTestHub('redis', {}, undefined, logged.logger);
  });
  afterAll(() => hub.close());

  test('the store holds no client secret after a registration, a rotation (with and without overlap) and a seed', async () => {
    const { clientSecret: registered } = await hub.services.clients.register({ clientId: 'at-rest', ...SERVICE });
    const { clientSecret: rotated } = await hub.services.clients.rotateSecret('at-rest');
    const { clientSecret: overlapped } = await hub.services.clients.rotateSecret('at-rest', { overlapSeconds: 600 });
    const report = await applySeed(parseSeed('clients:\n  - clientId: seeded\n    grantTypes: [client_credentials]\n  - clientId: given\n    grantTypes: [client_credentials]\n    clientSecret: a-given-secret-of-more-than-32-characters\n'), hub.services);
    const seeded = report.generated[0]!.clientSecret!;
    const added = /client secret \(shown once\): (\S+)/.exec((await run('clients', 'add', '--id', 'cli-added', '--grant', 'client_credentials')).out)![1]!;
    const stored = await everyStoredValue(hub);
    for (const secret of [registered!, rotated, overlapped, seeded, 'a-given-secret-of-more-than-32-characters', added]) {
      expect(secret.length).toBeGreaterThanOrEqual(32);
      expect(stored).not.toContain(secret);
    }
    // Each still authenticates: the digest is what is kept.
    expect((await clientCredentials(hub, 'at-rest', overlapped)).status).toBe(200);
    expect((await clientCredentials(hub, 'seeded', seeded)).status).toBe(200);
    expect((await clientCredentials(hub, 'given', 'a-given-secret-of-more-than-32-characters')).status).toBe(200);
    // Written by the CLI: the hub's client cache sees it within a second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await clientCredentials(hub, 'cli-added', added)).status).toBe(200);
  });

  test('client_credentials with Basic and with the form body; a wrong secret of the same or another length is refused (401, WWW-Authenticate)', async () => {
    const { clientSecret: basicSecret } = await hub.services.clients.register({ clientId: 'by-basic', ...SERVICE });
    const { clientSecret: postSecret } = await hub.services.clients.register({ clientId: 'by-post', ...SERVICE, tokenEndpointAuthMethod: 'client_secret_post' });
    expect((await clientCredentials(hub, 'by-basic', basicSecret!)).status).toBe(200);
    expect((await clientCredentials(hub, 'by-post', postSecret!, 'post')).status).toBe(200);
    const sameLength = `${basicSecret!.slice(0, -1)}${basicSecret!.endsWith('A') ? 'B' : 'A'}`;
    for (const wrong of [sameLength, basicSecret!.slice(0, -1), `${basicSecret!}x`, 'short']) {
      const refused = await clientCredentials(hub, 'by-basic', wrong);
      expect([refused.status, refused.body.error]).toEqual([401, 'invalid_client']);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    const postRefused = await clientCredentials(hub, 'by-post', `${postSecret!.slice(0, -1)}${postSecret!.endsWith('A') ? 'B' : 'A'}`, 'post');
    expect([postRefused.status, postRefused.body.error]).toEqual([401, 'invalid_client']);
  });

  test('oidc-provider holds no usable key: its client_secret is neither the secret nor its digest, no symmetric key is built, client_secret_jwt is refused', async () => {
    const { clientSecret } = await hub.services.clients.register({ clientId: 'no-hs', ...SERVICE });
    const client = (await hub.services.provider.Client.find('no-hs'))!;
    expect(client.clientSecret).not.toBe(clientSecret);
    expect(client.clientSecret).not.toContain(secretDigest(clientSecret!).slice(7));
    expect([...(client as unknown as { symmetricKeyStore: Iterable<unknown> }).symmetricKeyStore]).toEqual([]);
    // oidc-provider's own expiry check, run before the comparison, finds no client_secret_expires_at and lets it go on.
    expect(client.clientSecretExpiresAt ?? 0).toBe(0);
    expect(() => (client as unknown as { checkClientSecretExpiration(message: string): void }).checkClientSecretExpiration('expired')).not.toThrow();
    // An HS256 assertion signed with the real secret (client_secret_jwt) does not authenticate.
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iss: 'no-hs', sub: 'no-hs', aud: `${hub.url}/token`, jti: String(now), iat: now, exp: now + 60 })}`;
    const assertion = `${input}.${createHmac('sha256', clientSecret!).update(input).digest('base64url')}`;
    const refused = await postForm(`${hub.url}/token`, { grant_type: 'client_credentials', client_id: 'no-hs', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe('invalid_client');
    // Nor can such a client, or an HS* ID token, be registered.
    expect(() => ClientRegistry.build({ clientId: 'jwt', ...SERVICE, tokenEndpointAuthMethod: 'client_secret_jwt' as never })).toThrow(/client_secret_basic, client_secret_post, none/);
    expect(() => ClientRegistry.build({ clientId: 'hs', ...SERVICE, idTokenSignedResponseAlg: 'HS256' as never })).toThrow(/RS256, ES256, EdDSA/);
    const discovery = (await (await fetch(`${hub.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(JSON.stringify(discovery)).not.toMatch(/HS256|client_secret_jwt/);
  });

  test('rotation without overlap: the old secret stops at once; with an overlap both work until its end, then only the new one', async () => {
    const { clientSecret: first } = await hub.services.clients.register({ clientId: 'rotating', ...SERVICE });
    const { clientSecret: second } = await hub.services.clients.rotateSecret('rotating');
    expect((await clientCredentials(hub, 'rotating', first!)).status).toBe(401);
    expect((await clientCredentials(hub, 'rotating', second)).status).toBe(200);

    const { clientSecret: third, client } = await hub.services.clients.rotateSecret('rotating', { overlapSeconds: 2 });
    const endsAt = client.previousSecret!.validUntil * 1000;
    expect(endsAt).toBeGreaterThan(Date.now());
    expect((await clientCredentials(hub, 'rotating', third)).status).toBe(200);
    expect((await clientCredentials(hub, 'rotating', second, 'basic')).status).toBe(200);
    expect((await clientCredentials(hub, 'rotating', first!)).status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, endsAt - Date.now() + 20));
    expect((await clientCredentials(hub, 'rotating', second)).status).toBe(401);
    expect((await clientCredentials(hub, 'rotating', third)).status).toBe(200);
    // Dropped at the next write.
    expect((await hub.services.clients.findUncached('rotating'))!.previousSecret).toBeDefined();
    await hub.services.clients.update('rotating', { name: 'Rotating' });
    expect((await hub.services.clients.findUncached('rotating'))!.previousSecret).toBeUndefined();
  });

  test('the previous secret stops exactly at the end of the overlap', () => {
    const client: Pick<SubsiteClient, 'clientSecretDigest' | 'previousSecret'> = { clientSecretDigest: secretDigest('n'.repeat(32)), previousSecret: { digest: secretDigest('o'.repeat(32)), validUntil: 2_000_000_000 } };
    expect(matchClientSecret(client, 'o'.repeat(32), 2_000_000_000_000 - 1)).toBe('previous');
    expect(matchClientSecret(client, 'o'.repeat(32), 2_000_000_000_000)).toBe(false);
    expect(matchClientSecret(client, 'n'.repeat(32), 2_000_000_000_000)).toBe('current');
    expect(matchClientSecret(client, 'x'.repeat(32), 0)).toBe(false);
    expect(matchClientSecret(client, undefined, 0)).toBe(false);
  });

  test('a second rotation inside an overlap keeps the secret it replaces as the previous one and stops the one before', async () => {
    const { clientSecret: first } = await hub.services.clients.register({ clientId: 'twice', ...SERVICE });
    const { clientSecret: second } = await hub.services.clients.rotateSecret('twice', { overlapSeconds: 600 });
    const again = await hub.services.clients.rotateSecret('twice', { overlapSeconds: 300 });
    expect(again.droppedPrevious?.digest).toBe(secretDigest(first!));
    expect(again.client.previousSecret?.digest).toBe(secretDigest(second));
    expect((await clientCredentials(hub, 'twice', first!)).status).toBe(401);
    expect((await clientCredentials(hub, 'twice', second)).status).toBe(200);
    expect((await clientCredentials(hub, 'twice', again.clientSecret)).status).toBe(200);
    // Ended early: only the current secret.
    await hub.services.clients.endSecretOverlap('twice');
    expect((await clientCredentials(hub, 'twice', second)).status).toBe(401);
    expect((await clientCredentials(hub, 'twice', again.clientSecret)).status).toBe(200);
    await expect(hub.services.clients.endSecretOverlap('twice')).rejects.toThrow(/no previous secret still valid/);
  });

  test('each use of the previous secret is logged at warn once a minute per client, naming the client and the end, never the secret', async () => {
    const { clientSecret: old } = await hub.services.clients.register({ clientId: 'laggard', ...SERVICE });
    const { client } = await hub.services.clients.rotateSecret('laggard', { overlapSeconds: 600 });
    logged.lines.length = 0;
    for (let i = 0; i < 3; i += 1) expect((await clientCredentials(hub, 'laggard', old!)).status).toBe(200);
    const warnings = logged.lines.filter((line) => line.level === 'warn' && line.fields.client === 'laggard');
    expect(warnings).toEqual([{ level: 'warn', message: expect.stringMatching(/previous secret/), fields: { client: 'laggard', previousSecretValidUntil: new Date(client.previousSecret!.validUntil * 1000).toISOString() } }]);
    expect(JSON.stringify(logged.lines)).not.toContain(old!);
  });

  /** Writes a client record as an older hub process does (its registry's one versioned write): the running hub reloads it within a second. */
  const writeAsOlderHub = async (record: SubsiteClient) => {
    const keys = hub.services.keys;
    await hub.store.versionedWrite(
      [{ op: 'set', key: keys.client(record.clientId), value: JSON.stringify(record) }, { op: 'setAdd', key: keys.clients(), member: record.clientId }],
      { versionKey: keys.clientsVersion(), logKey: keys.clientsChanges(), entry: record.clientId, keep: 10_000, trimEvery: 100, epoch: { key: keys.clientsEpoch(), value: 'older' } },
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
  };

  test('a record an older hub wrote (secret in clear) authenticates unchanged; hash-secrets leaves only its digest', async () => {
    const { clientSecret } = await hub.services.clients.register({ clientId: 'legacy', ...SERVICE });
    // As the version before wrote it: the secret in clear, no digest.
    const { clientId, clientSecretDigest: _digest, ...record } = (await hub.services.clients.findUncached('legacy'))!;
    await writeAsOlderHub({ clientId, clientSecret, ...record }); // (its field order)
    expect((await clientCredentials(hub, 'legacy', clientSecret!)).status).toBe(200);
    expect((await clientCredentials(hub, 'legacy', `${clientSecret!}x`)).status).toBe(401);
    expect((await clientCredentials(hub, 'legacy', `${clientSecret!.slice(0, -1)}${clientSecret!.endsWith('A') ? 'B' : 'A'}`)).status).toBe(401);
    expect((await hub.services.clients.findUncached('legacy'))!.clientSecret).toBe(clientSecret);
    expect((await run('clients', 'show', 'legacy')).out).toMatch(/secret: stored in clear by an older hub/);
    // Applied again as it is (every start re-applies the hub's own client): nothing written. A
    // digest added here and dropped by an older process's next write would rewrite the record
    // at every store check of both while a rolling update lasts.
    const raw = await hub.store.get(hub.services.keys.client('legacy'));
    const version = await hub.store.get(hub.services.keys.clientsVersion());
    await hub.services.clients.upsert({ clientId: 'legacy' });
    expect([await hub.store.get(hub.services.keys.client('legacy')), await hub.store.get(hub.services.keys.clientsVersion())]).toEqual([raw, version]);

    const hashed = await run('clients', 'hash-secrets');
    expect(hashed.code).toBe(0);
    expect(hashed.out).toMatch(/hashed the secrets of 1 client\(s\): legacy/);
    expect(hashed.out).not.toContain(clientSecret!);
    const after = (await hub.services.clients.findUncached('legacy'))!;
    expect([after.clientSecret, after.clientSecretDigest]).toEqual([undefined, secretDigest(clientSecret!)]);
    expect(await everyStoredValue(hub)).not.toContain(clientSecret!);
    // The running hub reloads the record (its cache is checked once a second).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await clientCredentials(hub, 'legacy', clientSecret!)).status).toBe(200);
    const again = (await run('clients', 'hash-secrets')).out;
    expect(again).toMatch(/no client secret was stored in clear: nothing to do/);
    expect(again).not.toMatch(/can no longer authenticate/); // nothing changed: no warning that reads as a contradiction
    expect(hashed.out).toMatch(/older version can no longer authenticate these clients/);
  });

  test('an older process\'s rotation of a record holding both (it replaces the clear secret, carries the rest over): the new secret works, the replaced one and an overlap\'s previous one not', async () => {
    const { clientSecret: first } = await hub.services.clients.register({ clientId: 'rotated-by-older', ...SERVICE });
    const { clientSecret: replaced } = await hub.services.clients.rotateSecret('rotated-by-older', { overlapSeconds: 600 });
    // As on a store older processes may still read: the clear secret beside its digest.
    const stored = { ...(await hub.services.clients.findUncached('rotated-by-older'))!, clientSecret: replaced };
    const fromOlder = 'a-secret-an-older-hub-rotated-in-0123456789';
    // The older hub's rotateSecret: `{ ...existing, clientSecret: generateSecret() }`.
    await writeAsOlderHub({ ...stored, clientSecret: fromOlder });
    expect((await clientCredentials(hub, 'rotated-by-older', fromOlder)).status).toBe(200);
    expect((await clientCredentials(hub, 'rotated-by-older', replaced!)).status).toBe(401);
    // The older rotation stops every other secret (it knows no overlap): the previous one too.
    expect((await clientCredentials(hub, 'rotated-by-older', first!)).status).toBe(401);
    // A change here keeps it, with its own digest.
    await hub.services.clients.upsert({ clientId: 'rotated-by-older', name: 'Renamed' });
    expect((await hub.services.clients.findUncached('rotated-by-older'))!.clientSecretDigest).toBe(secretDigest(fromOlder));
    expect((await clientCredentials(hub, 'rotated-by-older', fromOlder)).status).toBe(200);
  });

  test('a store older hubs may still read (clients written before, not yet marked): new and rotated secrets keep a clear copy for them until hash-secrets', async () => {
    const { store, keys } = hub.services;
    const marked = await store.get(keys.clientSecretsHashed());
    expect(marked).toBeTruthy(); // a fresh store: marked at its first client write
    await store.del(keys.clientSecretsHashed());
    try {
      // A process of this version on an upgraded store (clients written by an older hub, no mark).
      const upgraded = new ClientRegistry(store, keys);
      const { clientSecret } = await upgraded.register({ clientId: 'mixed', ...SERVICE });
      const stored = (await upgraded.findUncached('mixed'))!;
      // An older process reads `clientSecret`; this version checks the digest.
      expect([stored.clientSecret, stored.clientSecretDigest]).toEqual([clientSecret, secretDigest(clientSecret!)]);
      const rotated = await upgraded.rotateSecret('mixed', { overlapSeconds: 600 });
      expect((await upgraded.findUncached('mixed'))!.clientSecret).toBe(rotated.clientSecret);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await clientCredentials(hub, 'mixed', rotated.clientSecret)).status).toBe(200);
      expect((await clientCredentials(hub, 'mixed', clientSecret!)).status).toBe(200);
      expect(await upgraded.hashClearSecrets()).toContain('mixed');
      const hashed = (await upgraded.findUncached('mixed'))!;
      expect([hashed.clientSecret, hashed.previousSecret?.digest]).toEqual([undefined, secretDigest(clientSecret!)]);
      // Marked: this registry and a new one write digests only from now on.
      expect(await store.get(keys.clientSecretsHashed())).toBeTruthy();
      const { clientSecret: later } = await new ClientRegistry(store, keys).register({ clientId: 'mixed-later', ...SERVICE });
      expect((await upgraded.findUncached('mixed-later'))!.clientSecret).toBeUndefined();
      expect(await everyStoredValue(hub)).not.toContain(later!);
    } finally {
      await store.set(keys.clientSecretsHashed(), marked!);
    }
  });
});
