import { decodeProtectedHeader, jwtVerify } from 'jose';
import { createHmac } from 'node:crypto';
import { signSyncCode, syncCodeSigner, syncHmacKey } from './sync-codes.js';

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

  test('a page signer writes the claims byte for byte as JSON.stringify of the claims object, and signs them with HMAC-SHA256', () => {
    const issuer = 'http://hub.test/o"dd\\path';
    const sign = syncCodeSigner({ issuer, act: 'logout', sid: 'sid-1', iat, ttlSeconds: 600 });
    for (const [clientId, sid] of [['bbs', undefined], ['wiki.x-y_z', 'sid-2'], ['shop', 'sid-1']] as const) {
      const code = sign(clientId, key, sid);
      const [header, payload, signature] = code.split('.');
      const claims = Buffer.from(payload!, 'base64url').toString();
      const jti = (JSON.parse(claims) as { jti: string }).jti;
      expect(claims).toBe(JSON.stringify({ act: 'logout', sid: sid ?? 'sid-1', iss: issuer, aud: clientId, iat, exp: iat + 60, jti }));
      expect(signature).toBe(createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url'));
      // The same code's signature with the key as a key object and the audience given serialised.
      const [, samePayload, sameSignature] = sign(clientId, syncHmacKey(key), sid, JSON.stringify(clientId)).split('.');
      expect(JSON.parse(Buffer.from(samePayload!, 'base64url').toString()).aud).toBe(clientId);
      expect(sameSignature).toBe(createHmac('sha256', key).update(`${header}.${samePayload}`).digest('base64url'));
    }
  });
});
