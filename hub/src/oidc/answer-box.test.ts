import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { seal, unseal } from './answer-box.js';

const TOKEN = 'rt-0123456789abcdefghijklmnopqrstuvwxyzABCDE';
const ANSWER = { access_token: 'at', refresh_token: 'rt2', token_type: 'Bearer', expires_in: 3600 };

/** A box as the hub sealed it before the HMAC key (HKDF-derived, no prefix). */
function legacyBox(secret: string, body: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(hkdfSync('sha256', secret, 'sso-hub', 'redemption answer', 32)), iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(body), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

describe('recorded redemption answers', () => {
  it('open only with the code or token they were sealed with', () => {
    const box = seal(TOKEN, JSON.stringify(ANSWER));
    expect(box).not.toContain('access_token');
    expect(unseal(TOKEN, box)).toEqual(ANSWER);
    expect(() => unseal(`${TOKEN}x`, box)).toThrow();
  });

  it('a box sealed before the upgrade (HKDF key) still opens, so a retry across a deploy gets its answer', () => {
    expect(unseal(TOKEN, legacyBox(TOKEN, ANSWER))).toEqual(ANSWER);
    expect(() => unseal(`${TOKEN}x`, legacyBox(TOKEN, ANSWER))).toThrow();
  });
});
