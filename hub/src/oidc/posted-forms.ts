import { randomPool } from '../secrets/random-pool.js';
import { digest, type Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';

/**
 * How long a posted form waits for the browser's follow-up GET, in seconds: the browser follows a
 * `303` at once, so two minutes cover a slow connection and nothing more.
 */
export const POSTED_FORM_TTL_SECONDS = 120;

/** Requests that are the GET a kept form became (their URL holds what the site posted). */
const fromPostedForm = new WeakSet<object>();

/**
 * Marks the request as the GET a kept form became (post-as-get.ts), once its URL holds the form
 * again. Such a request was counted as a sign-in start at its POST already, and its URL (`req.url`,
 * koa's `originalUrl`) holds what the site posted, so no page may put it in a link.
 */
export function markFromPostedForm(req: object): void {
  fromPostedForm.add(req);
}

/** Whether this request is the GET a kept form became ({@link markFromPostedForm}). */
export function cameFromPostedForm(req: object): boolean {
  return fromPostedForm.has(req);
}

/** The handle's randomness: 256 bits, base64url (43 characters) in the URL. */
const HANDLE_BYTES = 32;
/** What a handle looks like: anything else is not looked up. */
const HANDLE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Forms a relying party POSTed to the authorization or end-session endpoint, kept for the GET the
 * browser sends next (post-as-get.ts). Only a random handle goes into the URL, so what the site
 * posted (`id_token_hint`, `login_hint`, `state`, `nonce`, request objects) never reaches the
 * address bar, the browser's history or a proxy's access log. As the hub keeps single-use links
 * (users/account-tokens.ts): the store holds the SHA-256 digest of the handle as the key (a store
 * dump holds no usable handle), the record expires on its own (TTL) and is taken atomically
 * (GETDEL), so a handle works once even when two requests race.
 */
export class PostedForms {
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
    private readonly ttlSeconds: number = POSTED_FORM_TTL_SECONDS,
  ) {}

  /** Keeps `location` (the endpoint's path and the form as its query) and returns its new handle. */
  async keep(location: string): Promise<string> {
    const handle = randomPool.token(HANDLE_BYTES);
    await this.store.set(this.#key(handle), location, { ttlSeconds: this.ttlSeconds });
    return handle;
  }

  /**
   * Uses the handle up and returns the location it was kept for; undefined when the handle is
   * malformed, unknown, expired or already used. StoreUnavailableError when the store is down.
   */
  async take(handle: string): Promise<string | undefined> {
    if (!HANDLE.test(handle)) return undefined;
    return (await this.store.take(this.#key(handle))) ?? undefined;
  }

  #key(handle: string): string {
    return this.keys.postedForm(digest(handle));
  }
}
