import Provider, { type AdapterPayload } from 'oidc-provider';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { TokenLeads, type Leads } from './token-leads.js';

/** Routes that go on from a token to the records below; the account only where claims are answered. */
const FOLLOWS_TOKEN: ReadonlyMap<string, { account: boolean }> = new Map([
  ['userinfo', { account: true }],
  ['token', { account: true }],
  ['introspection', { account: false }],
]);

interface Pending {
  read: Promise<(string | null)[]>;
  index: number;
}

/**
 * How a token's own keys are read (see {@link ReadAhead.readToken}): not at all, when the id is
 * known to be another kind of token's, or together with what the token is known to lead to.
 */
export type TokenRead = { otherKind: true } | { otherKind: false; values: Promise<(string | null)[]> };

const OTHER_KIND: TokenRead = { otherKind: true };

/**
 * Reads ahead what a protocol request reads next, in one round trip. oidc-provider reads a
 * token, then its session (by uid), its account and its grant, each awaited before the next
 * is asked for: four round trips where the keys of the last three are known from the first.
 * Once the token is read, its adapter asks for the three together here, and the reads that
 * follow in the same request take them instead of going to the store.
 *
 * A value read ahead is handed out once, to the first read of its key in the request that
 * asked for it, and dropped when that request writes or removes the grant or the session
 * through the adapter: so a read never sees an older value than the request's own last write
 * of them, and a second read goes to the store. (The account's record is not dropped that way:
 * no userinfo, token or introspection request writes a user; a caller that starts to must
 * forget the key first.) A failed read
 * fails the reads that take it, as their own would. Only stored records are followed (a token
 * that was found, or one this process wrote), never a value from the request.
 *
 * What a token leads to never changes, so this process remembers it ({@link TokenLeads}): the
 * next request bringing the same token reads the token and the three in one round trip, and a
 * lookup of it as another kind of token (introspection tries each) reads nothing. What is read
 * is still the store's value on every request; only which keys to read is remembered. A known
 * token that turns out to be gone or expired has had the three read with it, unused:
 * oidc-provider stops there. An unknown one that was found expired leads to no read.
 *
 * The values are as of the token's read. On the token endpoint the account is then checked
 * after the code or refresh token is claimed (one round trip later) rather than before: a
 * user disabled in that moment can still get this one answer, as a user disabled just after
 * the check could before. Disabling a user ends their sessions and grants, and with them the
 * tokens (hub/src/users/account-lifecycle.ts).
 */
export class ReadAhead {
  readonly #byRequest = new WeakMap<object, Map<string, Pending>>();

  /**
   * `accountKey`: the store key of an account's record (the user repository's); without it no
   * account is read ahead.
   */
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
    private readonly accountKey?: (accountId: string) => string,
    private readonly leads: TokenLeads = new TokenLeads(),
  ) {}

  /** The protocol request being answered, when its route goes on from a token; else undefined. */
  static #request(): { account: boolean; ctx: object } | undefined {
    const ctx = Provider.ctx;
    const route = ctx?.oidc?.route;
    const plan = route === undefined ? undefined : FOLLOWS_TOKEN.get(route);
    return plan && ctx ? { account: plan.account, ctx } : undefined;
  }

  /** A token was written (its adapter calls this once the write went through): see {@link TokenLeads}. */
  issued(model: string, idDigest: string, token: AdapterPayload): void {
    this.leads.issued(model, idDigest, token);
  }

  /** The keys of what `leads` points to that a request with this plan reads next. */
  #keysOf(leads: Leads, account: boolean): string[] {
    const keys: string[] = [];
    if (leads.sessionUid !== undefined) keys.push(this.keys.oidcSessionUid(leads.sessionUid));
    if (account && this.accountKey && leads.accountId !== undefined) keys.push(this.accountKey(leads.accountId));
    if (leads.grantDigest !== undefined) keys.push(this.keys.oidc('Grant', leads.grantDigest));
    return keys;
  }

  /**
   * Reads a token's own keys (`own`, the first its record's) for a request that goes on from
   * it, when this process knows what the token leads to: in the same round trip as those records
   * (then taken as {@link follow} would have read them), or not at all when the id is another
   * kind of token's (a value is one kind's id only). Undefined when nothing is known or no such
   * request runs: the caller reads `own` itself, then calls {@link follow}.
   */
  readToken(model: string, idDigest: string, own: string[]): TokenRead | undefined {
    if (!TokenLeads.isToken(model)) return undefined;
    const leads = this.leads.get(idDigest);
    if (leads === undefined) return undefined;
    if (leads.model !== model) return OTHER_KIND;
    const request = ReadAhead.#request();
    if (!request) return undefined;
    const follows = this.#keysOf(leads, request.account);
    if (follows.length === 0) return undefined;
    return { otherKind: false, values: this.#start(request.ctx, own.concat(follows), own.length) };
  }

  /**
   * Starts reading, for the current request (nothing outside one), what a token record leads
   * to: its session's uid copy when it ends with the session, its account's user record where
   * the route answers claims, and its grant. What it leads to is remembered, so that the next
   * request bringing the same token reads it all in one round trip ({@link readToken}).
   */
  follow(token: AdapterPayload, model: string, idDigest: string): void {
    if (!TokenLeads.isToken(model)) return;
    const request = ReadAhead.#request();
    if (!request) return;
    const leads = this.leads.found(model, idDigest, token);
    // An expired token is refused next: nothing it leads to is read.
    if (typeof token.exp === 'number' && token.exp * 1000 <= Date.now()) return;
    const keys = this.#keysOf(leads, request.account);
    if (keys.length > 0) this.#start(request.ctx, keys, 0);
  }

  /**
   * Starts reading `keys` in one round trip, for the request `ctx`; those from `from` on are
   * kept for the reads that follow (the ones before are the caller's own).
   */
  #start(ctx: object, keys: string[], from: number): Promise<(string | null)[]> {
    const read = this.store.getMany(keys);
    // Taken reads rethrow a failure; one nobody takes (the request failed first) is not an unhandled rejection.
    read.catch(() => undefined);
    let pending = this.#byRequest.get(ctx);
    if (!pending) this.#byRequest.set(ctx, (pending = new Map()));
    for (let index = from; index < keys.length; index++) pending.set(keys[index]!, { read, index });
    return read;
  }

  /** The value of `key` read ahead for `ctx` (handed out once), or undefined when there is none. */
  take(ctx: object | undefined, key: string): Promise<string | null> | undefined {
    if (ctx === undefined) return undefined;
    const pending = this.#byRequest.get(ctx);
    const found = pending?.get(key);
    if (!found) return undefined;
    pending!.delete(key);
    return found.read.then((values) => values[found.index] ?? null);
  }

  /** A read of `key`: the value read ahead for the current request, else the store's. */
  get(key: string): Promise<string | null> {
    return this.take(Provider.ctx, key) ?? this.store.get(key);
  }

  /** Drops what was read ahead of these keys for the current request (it is writing them). */
  forget(...keys: string[]): void {
    const ctx = Provider.ctx;
    const pending = ctx === undefined ? undefined : this.#byRequest.get(ctx);
    if (pending) for (const key of keys) pending.delete(key);
  }
}
