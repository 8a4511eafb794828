import Provider, { type AdapterPayload } from 'oidc-provider';
import { digest, type Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';

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
 * that was found, not yet expired), never a value from the request.
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
  ) {}

  /** The protocol request being answered, when its route goes on from a token; else undefined. */
  static #request(): { account: boolean; ctx: object } | undefined {
    const ctx = Provider.ctx;
    const route = ctx?.oidc?.route;
    const plan = route === undefined ? undefined : FOLLOWS_TOKEN.get(route);
    return plan && ctx ? { account: plan.account, ctx } : undefined;
  }

  /**
   * Starts reading, for the current request (nothing outside one), what a token record leads
   * to: its session's uid copy when it ends with the session, its account's user record where
   * the route answers claims, and its grant.
   */
  follow(token: AdapterPayload): void {
    const request = ReadAhead.#request();
    if (!request) return;
    // An expired token is refused next: nothing it leads to is read.
    if (typeof token.exp === 'number' && token.exp * 1000 <= Date.now()) return;
    const keys: string[] = [];
    if (token.expiresWithSession && typeof token.sessionUid === 'string') keys.push(this.keys.oidcSessionUid(token.sessionUid));
    if (request.account && this.accountKey && typeof token.accountId === 'string') keys.push(this.accountKey(token.accountId));
    if (typeof token.grantId === 'string') keys.push(this.keys.oidc('Grant', digest(token.grantId)));
    if (keys.length > 0) this.#start(request.ctx, keys);
  }

  /** Starts reading `keys` in one round trip, for the request `ctx`. */
  #start(ctx: object, keys: string[]): void {
    const read = this.store.getMany(keys);
    // Taken reads rethrow a failure; one nobody takes (the request failed first) is not an unhandled rejection.
    read.catch(() => undefined);
    let pending = this.#byRequest.get(ctx);
    if (!pending) this.#byRequest.set(ctx, (pending = new Map()));
    for (let index = 0; index < keys.length; index++) pending.set(keys[index]!, { read, index });
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
