import { describe, expect, it } from '@jest/globals';
import { verifySyncCode, type SyncCodeVerifier } from './sync-code.js';
import { MemoryKitStore } from './store/memory.js';
import { KitKeys } from './store/keys.js';
import { InvalidToken } from './errors.js';
import { makeSyncCode } from './test-support/sync-codes.js';
import { CLIENT_ID, HUB_URL, SYNC_KEY } from './test-support/stub-hub.js';

const OLD_KEY = 'old-sync-key-0123456789abcdef0123456789ab';

function verifier(extra: Partial<SyncCodeVerifier> = {}): SyncCodeVerifier {
  return {
    issuers: [HUB_URL, `${HUB_URL}/`],
    audience: CLIENT_ID,
    keys: [new TextEncoder().encode(SYNC_KEY)],
    clockSkewSeconds: 30,
    store: new MemoryKitStore(),
    storeKeys: new KitKeys('t:'),
    ...extra,
  };
}

const now = () => Math.floor(Date.now() / 1000);

describe('sync code verification (HS256 sync+jwt)', () => {
  it('accepts a good login code and returns its claims', async () => {
    const { code, time, jti } = await makeSyncCode({ sid: 's-9' });
    const claims = await verifySyncCode(code, time, 'login', verifier());
    expect(claims).toMatchObject({ act: 'login', sid: 's-9', jti });
  });

  it('accepts a code without time', async () => {
    const { code } = await makeSyncCode();
    await expect(verifySyncCode(code, undefined, 'login', verifier())).resolves.toMatchObject({ act: 'login' });
  });

  it('accepts the previous key during a rotation, and only when configured', async () => {
    const { code, time } = await makeSyncCode({ key: OLD_KEY });
    await expect(verifySyncCode(code, time, 'login', verifier())).rejects.toThrow(InvalidToken);
    const rotating = verifier({ keys: [new TextEncoder().encode(SYNC_KEY), new TextEncoder().encode(OLD_KEY)] });
    await expect(verifySyncCode(code, time, 'login', rotating)).resolves.toMatchObject({ act: 'login' });
  });

  const rejected: [string, () => Promise<{ code: string; time: string }>, string?][] = [
    ['forged signature (another key)', () => makeSyncCode({ key: 'attacker-key-0123456789abcdef0123456789' })],
    ['wrong audience', () => makeSyncCode({ aud: 'wiki' })],
    // docs/subsite-protocol.md §3.1: `aud` a string, and no `kid` (an outside review found both taken).
    ['audience as a list holding this client', () => makeSyncCode({ aud: [CLIENT_ID, 'wiki'] })],
    ['a kid in the header', () => makeSyncCode({ kid: 'k1' })],
    ['wrong issuer', () => makeSyncCode({ iss: 'http://evil.test' })],
    ['expired', () => makeSyncCode({ iat: now() - 200, exp: now() - 140 })],
    ['iat in the future beyond the skew', () => makeSyncCode({ iat: now() + 120, exp: now() + 150 })],
    ['lifetime over 60 s', () => makeSyncCode({ iat: now(), exp: now() + 61 })],
    ['exp before iat', () => makeSyncCode({ iat: now(), exp: now() - 1 })],
    ['wrong act', () => makeSyncCode({ act: 'logout' })],
    ['unknown act', () => makeSyncCode({ act: 'admin' })],
    ['wrong typ', () => makeSyncCode({ typ: 'JWT' })],
    ['no jti', () => makeSyncCode({ omit: ['jti'] })],
    ['no sid', () => makeSyncCode({ omit: ['sid'] })],
    ['no exp', () => makeSyncCode({ omit: ['exp'] })],
  ];
  it.each(rejected)('rejects %s', async (_name, make) => {
    const { code, time } = await make();
    await expect(verifySyncCode(code, time, 'login', verifier())).rejects.toMatchObject({ error: 'invalid_token', status: 400 });
  });

  it('a code from the future says to check the clocks, as an expired one does (an outside review: only the expired case said so)', async () => {
    const { code, time } = await makeSyncCode({ iat: now() + 120, exp: now() + 150 });
    await expect(verifySyncCode(code, time, 'login', verifier())).rejects.toThrow(/issued in the future: are the hub's and this server's clocks in sync\?/);
  });

  it('rejects a time parameter that does not match iat', async () => {
    const { code, time } = await makeSyncCode();
    await expect(verifySyncCode(code, String(Number(time) - 5), 'login', verifier())).rejects.toThrow(/time does not match iat/);
  });

  it('rejects an alg=none or garbage code', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'sync+jwt' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ iss: HUB_URL, aud: CLIENT_ID, act: 'login', sid: 's', jti: 'j', iat: now(), exp: now() + 30 })).toString('base64url');
    await expect(verifySyncCode(`${header}.${body}.`, undefined, 'login', verifier())).rejects.toThrow(InvalidToken);
    await expect(verifySyncCode('not-a-jwt', undefined, 'login', verifier())).rejects.toThrow(InvalidToken);
    await expect(verifySyncCode(undefined, undefined, 'login', verifier())).rejects.toThrow(InvalidToken);
    await expect(verifySyncCode(['a', 'b'], undefined, 'login', verifier())).rejects.toThrow(InvalidToken);
  });

  it('rejects a replayed jti, but a rejected code does not burn its jti', async () => {
    const v = verifier();
    const good = await makeSyncCode({ jti: 'once' });
    const wrongAct = await makeSyncCode({ jti: 'once', act: 'logout' });
    await expect(verifySyncCode(wrongAct.code, wrongAct.time, 'login', v)).rejects.toThrow(InvalidToken);
    await expect(verifySyncCode(good.code, good.time, 'login', v)).resolves.toBeDefined();
    await expect(verifySyncCode(good.code, good.time, 'login', v)).rejects.toThrow(/already used/);
  });

  it('tolerates a hub clock up to the skew ahead', async () => {
    const { code, time } = await makeSyncCode({ iat: now() + 20, exp: now() + 80 });
    await expect(verifySyncCode(code, time, 'login', verifier())).resolves.toBeDefined();
  });
});
