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
  /** A silent re-check of a signed-in session: its answer decides whether that session stays. */
  recheck?: true;
  /** When it was started (epoch seconds), on a request read back from the cookie. */
  startedAt?: number;
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
 * How many authorization requests a browser may have pending at once: a sign-in started in a
 * second tab (or a silent check on another page) does not void the first tab's, so each tab's
 * answer finds its own request. Bounded, so the cookie stays small (about 350 bytes each).
 */
export const MAX_PENDING = 4;

/** Bytes of pending requests (JSON) one cookie holds: encrypted and encoded, under 4 KB. */
const MAX_PLAINTEXT_BYTES = 2_800;

/** A pending request with when it stops being good (seconds since the epoch). */
type Entry = PendingAuth & { exp: number };

function isEntry(value: unknown): value is Entry {
  const { state, nonce, codeVerifier, returnTo, silent, exp } = (value ?? {}) as Record<string, unknown>;
  return typeof state === 'string' && typeof nonce === 'string' && typeof codeVerifier === 'string' && typeof returnTo === 'string' && typeof silent === 'boolean' && typeof exp === 'number';
}

function strip({ state, nonce, codeVerifier, returnTo, silent, recheck, exp }: Entry): PendingAuth {
  return { state, nonce, codeVerifier, returnTo, silent, ...(recheck === true ? { recheck } : {}), startedAt: exp - PENDING_AUTH_TTL_SECONDS };
}

/**
 * Keeps the browser's pending authorization requests (newest first, at most MAX_PENDING, each
 * good for ten minutes) in one short-lived cookie, encrypted and authenticated with a key
 * derived from the session secret (JWE `dir` + A256GCM). No server session is created for an
 * anonymous visitor, the PKCE verifiers stay unreadable, and a tampered cookie fails to decrypt.
 * The callback takes out the request its `state` names and leaves the others for their tabs.
 */
export class PendingAuthCookie {
  readonly #key: Uint8Array;

  constructor(private readonly options: ResolvedOptions) {
    const secret = Array.isArray(options.sessionSecret) ? options.sessionSecret[0]! : options.sessionSecret;
    this.#key = createHash('sha256').update('subsite-kit pending-auth\0').update(secret).digest();
  }

  /** A fresh request: random state, nonce and PKCE verifier. */
  create(returnTo: string, silent: boolean, recheck = false): PendingAuth {
    return { state: randomToken(), nonce: randomToken(), codeVerifier: randomToken(), returnTo, silent, ...(recheck ? { recheck: true as const } : {}) };
  }

  /** Adds a request to those this browser has pending (the oldest beyond MAX_PENDING is dropped). */
  async add(req: Request, res: Response, pending: PendingAuth): Promise<void> {
    const exp = Math.floor(Date.now() / 1000) + PENDING_AUTH_TTL_SECONDS;
    const { startedAt: _read, ...fresh } = pending;
    const kept: Entry[] = [{ ...fresh, exp }];
    // The newest always; older ones while the cookie stays under browsers' 4 KB (long return paths).
    for (const older of (await this.#entries(req)).slice(0, MAX_PENDING - 1)) {
      if (JSON.stringify([...kept, older]).length > MAX_PLAINTEXT_BYTES) break;
      kept.push(older);
    }
    await this.#write(res, kept);
  }

  /** The newest pending request, or undefined when there is none (absent, expired or tampered with). */
  async newest(req: Request): Promise<PendingAuth | undefined> {
    const [first] = await this.#entries(req);
    return first ? strip(first) : undefined;
  }

  /**
   * Takes out the pending request whose state is `state` and keeps the others. `found` is false
   * when the browser has none at all (not started here, or too long ago), as opposed to none
   * with this state (an answer meant for another browser).
   */
  async take(req: Request, res: Response, state: unknown): Promise<{ pending?: PendingAuth; found: boolean }> {
    const entries = await this.#entries(req);
    const match = typeof state === 'string' ? entries.find((entry) => safeEqual(entry.state, state)) : undefined;
    const rest = entries.filter((entry) => entry !== match);
    if (rest.length === 0) this.clear(res);
    else if (match) await this.#write(res, rest);
    return { ...(match ? { pending: strip(match) } : {}), found: entries.length > 0 };
  }

  /** Drops the pending silent checks, keeping interactive sign-ins other tabs are in the middle of. */
  async dropSilent(req: Request, res: Response): Promise<void> {
    const rest = (await this.#entries(req)).filter((entry) => !entry.silent);
    if (rest.length === 0) this.clear(res);
    else await this.#write(res, rest);
  }

  clear(res: Response): void {
    res.clearCookie(this.options.cookies.auth, this.#cookieOptions());
  }

  async #write(res: Response, entries: Entry[]): Promise<void> {
    const value = await new EncryptJWT({ pending: entries })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt()
      .setExpirationTime(`${PENDING_AUTH_TTL_SECONDS}s`)
      .encrypt(this.#key);
    res.cookie(this.options.cookies.auth, value, { ...this.#cookieOptions(), maxAge: PENDING_AUTH_TTL_SECONDS * 1000 });
  }

  /** The requests still good, newest first; none when the cookie is absent, expired or tampered with. */
  async #entries(req: Request): Promise<Entry[]> {
    const value: unknown = req.cookies?.[this.options.cookies.auth];
    if (typeof value !== 'string' || value.length === 0) return [];
    try {
      const { payload } = await jwtDecrypt(value, this.#key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      // A cookie written before several could be pending holds one request, good until the JWE's exp.
      const list: unknown[] = Array.isArray(payload.pending) ? payload.pending : [{ ...payload }];
      const now = Math.floor(Date.now() / 1000);
      return list.filter(isEntry).filter((entry) => entry.exp > now).slice(0, MAX_PENDING);
    } catch {
      return [];
    }
  }

  #cookieOptions(): CookieOptions {
    // Lax: the hub's redirect back to the callback is a top-level GET, which carries Lax cookies.
    return { httpOnly: true, sameSite: 'lax', secure: this.options.secureCookies, path: '/' };
  }
}
