import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
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

const PENDING_AUTH_TTL_SECONDS = 600; // ten minutes to finish a sign-in at the hub

/**
 * How long a silent check's request (`prompt=none`) is good, its cookie and its JWE alike. The
 * hub answers such a check at once, so it is back within a second or two. Short, because tabs
 * opened together each add a cookie the others cannot see (none is over MAX_PENDING when it is
 * added): a browser left holding too many (dozens of tabs restored at once) is rid of them
 * within a minute even if no answer comes back to clean them up.
 */
export const SILENT_PENDING_TTL_SECONDS = 60;

/** How long a request is good: a silent check's a minute, an interactive sign-in's ten. */
function ttlOf(silent: boolean): number {
  return silent ? SILENT_PENDING_TTL_SECONDS : PENDING_AUTH_TTL_SECONDS;
}

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
 * answer finds its own request. Bounded, so the browser's cookies stay few and small (about 300
 * bytes each): a request is not added beyond it, the callback trims back to it, and a page view
 * of a browser already holding this many starts no silent check.
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

/**
 * A pending request as a cookie holds it, with when it stops being good (seconds since the
 * epoch) and when it started (ms, for the order; not in the old single cookie). `nonce` and
 * `codeVerifier` are derived from the state (see {@link PendingAuthCookie.create}); cookies of
 * the previous version store them, and what is stored is used.
 */
type Entry = Omit<PendingAuth, 'nonce' | 'codeVerifier' | 'startedAt'> & { nonce?: string; codeVerifier?: string; exp: number; at?: number };

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
  const optional = (field: unknown) => field === undefined || typeof field === 'string';
  return typeof state === 'string' && optional(nonce) && optional(codeVerifier) && typeof returnTo === 'string' && typeof silent === 'boolean' && typeof exp === 'number';
}

function size(entry: Entry): number {
  return JSON.stringify(entry).length;
}

/**
 * Keeps each of the browser's pending authorization requests (at most MAX_PENDING, each good for
 * ten minutes, a silent check's for one) in a short-lived cookie of its own, `<auth>.<id>` where the id is a hash of the
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

  /**
   * A fresh request: a random state (32 bytes, marked for a silent check); its nonce and PKCE
   * verifier are HMAC-SHA256 of the state under the cookies' key, each with a label of its own,
   * so the cookie need not carry them (about 110 bytes less each): unguessable without the
   * session secret, as random ones are, and found again from the state at the callback.
   */
  create(returnTo: string, silent: boolean, recheck = false): PendingAuth {
    const state = `${silent ? SILENT_STATE_PREFIX : ''}${randomToken()}`;
    return { state, nonce: this.#derive('nonce', state), codeVerifier: this.#derive('code-verifier', state), returnTo, silent, ...(recheck ? { recheck: true as const } : {}) };
  }

  /**
   * Adds a request in a cookie of its own. The browser's other pending requests stay, the newest
   * first while they are fewer than MAX_PENDING and small enough together; the cookies of the
   * oldest beyond that (and of any that no longer decrypt or have expired) are deleted.
   */
  async add(req: Request, res: Response, pending: PendingAuth): Promise<void> {
    const exp = Math.floor(Date.now() / 1000) + ttlOf(pending.silent);
    // Only what cannot be derived from the state: nonce and verifier are not stored.
    const { state, returnTo, silent, recheck } = pending;
    const entry: Entry = { state, returnTo, silent, ...(recheck === true ? { recheck } : {}), exp, at: startNow() };
    await this.#write(res, entry);
    await this.#trim(req, res, { kept: entry });
  }

  /**
   * The newest pending request (undefined when there is none: absent, expired or tampered
   * with), and how many this browser holds that are still good.
   */
  async overview(req: Request): Promise<{ newest?: PendingAuth; count: number }> {
    const { held, legacy } = await this.#held(req);
    const entries = [...held.flatMap((one) => (one.entry ? [one.entry] : [])), ...legacy];
    const first = entries.sort(newestFirst)[0];
    return { ...(first ? { newest: this.#toPending(first) } : {}), count: entries.length };
  }

  /**
   * Takes out the pending request whose state is `state`: reads the one cookie that state names
   * and deletes it, leaving the others for their tabs. `found` is false when the browser has no
   * pending request at all (not started here, or too long ago), as opposed to none with this
   * state (an answer meant for another browser, or a request no longer kept). A silent check's
   * answer whose request an earlier trim here dropped (the browser then got the dropped marker)
   * counts as found, so it gets the graceful path, not the page for a sign-in never started here.
   *
   * The others are then trimmed as {@link add} trims them: the newest MAX_PENDING kept, the
   * cookies of the oldest beyond that (and of any that no longer decrypt or have expired)
   * deleted. Tabs opened together each add a cookie without seeing the others' (dozens of tabs
   * restored at once leave dozens, a Cookie header past what servers accept): the first answer
   * back brings the browser down to MAX_PENDING.
   */
  async take(req: Request, res: Response, state: unknown): Promise<{ pending?: PendingAuth; found: boolean }> {
    let match: Entry | undefined;
    let own: string | undefined;
    if (typeof state === 'string' && state.length > 0) {
      const name = this.#nameOf(state);
      const value: unknown = req.cookies?.[name];
      if (value !== undefined) {
        own = name;
        this.#delete(res, name);
        const [entry] = await this.#decrypt(value);
        if (entry && safeEqual(entry.state, state)) match = entry;
      }
    }
    // A request started before the upgrade, in the single cookie of earlier versions.
    const { held, legacy } = await this.#held(req);
    const fromLegacy = match ? undefined : typeof state === 'string' ? legacy.find((entry) => safeEqual(entry.state, state)) : undefined;
    match ??= fromLegacy;
    await this.#trim(req, res, { taken: own, takenLegacy: fromLegacy });
    if (match) return { pending: this.#toPending(match), found: true };
    const dropped = isSilentState(state) && req.cookies?.[this.#droppedName()] !== undefined;
    return { found: dropped || legacy.length > 0 || held.some((one) => one.entry !== undefined) };
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

  /**
   * The marker left when a trim drops a silent check's request still good (`<auth>-dropped`,
   * for as long as that request would have been good): its answer, when it comes back, goes
   * to the home page anonymous rather than to the 400 page, though by then the browser may
   * hold no pending request at all. Absent when cookies are not stored, so a browser that
   * keeps none still gets the 400 page (no loop of silent checks).
   */
  #droppedName(): string {
    return `${this.options.cookies.auth}-dropped`;
  }

  /** HMAC-SHA256 of a state under the cookies' key, with a label of its own per use: 43 base64url characters (a valid PKCE verifier). */
  #derive(label: 'nonce' | 'code-verifier', state: string): string {
    return createHmac('sha256', this.#key).update(`subsite-kit pending-auth ${label}\0`).update(state).digest('base64url');
  }

  /** The request a cookie holds, its nonce and verifier derived unless stored (cookies of the previous version). */
  #toPending({ state, nonce, codeVerifier, returnTo, silent, recheck, exp }: Entry): PendingAuth {
    return {
      state,
      nonce: nonce ?? this.#derive('nonce', state),
      codeVerifier: codeVerifier ?? this.#derive('code-verifier', state),
      returnTo,
      silent,
      ...(recheck === true ? { recheck } : {}),
      // From the exp and the life it was given (`at` is only for the order: never twice the same,
      // it can run ahead of the clock). Cookies that store the nonce are of earlier versions,
      // where every request was given ten minutes.
      startedAt: exp - (nonce === undefined ? ttlOf(silent) : PENDING_AUTH_TTL_SECONDS),
    };
  }

  /**
   * Keeps the newest of the browser's pending requests, while they are fewer than MAX_PENDING
   * and small enough together (`kept`: one already kept, the request being added), and deletes
   * the cookies of the others and of any that no longer decrypt or have expired. `taken`: the
   * cookie (and `takenLegacy`: the old cookie's request) the callback has taken out, left alone.
   * The old single cookie's requests that are kept move to cookies of their own.
   */
  async #trim(req: Request, res: Response, { kept, taken, takenLegacy }: { kept?: Entry; taken?: string | undefined; takenLegacy?: Entry | undefined }): Promise<void> {
    const { held, legacy } = await this.#held(req);
    const others = held.filter((one) => one.name !== taken);
    const older = [...others.filter((one) => one.entry !== undefined), ...legacy.filter((one) => takenLegacy === undefined || one.state !== takenLegacy.state).map((one) => ({ entry: one }))]
      .sort((a, b) => newestFirst(a.entry!, b.entry!));
    let bytes = kept ? size(kept) : 0;
    let count = kept ? 1 : 0;
    let droppedSilent = false;
    const moved: Entry[] = [];
    for (const one of older) {
      const fits = count < MAX_PENDING && bytes + size(one.entry!) <= MAX_PLAINTEXT_BYTES;
      if (fits) {
        count += 1;
        bytes += size(one.entry!);
        if (!('name' in one)) moved.push(one.entry!);
        continue;
      }
      if ('name' in one) this.#delete(res, one.name);
      if (one.entry!.silent) droppedSilent = true;
    }
    for (const one of others) if (one.entry === undefined) this.#delete(res, one.name);
    if (droppedSilent) res.cookie(this.#droppedName(), '1', { ...this.#cookieOptions(), maxAge: SILENT_PENDING_TTL_SECONDS * 1000 });
    await this.#dropLegacy(req, res, moved);
  }

  async #write(res: Response, entry: Entry): Promise<void> {
    const { exp: _exp, ...claims } = entry;
    // No iat: `at` says when it started, and every byte counts times the tabs opened together.
    const value = await new EncryptJWT({ ...claims })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setExpirationTime(entry.exp)
      .encrypt(this.#key);
    // As long as the request is good: a minute for a new silent check, ten for a new sign-in, what is left for one moved from the old cookie.
    const seconds = Math.max(1, Math.min(ttlOf(entry.silent), entry.exp - Math.floor(Date.now() / 1000)));
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
