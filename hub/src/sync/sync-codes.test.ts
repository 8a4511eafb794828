import { decodeProtectedHeader, jwtVerify } from 'jose';
import { signSyncCode } from './sync-codes.js';

describe('sync codes (RFC 7515 compact JWS, HS256)', () => {
  const key = 'a-subsite-sync-key-0123456789abcdefghij';
  const iat = Math.floor(Date.now() / 1000);
  const input = { issuer: 'http://hub.test', clientId: 'bbs', key, act: 'login' as const, sid: 'sid-1', iat, ttlSeconds: 60 };

  test('verify with a standard JOSE library, with the right claims and header', async () => {
    const code = signSyncCode(input);
    const { payload } = await jwtVerify(code, new TextEncoder().encode(key), { issuer: 'http://hub.test', audience: 'bbs', algorithms: ['HS256'] });
    expect(payload).toMatchObject({ act: 'login', sid: 'sid-1', iat, exp: iat + 60 });
    expect(typeof payload.jti).toBe('string');
    expect(decodeProtectedHeader(code)).toEqual({ alg: 'HS256', typ: 'sync+jwt' });
  });

  test('do not verify with another subsite key, and never live longer than 60 s', async () => {
    const code = signSyncCode({ ...input, ttlSeconds: 600 });
    await expect(jwtVerify(code, new TextEncoder().encode('another-subsite-key-0123456789abcdefgh'))).rejects.toThrow();
    const { payload } = await jwtVerify(code, new TextEncoder().encode(key));
    expect(payload.exp! - payload.iat!).toBe(60);
  });

  test('carry a fresh jti each time', () => {
    const jti = (code: string) => JSON.parse(Buffer.from(code.split('.')[1]!, 'base64url').toString()).jti;
    expect(jti(signSyncCode(input))).not.toBe(jti(signSyncCode(input)));
  });
});
