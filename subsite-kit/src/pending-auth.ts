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
 * answer finds its own request. Bounded, so the browser's cookies stay few and small (about 500
 * bytes each).
 */
export const MAX_PENDING = 4;

/** Bytes of pending requests (JSON) kept at once: their cookies together stay under 4 KB or so. */
const MAX_PLAINTEXT_BYTES = 2_800;

/**
 * The start of a silent check's `state` (`prompt=none`): the callback can tell a silent answer
 * whose request it no longer has from an interactive one. Not a secret, and nothing is granted on
 * it: a forged one only turns a 400 page into a redirect to the site's home page.
 */
const SILENT_STATE_PREFIX = 'none.';

/** Whether `state` is that of a silent check (see {@link SILENT_STATE_PREFIX}). */
export function isSilentState(state: unknown): boolean {
  return typeof state === 'string' && state.startsWith(SILENT_STATE_PREFIX);
}

/** The short, non-secret id of a request's cookie: the first 12 base64url characters of SHA-256(state). */
function cookieIdOf(state: string): string {
  return createHash('sha256').update(state).digest('base64url').slice(0, 12);
}

const COOKIE_ID = /^[A-Za-z0-9_-]{12}$/;

/** A pending request with when it stops being good (seconds since the epoch), and when it started (ms, for the order; not in the old cookie). */
type Entry = PendingAuth & { exp: number; at?: number };

/** Newest first: by the start in ms, so requests of one second keep the order they were started in. */
function newestFirst(a: Entry, b: Entry): number {
  return startOf(b) - startOf(a);
}

function startOf(entry: Entry): number {
  return typeof entry.at === 'number' ? entry.at : (entry.exp - PENDING_AUTH_TTL_SECONDS) * 1000;
}

let lastStart = 0;

/** Now in ms, never twice the same in this process: two requests started in one ms still have an order. */
function startNow(): number {
  lastStart = Math.max(Date.now(), lastStart + 1);
  return lastStart;
}

/** One of this browser's pending-request cookies: its name, and its request when it is still good. */
interface Held {
  name: string;
  entry?: Entry;
}

function isEntry(value: unknown): value is Entry {
  const { state, nonce, codeVerifier, returnTo, silent, exp } = (value ?? {}) as Record<string, unknown>;
  return typeof state === 'string' && typeof nonce === 'string' && typeof codeVerifier === 'string' && typeof returnTo === 'string' && typeof silent === 'boolean' && typeof exp === 'number';
}

function strip({ state, nonce, codeVerifier, returnTo, silent, recheck, exp }: Entry): PendingAuth {
  return { state, nonce, codeVerifier, returnTo, silent, ...(recheck === true ? { recheck } : {}), startedAt: exp - PENDING_AUTH_TTL_SECONDS };
}

function size(entry: Entry): number {
  return JSON.stringify(entry).length;
}

/**
 * Keeps each of the browser's pending authorization requests (at most MAX_PENDING, each good for
 * ten minutes) in a short-lived cookie of its own, `<auth>.<id>` where the id is a hash of the
 * request's state, encrypted and authenticated with a key derived from the session secret (JWE
 * `dir` + A256GCM). No server session is created for an anonymous visitor, the PKCE verifiers
 * stay unreadable, and a tampered cookie fails to decrypt. One cookie per request, because tabs
 * opened together (a browser restoring its session, several sites opened after a sign-in at the
 * hub) start their requests with the same cookies: each answer sets only its own cookie, so none
 * overwrites another's request. The callback reads and deletes the one cookie its `state` names.
 *
 * The single cookie of earlier versions (`<auth>`, a list of requests) is still read, so a
 * sign-in started before the upgrade completes; it is deleted where it is seen, its other
 * requests moved to cookies of their own.
 */
export class PendingAuthCookie {
  readonly #key: Uint8Array;

  constructor(private readonly options: ResolvedOptions) {
    const secret = Array.isArray(options.sessionSecret) ? options.sessionSecret[0]! : options.sessionSecret;
    this.#key = createHash('sha256').update('subsite-kit pending-auth\0').update(secret).digest();
  }

  /** A fresh request: random state (marked for a silent check), nonce and PKCE verifier. */
  create(returnTo: string, silent: boolean, recheck = false): PendingAuth {
    const state = `${silent ? SILENT_STATE_PREFIX : ''}${randomToken()}`;
    return { state, nonce: randomToken(), codeVerifier: randomToken(), returnTo, silent, ...(recheck ? { recheck: true as const } : {}) };
  }

  /**
   * Adds a request in a cookie of its own. The browser's other pending requests stay, the newest
   * first while they are fewer than MAX_PENDING and small enough together; the cookies of the
   * oldest beyond that (and of any that no longer decrypt or have expired) are deleted.
   */
  async add(req: Request, res: Response, pending: PendingAuth): Promise<void> {
    const exp = Math.floor(Date.now() / 1000) + PENDING_AUTH_TTL_SECONDS;
    const { startedAt: _read, ...fresh } = pending;
    const entry: Entry = { ...fresh, exp, at: startNow() };
    await this.#write(res, entry);
    const { held, legacy } = await this.#held(req);
    const older = [...held.filter((one) => one.entry !== undefined), ...legacy.map((one) => ({ entry: one }))]
      .sort((a, b) => newestFirst(a.entry!, b.entry!));
    let bytes = size(entry);
    let kept = 1;
    const moved: Entry[] = [];
    for (const one of older) {
      const fits = kept < MAX_PENDING && bytes + size(one.entry!) <= MAX_PLAINTEXT_BYTES;
      if (fits) {
        kept += 1;
        bytes += size(one.entry!);
        if (!('name' in one)) moved.push(one.entry!);
      } else if ('name' in one) this.#delete(res, one.name);
    }
    for (const one of held) if (one.entry === undefined) this.#delete(res, one.name);
    await this.#dropLegacy(req, res, moved);
  }

  /** The newest pending request, or undefined when there is none (absent, expired or tampered with). */
  async newest(req: Request): Promise<PendingAuth | undefined> {
    const { held, legacy } = await this.#held(req);
    const entries = [...held.flatMap((one) => (one.entry ? [one.entry] : [])), ...legacy];
    const first = entries.sort(newestFirst)[0];
    return first ? strip(first) : undefined;
  }

  /**
   * Takes out the pending request whose state is `state`: reads the one cookie that state names
   * and deletes it, leaving the others for their tabs. `found` is false when the browser has no
   * pending request at all (not started here, or too long ago), as opposed to none with this
   * state (an answer meant for another browser, or a request no longer kept).
   */
  async take(req: Request, res: Response, state: unknown): Promise<{ pending?: PendingAuth; found: boolean }> {
    let match: Entry | undefined;
    if (typeof state === 'string' && state.length > 0) {
      const name = this.#nameOf(state);
      const value: unknown = req.cookies?.[name];
      if (value !== undefined) {
        this.#delete(res, name);
        const [entry] = await this.#decrypt(value);
        if (entry && safeEqual(entry.state, state)) match = entry;
      }
    }
    // A request started before the upgrade, in the single cookie of earlier versions.
    const legacy = await this.#legacy(req);
    if (!match && typeof state === 'string') match = legacy.find((entry) => safeEqual(entry.state, state));
    await this.#dropLegacy(req, res, legacy.filter((entry) => entry !== match));
    if (match) return { pending: strip(match), found: true };
    const { held } = await this.#held(req);
    return { found: legacy.length > 0 || held.some((one) => one.entry !== undefined) };
  }

  /** Drops the pending silent checks, keeping interactive sign-ins other tabs are in the middle of. */
  async dropSilent(req: Request, res: Response): Promise<void> {
    const { held, legacy } = await this.#held(req);
    for (const one of held) if (one.entry === undefined || one.entry.silent) this.#delete(res, one.name);
    await this.#dropLegacy(req, res, legacy.filter((entry) => !entry.silent));
  }

  #nameOf(state: string): string {
    return `${this.options.cookies.auth}.${cookieIdOf(state)}`;
  }

  async #write(res: Response, entry: Entry): Promise<void> {
    const { exp: _exp, ...claims } = entry;
    const value = await new EncryptJWT({ ...claims })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt()
      .setExpirationTime(entry.exp)
      .encrypt(this.#key);
    // As long as the request is good: ten minutes for a new one, what is left for one moved from the old cookie.
    const seconds = Math.max(1, Math.min(PENDING_AUTH_TTL_SECONDS, entry.exp - Math.floor(Date.now() / 1000)));
    res.cookie(this.#nameOf(entry.state), value, { ...this.#cookieOptions(), maxAge: seconds * 1000 });
  }

  #delete(res: Response, name: string): void {
    res.clearCookie(name, this.#cookieOptions());
  }

  /**
   * Deletes the single cookie of earlier versions, if the browser sent one, and moves `keep` (its
   * requests still wanted) to cookies of their own. For one release: then only `<auth>.<id>`.
   */
  async #dropLegacy(req: Request, res: Response, keep: Entry[]): Promise<void> {
    if (req.cookies?.[this.options.cookies.auth] === undefined) return;
    this.#delete(res, this.options.cookies.auth);
    for (const entry of keep) await this.#write(res, entry);
  }

  /** This browser's pending-request cookies, each with its request when still good; and the requests of the single cookie of earlier versions. */
  async #held(req: Request): Promise<{ held: Held[]; legacy: Entry[] }> {
    const prefix = `${this.options.cookies.auth}.`;
    const cookies: Record<string, unknown> = req.cookies ?? {};
    const held: Held[] = [];
    for (const name of Object.keys(cookies)) {
      if (!name.startsWith(prefix) || !COOKIE_ID.test(name.slice(prefix.length))) continue;
      const [entry] = await this.#decrypt(cookies[name]);
      // A cookie under another request's name (copied by hand) is not that request's.
      held.push(entry && this.#nameOf(entry.state) === name ? { name, entry } : { name });
    }
    return { held, legacy: await this.#legacy(req) };
  }

  async #legacy(req: Request): Promise<Entry[]> {
    return (await this.#decrypt(req.cookies?.[this.options.cookies.auth])).slice(0, MAX_PENDING);
  }

  /** The requests a cookie value holds that are still good; none when it is absent, expired or tampered with. */
  async #decrypt(value: unknown): Promise<Entry[]> {
    if (typeof value !== 'string' || value.length === 0) return [];
    try {
      const { payload } = await jwtDecrypt(value, this.#key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      // One request (its own cookie, good until the JWE's exp); the single cookie of earlier versions holds a list.
      const list: unknown[] = Array.isArray(payload.pending) ? payload.pending : [{ ...payload }];
      const now = Math.floor(Date.now() / 1000);
      return list.filter(isEntry).filter((entry) => entry.exp > now);
    } catch {
      return [];
    }
  }

  #cookieOptions(): CookieOptions {
    // Lax: the hub's redirect back to the callback is a top-level GET, which carries Lax cookies.
    return { httpOnly: true, sameSite: 'lax', secure: this.options.secureCookies, path: '/' };
  }
}
