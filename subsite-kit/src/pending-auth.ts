import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { CookieOptions, Request, Response } from 'express';
import type { ResolvedOptions } from './options.js';

/** An authorization request on its way to the hub, kept in the browser (encrypted) until the callback. */
export interface PendingAuth {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Same-origin path + query to return to. */
  returnTo: string;
  /** A `prompt=none` check (lazy verification), as opposed to an interactive login. */
  silent: boolean;
}

const PENDING_AUTH_TTL_SECONDS = 600; // ten minutes to finish at the hub

function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** RFC 7636 S256 challenge of a verifier. */
export function codeChallengeOf(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** Constant-time string comparison (for `state`). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Keeps the pending authorization request in a short-lived cookie encrypted and
 * authenticated with a key derived from the session secret (JWE `dir` + A256GCM). No server
 * session is created for an anonymous visitor, the PKCE verifier stays unreadable, and a
 * tampered cookie fails to decrypt.
 */
export class PendingAuthCookie {
  readonly #key: Uint8Array;

  constructor(private readonly options: ResolvedOptions) {
    const secret = Array.isArray(options.sessionSecret) ? options.sessionSecret[0]! : options.sessionSecret;
    this.#key = createHash('sha256').update('subsite-kit pending-auth\0').update(secret).digest();
  }

  /** A fresh request: random state, nonce and PKCE verifier. */
  create(returnTo: string, silent: boolean): PendingAuth {
    return { state: randomToken(), nonce: randomToken(), codeVerifier: randomToken(), returnTo, silent };
  }

  async write(res: Response, pending: PendingAuth): Promise<void> {
    const value = await new EncryptJWT({ ...pending })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt()
      .setExpirationTime(`${PENDING_AUTH_TTL_SECONDS}s`)
      .encrypt(this.#key);
    res.cookie(this.options.cookies.auth, value, { ...this.#cookieOptions(), maxAge: PENDING_AUTH_TTL_SECONDS * 1000 });
  }

  /** The pending request, or undefined when the cookie is absent, expired or tampered with. */
  async read(req: Request): Promise<PendingAuth | undefined> {
    const value: unknown = req.cookies?.[this.options.cookies.auth];
    if (typeof value !== 'string' || value.length === 0) return undefined;
    try {
      const { payload } = await jwtDecrypt(value, this.#key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      const { state, nonce, codeVerifier, returnTo, silent } = payload;
      if (typeof state !== 'string' || typeof nonce !== 'string' || typeof codeVerifier !== 'string' || typeof returnTo !== 'string' || typeof silent !== 'boolean') {
        return undefined;
      }
      return { state, nonce, codeVerifier, returnTo, silent };
    } catch {
      return undefined;
    }
  }

  clear(res: Response): void {
    res.clearCookie(this.options.cookies.auth, this.#cookieOptions());
  }

  #cookieOptions(): CookieOptions {
    // Lax: the hub's redirect back to the callback is a top-level GET, which carries Lax cookies.
    return { httpOnly: true, sameSite: 'lax', secure: this.options.secureCookies, path: '/' };
  }
}
