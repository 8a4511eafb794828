import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { digest, type Keys } from '../store/keys.js';
import type { Store, WriteOp } from '../store/store.js';
import { ReadAhead, type TokenRead } from './read-ahead.js';
import { Redemptions } from './redemption.js';
import { signInOf, type SessionSignIn } from './session-index.js';
import { ENDED_MARK_TTL_SECONDS, endSessionWrites, endUidCopyWrites, sessionWrites } from './ended-sessions.js';

/** Models whose records belong to a grant and go when the grant is revoked. */
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

/** The field a record keeps its client's generation in (see AdapterHooks.clientGeneration). */
const GENERATION = 'clientGeneration';

/** Models whose records a redemption issues: written together with its answer's commit. */
const DEFERRABLE = new Set(['AccessToken', 'RefreshToken']);

/** Models whose records are single-use: `consume` must be atomic for them. */
const CONSUMABLE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PushedAuthorizationRequest']);

const CONSUMED_MARKER_TTL = 3600; // seconds, for a record that has no expiry of its own

/** Records kept past their expiry, in seconds, so a replayed code can still be detected. */
const CLOCK_TOLERANCE = 5;

/** Seconds a redemption claim is kept: as long as its record (reuse stays detectable), never less than a second. */
function claimTtl(payload: AdapterPayload): number {
  if (typeof payload.exp !== 'number') return CONSUMED_MARKER_TTL;
  return Math.max(1, payload.exp - Math.floor(Date.now() / 1000) + CLOCK_TOLERANCE);
}

/**
 * oidc-provider storage on top of the hub's Store, so Redis and the embedded store share
 * one adapter and one contract. Records are keyed by a digest of their id: a read of the
 * store yields no usable token, code or session id. The id itself (`jti`) is dropped
 * from the stored payload and restored from the caller's copy on `find`.
 */
export function createAdapterFactory(store: Store, keys: Keys, hooks: AdapterHooks = {}, options: AdapterOptions = {}) {
  const redemptions = options.redemptions ?? new Redemptions(store, keys);
  const readAhead = options.readAhead ?? new ReadAhead(store, keys);
  return class StoreAdapter implements Adapter {
    constructor(readonly model: string) {}

    #key(id: string): string {
      return keys.oidc(this.model, digest(id));
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const idDigest = digest(id);
      const key = keys.oidc(this.model, idDigest);
      // Stamped with its client's generation (checked by #ofRemovedClient; oidc-provider ignores the field).
      if (hooks.clientGeneration && typeof payload.clientId === 'string') {
        const known = hooks.clientGeneration(payload.clientId);
        const generation = known instanceof Promise ? await known : known; // no await while the cache is fresh
        if (generation !== undefined) payload[GENERATION] = generation;
      }
      const ttl = expiresIn ? expiresIn + CLOCK_TOLERANCE : undefined;
      // The payload without its id: `jti` is left out by JSON.stringify while undefined (an
      // object rest copy of every payload cost more than the stringify), then put back.
      const { jti } = payload;
      let value: string;
      if (jti === undefined) value = JSON.stringify(payload);
      else {
        payload.jti = undefined;
        try {
          value = JSON.stringify(payload);
        } finally {
          payload.jti = jti;
        }
      }
      // The record and its indexes in one round trip (a pipeline; each index is only a way to the record).
      // A session's record and uid copy are not written back once the session ended (ended-sessions.ts).
      const writes: WriteOp[] = this.model === 'Session'
        ? sessionWrites(keys, key, value, ttl, typeof payload.uid === 'string' ? payload.uid : undefined)
        : [{ op: 'set', key, value, ttlSeconds: ttl }];
      if (GRANTABLE.has(this.model) && payload.grantId) {
        // Scored by the record's expiry: expired members leave on the next write, so the index
        // holds only what revoking the grant still has to reach.
        writes.push({ op: 'zAddExpiring', key: keys.oidcGrantMembers(payload.grantId), member: key, expiresAtMs: ttl !== undefined ? Date.now() + ttl * 1000 : Infinity });
      }
      if (payload.userCode) writes.push({ op: 'set', key: keys.oidcUserCode(payload.userCode), value: key, ttlSeconds: ttl });
      this.#forgetReadAhead(key, payload);
      // What a token leads to, for the request that brings it back (one round trip; read-ahead.ts),
      // once it is stored.
      const issued = () => readAhead.issued(this.model, idDigest, payload);
      // The tokens a redemption issues: written in the round trip that commits its answer (redemption.ts).
      if (DEFERRABLE.has(this.model) && redemptions.defer(writes, issued)) return;
      await store.write(writes);
      issued();
      if (this.model === 'Session' && payload.uid && payload.accountId) {
        await hooks.onSession?.(payload.accountId, key, ttl);
        // Written back under a new id (a resume) by a request that loaded it before the hub ended
        // its sign-in: ended here. Checked once the index holds it: an ending marked later lists it.
        if (await hooks.endedByHub?.(payload.accountId, signInOf({ uid: payload.uid, loginTs: payload.loginTs }))) {
          await store.write(endSessionWrites(keys, key, payload.uid));
          await hooks.onSessionDestroyed?.(payload.accountId, key);
          await hooks.onSessionEndedByHub?.(payload);
        }
      }
      if (this.model === 'Grant' && payload.accountId && payload.clientId) {
        await hooks.onGrant?.(payload.accountId, payload.clientId, id, ttl);
      }
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      // Clients live in the hub's client registry, not in oidc-provider's records.
      if (this.model === 'Client') return hooks.findClient?.(id);
      const idDigest = digest(id);
      const key = keys.oidc(this.model, idDigest);
      if (CONSUMABLE.has(this.model)) {
        // One round trip for the record and its consumption claim (one digest for the three keys),
        // and what a known token leads to.
        const claimKey = keys.oidcConsumed(this.model, idDigest);
        const own = [key, claimKey, keys.oidcConsumedLegacy(this.model, idDigest)];
        const withLeads = readAhead.readToken(this.model, idDigest, own);
        if (withLeads?.otherKind) return undefined; // the id of another kind of token
        const readAt = redemptions.now(); // before the read: a mark made after this was not there to see
        const [raw, current, legacy] = await (withLeads ? withLeads.values : store.getMany(own));
        const claim = current ?? legacy ?? null;
        if (!raw) return undefined;
        const payload = JSON.parse(raw) as AdapterPayload;
        if (!withLeads) readAhead.follow(payload, this.model, idDigest); // the session, account and grant a token request reads next
        const consumed = redemptions.consumedAt(key, claimKey, id, claim, payload, claimTtl(payload), readAt, this.model);
        // The parsed record is ours: filled in place, not copied (this runs on every token use).
        if (consumed !== undefined && !payload.consumed) payload.consumed = consumed;
        payload.jti = id;
        const removed = this.#ofRemovedClient(payload);
        return (removed instanceof Promise ? await removed : removed) ? undefined : payload;
      }
      let raw: string | null;
      let withLeads: TokenRead | undefined;
      if (this.model === 'Grant') {
        raw = await readAhead.get(key); // read right after its token: the token's find may have read it ahead
      } else {
        withLeads = readAhead.readToken(this.model, idDigest, [key]);
        if (withLeads?.otherKind) return undefined; // the id of another kind of token
        raw = withLeads ? ((await withLeads.values)[0] ?? null) : await store.get(key);
      }
      if (!raw) return undefined;
      const payload = JSON.parse(raw) as AdapterPayload;
      if (!withLeads) readAhead.follow(payload, this.model, idDigest); // what userinfo and introspection read next
      payload.jti = id;
      const removed = this.#ofRemovedClient(payload);
      return (removed instanceof Promise ? await removed : removed) ? undefined : payload;
    }

    /**
     * Whether a token, code or grant was issued to a client that has since been removed, its id
     * registered again (another site, a new secret): it must not come back with the id.
     */
    #ofRemovedClient(payload: AdapterPayload): boolean | Promise<boolean> {
      if (!hooks.stampOfRemovedClient || typeof payload.clientId !== 'string') return false;
      return hooks.stampOfRemovedClient(payload.clientId, payload[GENERATION]);
    }

    async #findByIndex(indexKey: string): Promise<AdapterPayload | undefined> {
      const key = await store.get(indexKey);
      if (!key) return undefined;
      const raw = await store.get(key);
      return raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
    }

    /** A record this request writes or removes is no longer handed out from what was read ahead of it. */
    #forgetReadAhead(key: string, payload: AdapterPayload | undefined): void {
      if (this.model === 'Grant') readAhead.forget(key);
      else if (this.model === 'Session' && typeof payload?.uid === 'string') readAhead.forget(keys.oidcSessionUid(payload.uid));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      // Read ahead by the token that ends with this session, if a token led here.
      const raw = await readAhead.get(keys.oidcSessionUid(uid));
      if (!raw) return undefined;
      // Written before the copy was: the key of the session record.
      if (raw.startsWith(keys.oidc('Session', ''))) {
        const record = await store.get(raw);
        return record ? (JSON.parse(record) as AdapterPayload) : undefined;
      }
      return JSON.parse(raw) as AdapterPayload;
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.#findByIndex(keys.oidcUserCode(userCode));
    }

    /**
     * Marks a code or refresh token used, atomically: oidc-provider checks `consumed` on an
     * earlier read, so two concurrent redemptions would both pass that check. The claim (a
     * compare-and-set, see Redemptions) lets exactly one through; another waits for a pending
     * winner, then gets invalid_grant (a refresh token: nothing revoked, the winner's tokens
     * stand; a code: a reuse, the grant's tokens are revoked, RFC 6749 §4.1.2). A use found
     * later is a reuse (RFC 9700 §4.14.2): invalid_grant, and the tokens of the grant are
     * revoked. The record itself is not rewritten: `find` reads the claim beside it.
     */
    async consume(id: string): Promise<void> {
      const idDigest = digest(id);
      const claim = await redemptions.claim(keys.oidcConsumed(this.model, idDigest), keys.oidc(this.model, idDigest), CONSUMED_MARKER_TTL, this.model);
      if (claim.won) return;
      // A pushed request's request_uri used again (found unused, then lost to a concurrent use):
      // the authorization endpoint's own error for it (RFC 9126 §4), as oidc-provider answers a
      // use it finds consumed. It leads to no grant: nothing to revoke.
      if (this.model === 'PushedAuthorizationRequest') throw new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
      // Lost the race, or the record was revoked by a concurrent loser: this redemption fails.
      if (claim.grantId) await this.revokeByGrantId(claim.grantId);
      throw new errors.InvalidGrant('grant request is invalid');
    }

    async destroy(id: string): Promise<void> {
      const key = this.#key(id);
      if (this.model === 'Grant') readAhead.forget(key);
      // An ended session is marked so that a request still holding it cannot write it back.
      const raw = this.model === 'Session' ? await store.takeMarking(key, keys.oidcEnded(key), key, ENDED_MARK_TTL_SECONDS) : await store.take(key);
      if (!raw) return;
      const payload = JSON.parse(raw) as AdapterPayload;
      if (GRANTABLE.has(this.model) && payload.grantId) {
        // Keep the grant's member set from growing with every rotated or revoked token.
        await store.zRemove(keys.oidcGrantMembers(payload.grantId), key);
      }
      if (this.model === 'Session') {
        this.#forgetReadAhead(key, payload); // the uid copy's key is known only from the record
        if (payload.uid) await store.write(endUidCopyWrites(keys, key, payload.uid));
        if (payload.accountId) await hooks.onSessionDestroyed?.(payload.accountId, key);
      }
      if (this.model === 'Grant' && payload.accountId && payload.clientId) {
        await hooks.onGrantDestroyed?.(payload.accountId, payload.clientId, id);
      }
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const membersKey = keys.oidcGrantMembers(grantId);
      const members = await store.zRangeByScore(membersKey, -Infinity, Infinity);
      await store.del(...members, membersKey);
    }
  };
}

/** What the adapter shares with the rest of the engine (each made here when not given). */
export interface AdapterOptions {
  /** The token endpoint's redemptions (settled by a protocol hook). */
  redemptions?: Redemptions;
  /** The read-ahead `findAccount` takes the account from; one made here reads no account ahead. */
  readAhead?: ReadAhead;
}

/** Indexes the hub keeps beside oidc-provider's records (sessions and consents per user). */
export interface AdapterHooks {
  findClient?(clientId: string): AdapterPayload | undefined | Promise<AdapterPayload | undefined>;
  /**
   * The generation of the client registered under this id (undefined: no such client, or one
   * from before generations): records are stamped with it when written.
   */
  clientGeneration?(clientId: string): string | undefined | Promise<string | undefined>;
  /** ClientRegistry.stampOfRemovedClient: a record so stamped belongs to a removed client of the same id and is not found. */
  stampOfRemovedClient?(clientId: string, stamp: unknown): boolean | Promise<boolean>;
  onSession?(accountId: string, sessionKey: string, ttlSeconds: number | undefined): Promise<void>;
  /** SessionIndex.endedByHub: a session written after the hub ended its sign-in is ended again. */
  endedByHub?(accountId: string, session: SessionSignIn): Promise<boolean>;
  /** A session ended again after {@link endedByHub}: its grants go too (one the request saved is in no list the ending read). */
  onSessionEndedByHub?(payload: AdapterPayload): Promise<void>;
  onSessionDestroyed?(accountId: string, sessionKey: string): Promise<void>;
  onGrant?(accountId: string, clientId: string, grantId: string, ttlSeconds: number | undefined): Promise<void>;
  onGrantDestroyed?(accountId: string, clientId: string, grantId: string): Promise<void>;
}
