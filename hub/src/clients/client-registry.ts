import { randomBytes } from 'node:crypto';
import { ConflictError, msg, NotFoundError, ValidationError } from '../errors.js';
import { DEFAULT_SIGNING_ALG, isSigningAlg, SIGNING_ALGS, type SigningAlg } from '../secrets/secrets.js';
import type { Keys } from '../store/keys.js';
import type { Store, VersionedOp } from '../store/store.js';
import { seedEntry } from '../seed-entries.js';
import { settingsFingerprint } from './client-changes.js';
import { currentSecretDigest, livePreviousSecret, secretDigest, secretSeen, syncKeySeen } from './client-secret.js';
import { DEFAULT_SCOPE, PORTAL_CLIENT_ID, type AuthMethod, type GrantType, type SubsiteClient, type SyncTransport } from './client.js';
import { displayNameProblem, hasForbiddenNameCharacter, MAX_NAME_LENGTH } from '../users/user.js';

const REFRESH_EVERY_MS = 1_000; // how stale the in-process client cache may be, in milliseconds
const CHANGELOG_KEEP = 10_000; // client changes kept in the changelog; a process further behind reloads all
const CHANGELOG_TRIM_EVERY = 100; // changes between two trims of the changelog
const MAX_CHANGES_APPLIED = 1_000; // further behind than this, one full reload is cheaper
const GRANT_TYPES: GrantType[] = ['authorization_code', 'refresh_token', 'client_credentials', 'password', 'implicit'];
const AUTH_METHODS: AuthMethod[] = ['client_secret_basic', 'client_secret_post', 'none'];
const SYNC_TRANSPORTS: SyncTransport[] = ['img', 'script'];
const CLIENT_ID = /^[a-zA-Z0-9._-]{2,64}$/;
const CLIENT_LOCK_TTL_SECONDS = 10; // a change holds its client's lock for one read and one write; a crashed holder's expires
const CLIENT_LOCK_WAIT_MS = 5_000; // how long a change waits for another change to the same client
const CLIENT_LOCK_POLL_MS = 20; // between tries while it waits
/** A client secret's characters (RFC 6749 Appendix A.2, VSCHAR): printable ASCII, the space included. */
const SECRET_CHARACTERS = /^[\x20-\x7E]*$/;

/** 256 bits from the CSPRNG, base64url. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export interface ClientInput {
  clientId: string;
  clientSecret?: string;
  name?: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  grantTypes?: GrantType[];
  tokenEndpointAuthMethod?: AuthMethod;
  trusted?: boolean;
  requirePkce?: boolean;
  scope?: string;
  syncLoginUrl?: string;
  syncLogoutUrl?: string;
  syncTransport?: SyncTransport;
  syncKey?: string;
  userdeleteUrl?: string;
  backchannelLogoutUri?: string;
  casCompat?: boolean;
  allowSecretInQuery?: boolean;
  /** Plain-http URLs off loopback accepted on an https hub (see {@link SubsiteClient.allowHttp}). */
  allowHttp?: boolean;
  /** RS256 (the default), ES256 or EdDSA; '' goes back to the default. */
  idTokenSignedResponseAlg?: SigningAlg | '';
  internal?: boolean;
}

/** Which URL of a client a message is about: a key of `errors:clients.fields` (its name in the reader's language). */
type UrlField = 'redirectUri' | 'postLogoutRedirectUri' | 'syncLoginUrl' | 'syncLogoutUrl' | 'userdeleteUrl' | 'backchannelLogoutUri';

function checkUrl(value: string, what: UrlField): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError(msg('errors:clients.notUrl', { field: what, value }));
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ValidationError(msg('errors:clients.notHttp', { field: what, value }));
  // `href`, not `hash`: a bare trailing '#' leaves `hash` empty, and oidc-provider refuses it.
  if (url.href.includes('#')) throw new ValidationError(msg('errors:clients.fragment', { field: what, value }));
  // Credentials in a URL end up in logs and error messages, and fetch refuses them anyway.
  if (url.username || url.password) throw new ValidationError(msg('errors:clients.credentialsInUrl', { field: what }));
  return value;
}

/**
 * The URLs of a client a browser is sent to, with the field each is in: where an authorization
 * code, a sync code or a signed-out user lands. (The userdelete and back-channel logout URLs are
 * the hub's own server-to-server calls, often on an internal network: their messages are signed
 * and single-use.)
 */
function browserUrlsOf(client: SubsiteClient): [UrlField, string][] {
  return [
    ...client.redirectUris.map((uri): [UrlField, string] => ['redirectUri', uri]),
    ...client.postLogoutRedirectUris.map((uri): [UrlField, string] => ['postLogoutRedirectUri', uri]),
    ...(client.sync ? [['syncLoginUrl', client.sync.loginUrl], ['syncLogoutUrl', client.sync.logoutUrl]] as [UrlField, string][] : []),
  ];
}

/** http on a host that is not the loopback interface: 127.0.0.0/8, [::1], localhost and *.localhost (RFC 6761 §6.3) are. */
export function isPlainHttpOffLoopback(value: string): boolean {
  const url = URL.parse(value);
  if (url?.protocol !== 'http:') return false;
  const host = url.hostname;
  return !(host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host));
}

/** What {@link ClientRegistry.rotateSecret} made: the client, and its new secret in clear to show once. */
export interface RotatedSecret {
  client: SubsiteClient;
  clientSecret: string;
  /** A second rotation inside an overlap: the previous secret of the first, which stopped now. */
  droppedPrevious?: { digest: string; validUntil: number };
}

/** What {@link ClientRegistry.peek} answers when the cache must be checked before it is read. */
export const STALE: unique symbol = Symbol('client cache stale');

function generationOfRecord(client: SubsiteClient | undefined): string | undefined {
  return client && !client.internal ? client.generation : undefined;
}

/**
 * The longest a rotated-out client secret stays valid beside the new one: 30 days, time for a
 * planned change across a fleet. An attacker's review had 9,999,999,999 s (317 years) accepted,
 * which kept the old secret valid for good while the console showed it as rotated.
 */
export const MAX_SECRET_OVERLAP_SECONDS = 30 * 24 * 3600;

/**
 * Registered clients, kept in the store and cached in-process. The cache is what lets a
 * sign-in build its sync page for any number of subsites with one store read: a version
 * counter is checked at most once a second. Every change bumps the version and logs
 * `version:clientId` in a changelog, so a process that is behind reloads only the records
 * that changed since its version (registering 1,000 clients used to reload every client
 * 1,000 times); a changelog with a gap (trimmed, or a write in flight) means a full reload.
 * A version is read with its epoch: after a data loss the counter starts again from 1 and
 * may come back to the number a process holds with other records; the epoch does not.
 */
export class ClientRegistry {
  #cache = new Map<string, SubsiteClient>();
  #version: string | null = null;
  /** The store's epoch at {@link #version}: the two name the cached state only together. */
  #epoch: string | null = null;
  #loaded = false;
  #checkedAt = 0;
  #loading: Promise<void> | undefined;
  /** Bumped on every change to the cache: the sorted views below are kept per generation. */
  #generation = 0;
  #views: { generation: number; all: readonly SubsiteClient[]; sync: readonly SubsiteClient[] } | undefined;
  /** The store is marked as holding secrets as digests only (see {@link #secretsHashed}). */
  #hashedSeen = false;
  /** Clients this process owns (its portal client): its own configuration wins over the store. */
  #owned = new Map<string, ClientInput>();

  /** An https hub: a client's URLs must be https too, but on loopback (see {@link requireHttps}). */
  #httpsOnly = false;

  /** The ID token algorithms this hub can sign with: every one, or the kinds of key its HUB_JWKS pins. */
  #signingAlgs: readonly SigningAlg[] = SIGNING_ALGS;

  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  /**
   * Only these ID token algorithms can be chosen from now on (a hub that pins its keys with
   * HUB_JWKS signs only with their kinds; the CLI learns them from the running hub's published
   * settings). A client registered for another answered every token request with
   * invalid_client_metadata (an outside review). Clients already registered are left as they are.
   */
  limitSigningAlgs(algs: readonly SigningAlg[]): void {
    this.#signingAlgs = algs;
  }

  /**
   * This hub's issuer is https: a URL of a client that a browser is sent to (redirect,
   * post-logout, sync) given from now on must be https, or http on the loopback interface
   * (RFC 8252 §7.3; `localhost` and `*.localhost`, which browsers resolve to loopback), unless
   * the client is registered with `allowHttp`. Over plain http an authorization code crosses
   * the network in clear, and an http sync beacon on the https sync page is mixed content,
   * which browsers upgrade or block. URLs a client already has are left as they are: a change
   * of another setting, or a hub upgraded to this rule, never refuses what was registered before.
   */
  requireHttps(): void {
    this.#httpsOnly = true;
  }

  /** The ID token algorithms that can be chosen (the admin console's list). */
  get signingAlgs(): readonly SigningAlg[] {
    return this.#signingAlgs;
  }

  /** What registering `input` would store, checked as `register` checks it, without writing (a seed's check before its first write). */
  check(input: ClientInput): SubsiteClient {
    return this.#checked(ClientRegistry.build(input));
  }

  /** The registry's policies on a built client: its ID token algorithm and its URLs' scheme. */
  #checked(client: SubsiteClient, existing?: SubsiteClient): SubsiteClient {
    return this.#checkPlainHttp(this.#checkSigningAlg(client, existing), existing);
  }

  /** Refuses a plain-http URL off loopback that `client` did not have before, on an https hub (see {@link requireHttps}). */
  #checkPlainHttp(client: SubsiteClient, existing?: SubsiteClient): SubsiteClient {
    if (!this.#httpsOnly || client.allowHttp) return client;
    const before = new Set(existing ? browserUrlsOf(existing).map(([, value]) => value) : []);
    const plain = browserUrlsOf(client).find(([, value]) => !before.has(value) && isPlainHttpOffLoopback(value));
    if (plain) throw new ValidationError(msg('errors:clients.httpOnHttpsHub', { field: plain[0], value: plain[1] }));
    return client;
  }

  /** Refuses a newly chosen ID token algorithm this hub cannot sign with; one kept from before stays. */
  #checkSigningAlg(client: SubsiteClient, existing?: SubsiteClient): SubsiteClient {
    const alg = client.idTokenSignedResponseAlg ?? DEFAULT_SIGNING_ALG;
    if (alg !== (existing?.idTokenSignedResponseAlg ?? DEFAULT_SIGNING_ALG) && !this.#signingAlgs.includes(alg)) {
      throw new ValidationError(msg('errors:clients.idTokenAlgUnavailable', { alg, known: this.#signingAlgs.join(', ') }));
    }
    return client;
  }

  /** `force`: check now (after this process's own write), not only once a second. */
  async #refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.#checkedAt < REFRESH_EVERY_MS) return;
    // A check already in flight may have read the version before this process's write.
    if (force && this.#loading) await this.#loading.catch(() => undefined);
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    await this.#loading;
  }

  async #load(): Promise<void> {
    // The version first: on a cluster the two GETs go in this order, and the epoch is written before the version.
    const [version = null, epoch = null] = await this.store.getMany([this.keys.clientsVersion(), this.keys.clientsEpoch()]);
    // Another epoch is another history: its changelog does not follow on from the cache.
    const sameHistory = this.#loaded && epoch === this.#epoch;
    if (!sameHistory || version !== this.#version) {
      if (!(sameHistory && (await this.#loadChanges(this.#version, version)))) await this.#loadAll();
      this.#serveOwned();
      this.#version = version;
      this.#epoch = epoch;
      this.#loaded = true;
    }
    this.#checkedAt = Date.now();
  }

  async #loadAll(): Promise<void> {
    const ids = await this.store.setMembers(this.keys.clients());
    const raws = await this.store.getMany(ids.map((id) => this.keys.client(id)));
    const next = new Map<string, SubsiteClient>();
    for (const raw of raws) {
      if (raw) {
        const client = JSON.parse(raw) as SubsiteClient;
        next.set(client.clientId, client);
      }
    }
    this.#cache = next;
    this.#cacheChanged();
  }

  #cacheChanged(): void {
    this.#generation += 1;
  }

  /**
   * A client this process owns is served from its own configuration even when the store
   * lost it or another process rewrote it; `verifyOwned` puts the store right.
   */
  #serveOwned(): void {
    for (const input of this.#owned.values()) {
      const stored = this.#cache.get(input.clientId);
      const wanted = ClientRegistry.build(input, stored);
      if (!stored || JSON.stringify(stored) !== JSON.stringify(wanted)) {
        this.#cache.set(wanted.clientId, wanted);
        this.#cacheChanged();
      }
    }
  }

  /** Applies the changes between two versions; false when the changelog cannot tell them all. */
  async #loadChanges(from: string | null, to: string | null): Promise<boolean> {
    const start = Number(from ?? 0);
    const end = Number(to ?? 0);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end <= start || end - start > MAX_CHANGES_APPLIED) return false;
    const changes = await this.store.zRangeByScore(this.keys.clientsChanges(), start + 1, end, end - start + 1);
    if (changes.length !== end - start) return false;
    const ids = [...new Set(changes.map((change) => change.slice(change.indexOf(':') + 1)))];
    const raws = await this.store.getMany(ids.map((id) => this.keys.client(id)));
    ids.forEach((id, index) => {
      const raw = raws[index];
      if (raw) this.#cache.set(id, JSON.parse(raw) as SubsiteClient);
      else this.#cache.delete(id);
    });
    this.#cacheChanged();
    return true;
  }

  /**
   * Writes a change to one client (its record or its removal, the id set, the version and the
   * changelog) in one store round trip, then brings this process's cache up to date: when the
   * change's version is the one after the cache's in the same epoch, by applying it (what was
   * written is what another process would read); otherwise (another process wrote in between,
   * or the store lost its data since the cache was loaded) by the changelog or a full reload.
   */
  async #write(clientId: string, record: string | null): Promise<void> {
    const keys = this.keys;
    const ops: VersionedOp[] =
      record === null
        ? [
            { op: 'del', key: keys.client(clientId) },
            { op: 'setRemove', key: keys.clients(), member: clientId },
            // In the same write: a seed listing the id never registers the removed client again (seed-entries.ts).
            { op: 'setAdd', key: keys.seedApplied(), member: seedEntry.client(clientId) },
          ]
        : [{ op: 'set', key: keys.client(clientId), value: record }, { op: 'setAdd', key: keys.clients(), member: clientId }];
    const { version, epoch } = await this.store.versionedWrite(ops, {
      versionKey: keys.clientsVersion(),
      logKey: keys.clientsChanges(),
      entry: clientId,
      keep: CHANGELOG_KEEP,
      trimEvery: CHANGELOG_TRIM_EVERY,
      epoch: { key: keys.clientsEpoch(), value: randomBytes(12).toString('base64url') },
    });
    // A check in flight may have read the version before this write: let it land first.
    if (this.#loading) await this.#loading.catch(() => undefined);
    if (this.#loaded && epoch === this.#epoch && Number(this.#version ?? 0) + 1 === version) {
      if (record === null) this.#cache.delete(clientId);
      else this.#cache.set(clientId, JSON.parse(record) as SubsiteClient);
      this.#version = String(version);
      this.#serveOwned();
      this.#cacheChanged();
      return;
    }
    await this.#refresh(true);
  }

  find(clientId: string): Promise<SubsiteClient | undefined> {
    const cached = this.peek(clientId);
    if (cached !== STALE) return Promise.resolve(cached);
    return this.#refresh().then(() => this.#cache.get(clientId));
  }

  /**
   * The client from the cache without waiting, while the cache is within its second; `STALE`
   * when it must be checked first (then use {@link find}). The token endpoint looks clients up
   * several times per request: this path makes no promise.
   */
  peek(clientId: string): SubsiteClient | undefined | typeof STALE {
    return this.#loaded && Date.now() - this.#checkedAt < REFRESH_EVERY_MS ? this.#cache.get(clientId) : STALE;
  }

  /**
   * The client as this process last loaded it, however long ago, without asking the store: only
   * for what may go by a record a little out of date while the store cannot be read (where a
   * silent check's error is sent during an outage: silent-unavailable.ts).
   */
  lastLoaded(clientId: string): SubsiteClient | undefined {
    return this.#cache.get(clientId);
  }

  /**
   * The generation of the client registered under this id (see SubsiteClient.generation), or
   * undefined when there is none to check: no such client, one from before generations, or one
   * this hub owns (its portal client is never removed and registered again, and processes
   * starting together on an empty store may each make it up). Records are stamped with it;
   * {@link stampOfRemovedClient} checks a stamp.
   */
  generationOf(clientId: string): string | undefined | Promise<string | undefined> {
    const cached = this.peek(clientId);
    if (cached !== STALE) return generationOfRecord(cached); // no promise while the cache is fresh
    return this.find(clientId).then(generationOfRecord);
  }

  /**
   * Whether a record stamped with `stamp` when it was written (a token, code, grant or consent)
   * belongs to a removed client of this id, registered again since: the stamp is not the
   * generation registered now. A stamp the cache does not know is checked again past the cache
   * (another process may have registered the id again just now) before the record is turned
   * away; ids with nothing to check (no client, one from before generations, the hub's own)
   * never turn a record away. No promise while the cache is fresh and the stamp matches.
   */
  stampOfRemovedClient(clientId: string, stamp: unknown): boolean | Promise<boolean> {
    const known = this.generationOf(clientId);
    if (known instanceof Promise) return known.then((generation) => this.#stampDiffers(clientId, stamp, generation));
    return this.#stampDiffers(clientId, stamp, known);
  }

  #stampDiffers(clientId: string, stamp: unknown, generation: string | undefined): boolean | Promise<boolean> {
    if (generation === undefined || stamp === generation) return false;
    return this.findUncached(clientId).then((client) => {
      const current = generationOfRecord(client);
      return current !== undefined && stamp !== current;
    });
  }

  /** Reads one client from the store, past the cache: for decisions a cache a second stale must not make. */
  async findUncached(clientId: string): Promise<SubsiteClient | undefined> {
    const raw = await this.store.get(this.keys.client(clientId));
    return raw ? (JSON.parse(raw) as SubsiteClient) : undefined;
  }

  async require(clientId: string): Promise<SubsiteClient> {
    const client = await this.find(clientId);
    if (!client) throw new NotFoundError(msg('errors:noClient', { client: clientId }));
    return client;
  }

  async list(): Promise<SubsiteClient[]> {
    await this.#refresh();
    return [...this.#sorted().all];
  }

  /**
   * Subsites that take part in login sync, from the cache: one store read at most. The same
   * array until the cache changes (a sign-in with 1,000 subsites sorted and filtered them all).
   */
  async syncTargets(): Promise<readonly SubsiteClient[]> {
    await this.#refresh();
    return this.#sorted().sync;
  }

  /** The cached clients by id, and those with sync: computed once per state of the cache. */
  #sorted(): { all: readonly SubsiteClient[]; sync: readonly SubsiteClient[] } {
    if (this.#views?.generation !== this.#generation) {
      const all = [...this.#cache.values()].sort((a, b) => a.clientId.localeCompare(b.clientId));
      this.#views = { generation: this.#generation, all, sync: all.filter((client) => client.sync) };
    }
    return this.#views;
  }

  static build(input: ClientInput, existing?: SubsiteClient): SubsiteClient {
    if (!CLIENT_ID.test(input.clientId)) throw new ValidationError(msg('errors:clients.clientIdFormat'));
    // The hub's own client, which every hub start writes back as its configuration says: one added
    // under its id (a fresh KEY_PREFIX, where it was missing) was overwritten at the next start.
    if (input.clientId === PORTAL_CLIENT_ID && !(input.internal ?? existing?.internal)) throw new ValidationError(msg('errors:clients.reservedId', { id: PORTAL_CLIENT_ID }));
    // Shown on the consent, account and sign-out pages: a right-to-left override in it turned
    // "Allow … ?" around on the page (a review), as a display name's would.
    if (input.name !== undefined && hasForbiddenNameCharacter(input.name)) throw new ValidationError(msg('errors:clients.nameForbidden'));
    // As a user's display name or a UCenter application's: the console, consent and account pages
    // show it whole (before, a 30,000-character name given in the console was kept and shown).
    if (input.name !== undefined && displayNameProblem(input.name) === 'tooLong') throw new ValidationError(msg('errors:clients.nameTooLong', { max: MAX_NAME_LENGTH }));
    const grantTypes = input.grantTypes ?? existing?.grantTypes ?? ['authorization_code', 'refresh_token'];
    for (const grant of grantTypes) {
      if (!GRANT_TYPES.includes(grant)) throw new ValidationError(msg('errors:clients.unknownGrant', { grant }));
    }
    const authMethod = input.tokenEndpointAuthMethod ?? existing?.tokenEndpointAuthMethod ?? 'client_secret_basic';
    // Checked here, not only by the seed schema: the CLI and the console pass strings through.
    if (!AUTH_METHODS.includes(authMethod)) throw new ValidationError(msg('errors:clients.unknownAuthMethod', { method: String(authMethod), known: AUTH_METHODS.join(', ') }));
    if (input.syncTransport !== undefined && !SYNC_TRANSPORTS.includes(input.syncTransport)) {
      throw new ValidationError(msg('errors:clients.unknownTransport', { transport: String(input.syncTransport), known: SYNC_TRANSPORTS.join(' or ') }));
    }
    // Each URI once: the same one given twice (a pasted list, the CLI flag repeated) was kept and shown twice.
    const redirectUris = [...new Set((input.redirectUris ?? existing?.redirectUris ?? []).map((uri) => checkUrl(uri, 'redirectUri')))];
    if ((grantTypes.includes('authorization_code') || grantTypes.includes('implicit')) && redirectUris.length === 0) {
      throw new ValidationError(msg('errors:clients.redirectUriNeeded'));
    }
    // oidc-provider's own rule for web clients; a client registered past it answered every
    // request (its code flow too) with invalid_redirect_uri.
    const postLogoutRedirectUris = [...new Set((input.postLogoutRedirectUris ?? existing?.postLogoutRedirectUris ?? []).map((uri) => checkUrl(uri, 'postLogoutRedirectUri')))];
    if (grantTypes.includes('implicit')) {
      const uris = [...redirectUris, ...postLogoutRedirectUris];
      const plain = uris.find((uri) => new URL(uri).protocol !== 'https:' || new URL(uri).hostname === 'localhost');
      if (plain) throw new ValidationError(msg('errors:clients.implicitNeedsHttps', { value: plain }));
    }
    if (authMethod === 'none' && grantTypes.includes('client_credentials')) {
      throw new ValidationError(msg('errors:clients.publicClientCredentials'));
    }
    const loginUrl = input.syncLoginUrl ?? existing?.sync?.loginUrl;
    const logoutUrl = input.syncLogoutUrl ?? existing?.sync?.logoutUrl;
    if (Boolean(loginUrl) !== Boolean(logoutUrl)) throw new ValidationError(msg('errors:clients.syncNeedsBoth'));
    const knownKey = input.syncKey ?? existing?.sync?.key;
    const sync =
      loginUrl && logoutUrl
        ? {
            loginUrl: checkUrl(loginUrl, 'syncLoginUrl'),
            logoutUrl: checkUrl(logoutUrl, 'syncLogoutUrl'),
            transport: input.syncTransport ?? existing?.sync?.transport ?? 'img',
            key: knownKey ?? generateSecret(),
            ...(existing?.sync?.previousKey ? { previousKey: existing.sync.previousKey } : {}),
            ...(existing?.sync?.rotatedAt ? { rotatedAt: existing.sync.rotatedAt } : {}),
            // A key made here is unshown until a caller shows it (see `#handedOut`); one given is the operator's.
            ...(knownKey === undefined || (input.syncKey === undefined && existing?.sync && keyIsUnshown(existing.sync)) ? { keyUnshown: true as const } : {}),
          }
        : undefined;
    if (sync && sync.key.length < 32) throw new ValidationError(msg('errors:clients.syncKeyShort'));
    // RFC 6749 Appendix A.2: printable ASCII only. oidc-provider refuses any other secret as
    // client metadata, so a client registered with one answered every request with an error.
    if (input.clientSecret !== undefined && !SECRET_CHARACTERS.test(input.clientSecret)) throw new ValidationError(msg('errors:clients.secretCharacters'));
    const secret = authMethod === 'none' ? {} : secretFields(input.clientSecret, existing);
    const trusted = input.trusted ?? existing?.trusted ?? false;
    // RFC 9700 §2.4: the client sees the password, so only a first-party app may ask for it.
    if (grantTypes.includes('password') && !trusted) throw new ValidationError(msg('errors:clients.passwordGrantTrusted'));
    // A public client has no secret: anyone knowing its id could use it to check passwords.
    if (grantTypes.includes('password') && authMethod === 'none') throw new ValidationError(msg('errors:clients.passwordGrantConfidential'));
    const casCompat = input.casCompat ?? existing?.casCompat ?? false;
    const allowSecretInQuery = input.allowSecretInQuery ?? existing?.allowSecretInQuery ?? false;
    if (allowSecretInQuery && !casCompat) throw new ValidationError(msg('errors:clients.secretInQueryNeedsCas'));
    const allowHttp = input.allowHttp ?? existing?.allowHttp ?? false;
    const idTokenAlg = input.idTokenSignedResponseAlg ?? existing?.idTokenSignedResponseAlg ?? DEFAULT_SIGNING_ALG;
    const idTokenSignedResponseAlg = idTokenAlg === '' ? DEFAULT_SIGNING_ALG : idTokenAlg;
    if (!isSigningAlg(idTokenSignedResponseAlg)) throw new ValidationError(msg('errors:clients.idTokenAlg', { known: SIGNING_ALGS.join(', ') }));
    const userdeleteUrl = input.userdeleteUrl ?? existing?.userdeleteUrl;
    const backchannelLogoutUri = input.backchannelLogoutUri ?? existing?.backchannelLogoutUri;
    return {
      clientId: input.clientId,
      ...secret,
      name: input.name ?? existing?.name ?? input.clientId,
      redirectUris,
      postLogoutRedirectUris,
      grantTypes,
      tokenEndpointAuthMethod: authMethod,
      trusted,
      // Public clients cannot opt out of PKCE.
      requirePkce: authMethod === 'none' ? true : (input.requirePkce ?? existing?.requirePkce ?? true),
      scope: input.scope ?? existing?.scope ?? DEFAULT_SCOPE,
      ...(sync ? { sync } : {}),
      ...(userdeleteUrl ? { userdeleteUrl: checkUrl(userdeleteUrl, 'userdeleteUrl') } : {}),
      ...(backchannelLogoutUri ? { backchannelLogoutUri: checkUrl(backchannelLogoutUri, 'backchannelLogoutUri') } : {}),
      ...(casCompat ? { casCompat: true } : {}),
      ...(allowSecretInQuery ? { allowSecretInQuery: true } : {}),
      ...(allowHttp ? { allowHttp: true } : {}),
      ...(idTokenSignedResponseAlg !== DEFAULT_SIGNING_ALG ? { idTokenSignedResponseAlg } : {}),
      ...((input.internal ?? existing?.internal) ? { internal: true } : {}),
      createdAt: existing?.createdAt ?? Math.floor(Date.now() / 1000),
      // A new registration is a new generation; a change keeps it (and a client from before generations stays without).
      ...(existing ? (existing.generation ? { generation: existing.generation } : {}) : { generation: randomBytes(12).toString('base64url') }),
    };
  }

  /**
   * Runs a change to one client holding that client's lock: each change reads the record and
   * writes it back whole, so two at once (two console tabs, the CLI beside the console) lost one
   * of them. An outside review rotated a secret in two tabs at once, one without an overlap (a
   * leaked secret, to stop now) and one with: the leaked secret stayed valid for the overlap and
   * the secret the first tab showed was refused. A change that waits longer than
   * {@link CLIENT_LOCK_WAIT_MS} is refused (409) and changes nothing. Hub processes of an older
   * version take no lock (a rolling update).
   */
  async #exclusive<T>(clientId: string, change: () => Promise<T>): Promise<T> {
    const key = this.keys.clientLock(clientId);
    const token = randomBytes(12).toString('base64url');
    const giveUpAt = Date.now() + CLIENT_LOCK_WAIT_MS;
    while (!(await this.store.set(key, token, { onlyIfAbsent: true, ttlSeconds: CLIENT_LOCK_TTL_SECONDS }))) {
      if (Date.now() >= giveUpAt) throw new ConflictError(msg('errors:clients.busy', { clientId }));
      await new Promise((resolve) => setTimeout(resolve, CLIENT_LOCK_POLL_MS));
    }
    try {
      return await change();
    } finally {
      // Only our own token: a lock that expired and another change took is left to it.
      await this.store.swap(key, token, null).catch(() => undefined);
    }
  }

  /** The client as the store holds it now, past the cache, or a typed 404. */
  async #requireUncached(clientId: string): Promise<SubsiteClient> {
    const client = await this.findUncached(clientId);
    if (!client) throw new NotFoundError(msg('errors:noClient', { client: clientId }));
    return client;
  }

  /** Writes a client's record (no clear secret once the store is hashed: {@link #record}), or `record` when the caller made it. */
  async #save(client: SubsiteClient, record?: string): Promise<void> {
    await this.#write(client.clientId, record ?? (await this.#record(client)));
  }

  /**
   * The text stored for a client. A secret with its digest is stored as the digest alone, unless
   * older hub processes may still read the store: those know only a clear `clientSecret`, and a
   * record without one would lock the subsite out of every one of them (its new or rotated secret
   * refused, its metadata invalid). So until `clients hash-secrets` says every process runs this
   * version (or on a store no client was ever written to, where no older process can have been),
   * the clear secret is kept beside its digest; this version checks the digest only.
   */
  async #record(client: SubsiteClient): Promise<string> {
    if (client.clientSecret === undefined || client.clientSecretDigest === undefined || !(await this.#secretsHashed())) return JSON.stringify(client);
    const { clientSecret: _clear, ...hashed } = client;
    return JSON.stringify(hashed);
  }

  /** Whether records hold only digests: the store is marked so, or it never held a client (then it is marked now). */
  async #secretsHashed(): Promise<boolean> {
    // Once seen, for good: the mark is never taken back (a rolled-back hub cannot read digests anyway).
    if (this.#hashedSeen) return true;
    const [marked, epoch] = await this.store.getMany([this.keys.clientSecretsHashed(), this.keys.clientsEpoch()]);
    if (!marked && epoch) return false;
    if (!marked) await this.store.set(this.keys.clientSecretsHashed(), String(Math.floor(Date.now() / 1000)));
    this.#hashedSeen = true;
    return true;
  }

  /**
   * Registers a client this process owns (the hub's portal client, from its configuration):
   * written now, served from this configuration whatever the store holds, and restored in
   * the store when it is missing or differs (see {@link verifyOwned}).
   */
  async own(input: ClientInput): Promise<SubsiteClient> {
    this.#owned.set(input.clientId, input);
    return this.upsert(input);
  }

  /**
   * Re-checks the owned clients in the store past the cache (a record can vanish without
   * a version change: data loss, a stray DEL) and writes back what is missing or differs.
   * Returns the ids restored.
   */
  async verifyOwned(): Promise<string[]> {
    const restored: string[] = [];
    for (const input of this.#owned.values()) {
      const raw = await this.store.get(this.keys.client(input.clientId));
      const stored = raw ? (JSON.parse(raw) as SubsiteClient) : undefined;
      if (stored && raw === JSON.stringify(ClientRegistry.build(input, stored))) {
        await this.store.setAdd(this.keys.clients(), input.clientId);
        continue;
      }
      await this.upsert(input);
      restored.push(input.clientId);
    }
    return restored;
  }

  /**
   * A client whose new sync key goes back to a caller that shows it once (the console, the
   * CLI, the seed report): no longer unshown. A key the call did not make keeps its mark.
   */
  static #handedOut(client: SubsiteClient, before?: SubsiteClient): SubsiteClient {
    if (!client.sync?.keyUnshown || client.sync.key === before?.sync?.key) return client;
    const { keyUnshown: _unshown, ...sync } = client.sync;
    return { ...client, sync };
  }

  /**
   * Registers a new client; returns it with its generated secret and sync key, for the caller
   * to show once. `keyShown: false` for a caller that shows no one (the hub's start-up seed):
   * a sync key it makes stays marked unshown, so its first rotation has no overlap.
   */
  async register(input: ClientInput, { keyShown = true }: { keyShown?: boolean } = {}): Promise<SubsiteClient> {
    // Checked first: the hub's own id is refused as such, whether or not its record is there yet.
    const built = this.#checked(ClientRegistry.build(input));
    const client = keyShown ? ClientRegistry.#handedOut(built) : built;
    await this.#exclusive(input.clientId, async () => {
      if (await this.store.get(this.keys.client(input.clientId))) throw new ConflictError(msg('errors:clients.idTaken', { clientId: input.clientId }));
      await this.#save(client);
    });
    // With its secret in clear for the caller to show once (the record holds its digest).
    return client;
  }

  /**
   * Marks a sync key as shown, once the caller has shown it (a seed run prints each client's as it
   * is created): from then on its rotation keeps it signing for the overlap. Nothing changes when
   * the client's key is another by now (rotated or removed meanwhile).
   */
  async markSyncKeyShown(clientId: string, key: string): Promise<void> {
    await this.#exclusive(clientId, async () => {
      const existing = await this.findUncached(clientId);
      if (!existing?.sync?.keyUnshown || existing.sync.key !== key) return;
      await this.#save(ClientRegistry.#handedOut(existing));
    });
  }

  /** Creates or replaces a client from a declarative file, keeping its secrets when not given. */
  async upsert(input: ClientInput): Promise<SubsiteClient> {
    const apply = async (write: boolean): Promise<SubsiteClient | undefined> => {
      const raw = await this.store.get(this.keys.client(input.clientId));
      const existing = raw ? (JSON.parse(raw) as SubsiteClient) : undefined;
      const client = this.#checked(ClientRegistry.build(input, existing), existing);
      // Unchanged (every hub start re-applies its own client and the seed): no write, and no
      // version bump that would make every other hub process reload its client cache.
      const record = await this.#record(client);
      if (raw === record) return client;
      if (!write) return undefined;
      await this.#save(client, record);
      return client;
    };
    // The lock only for a write: most calls (each store check of the portal client) change nothing.
    return (await apply(false)) ?? (await this.#exclusive(input.clientId, () => apply(true)))!;
  }

  /**
   * Changes a client. A client that gains sync here gets a new sync key, returned for the
   * caller to show once, as at registration (tell it by comparing with the client before).
   */
  async update(clientId: string, change: Omit<ClientInput, 'clientId'>): Promise<SubsiteClient> {
    return (await this.updateFrom(clientId, change)).client;
  }

  /**
   * {@link update}, also returning the record the change was made on (`before`), read under the
   * client's lock: what an edit's audit entry and warnings compare with. A copy the caller read
   * first may be older (another change in between) and would name that change's settings too.
   */
  async updateFrom(clientId: string, change: Omit<ClientInput, 'clientId'>, { ifSettings }: { ifSettings?: string } = {}): Promise<{ before: SubsiteClient; client: SubsiteClient; unchanged?: true }> {
    return this.#exclusive(clientId, async () => {
      // Past the cache: a record a second old would put back a secret rotated since.
      const before = await this.#requireUncached(clientId);
      // The console's form was read from other settings (another tab or admin saved since): refused,
      // nothing put back; unless it asks for exactly the settings there now (the same save sent
      // again: a reload of the "Sync turned on" page that answered it), which is nothing to do.
      // The conflict is said before any refused value of the form: the page that answers a refusal
      // carries the record's settings as they are now, so fixing only that value and saving again
      // put back silently what the other tab had changed (a review).
      if (ifSettings !== undefined && settingsFingerprint(before) !== ifSettings) {
        if (ClientRegistry.#asksFor(change, before)) return { before, client: before, unchanged: true };
        throw new ConflictError(msg('errors:clients.changedSince', { clientId }));
      }
      const client = ClientRegistry.#handedOut(this.#checked(ClientRegistry.build({ ...change, clientId }, before), before), before);
      await this.#save(client);
      return { before, client };
    });
  }

  /** Whether `change` asks for exactly the settings `client` has (a change that would be refused does not). */
  static #asksFor(change: Omit<ClientInput, 'clientId'>, client: SubsiteClient): boolean {
    try {
      return settingsFingerprint(ClientRegistry.build({ ...change, clientId: client.clientId }, client)) === settingsFingerprint(client);
    } catch (error) {
      if (error instanceof ValidationError) return false;
      throw error;
    }
  }

  /**
   * New sync key, returned for the caller to show once. With an overlap (seconds), the hub
   * keeps signing with the key in use now for that long (see {@link syncSigningKey}); a second
   * rotation inside the overlap keeps that key as the previous one, since it is still the one
   * the subsite knows. A key no one was shown is in use nowhere: the new key replaces it at
   * once, with no previous key (signing with the unshown one would fail every sync at a
   * subsite configured with the key just shown). With `ifKeySeen` (the console's form, see
   * {@link syncKeySeen}), a key rotated since that page was shown is a ConflictError, nothing changed.
   */
  async rotateSyncKey(clientId: string, overlapSeconds = 0, { ifKeySeen }: { ifKeySeen?: string } = {}): Promise<SubsiteClient> {
    return this.#exclusive(clientId, () => this.#rotateSyncKey(clientId, overlapSeconds, ifKeySeen));
  }

  async #rotateSyncKey(clientId: string, overlapSeconds: number, ifKeySeen: string | undefined): Promise<SubsiteClient> {
    const existing = await this.#requireUncached(clientId);
    if (!existing.sync) throw new ValidationError(msg('errors:clients.noSync', { clientId }));
    if (ifKeySeen !== undefined && syncKeySeen(existing) !== ifKeySeen) throw new ConflictError(msg('errors:clients.syncKeyRotatedSince', { clientId }));
    const now = Math.floor(Date.now() / 1000);
    const { previousKey: _previous, rotatedAt: _rotatedAt, keyUnshown, ...rest } = existing.sync;
    const inOverlap = existing.sync.previousKey !== undefined && (existing.sync.rotatedAt ?? 0) + overlapSeconds > now;
    const previousKey = inOverlap ? existing.sync.previousKey : keyUnshown && keyIsUnshown(existing.sync) ? undefined : existing.sync.key;
    const sync = { ...rest, key: generateSecret(), ...(previousKey ? { previousKey, rotatedAt: inOverlap ? existing.sync.rotatedAt! : now } : {}) };
    const client = { ...existing, sync };
    await this.#save(client);
    return client;
  }

  /**
   * A new client secret, returned in clear for the caller to show once (the record holds its
   * digest). Without an overlap the secret in use stops at once (a leaked one). With one (seconds),
   * it stays valid for that long beside the new one, so the subsite can be given the new secret
   * without a failed token request. One previous secret at most: a second rotation inside an overlap
   * keeps the secret it replaces (the one the subsites were told to switch to) and drops the one
   * before at once (see {@link RotatedSecret.droppedPrevious}).
   */
  async rotateSecret(clientId: string, { overlapSeconds, ifSecretSeen }: { overlapSeconds?: number; ifSecretSeen?: string } = {}): Promise<RotatedSecret> {
    if (overlapSeconds !== undefined && !(Number.isSafeInteger(overlapSeconds) && overlapSeconds > 0 && overlapSeconds <= MAX_SECRET_OVERLAP_SECONDS)) throw new ValidationError(msg('errors:clients.overlapSeconds', { max: MAX_SECRET_OVERLAP_SECONDS }));
    return this.#exclusive(clientId, () => this.#rotateSecret(clientId, overlapSeconds, ifSecretSeen));
  }

  async #rotateSecret(clientId: string, overlapSeconds: number | undefined, ifSecretSeen: string | undefined): Promise<RotatedSecret> {
    const existing = await this.#requireConfidential(clientId);
    if (ifSecretSeen !== undefined && secretSeen(existing) !== ifSecretSeen) throw new ConflictError(msg('errors:clients.secretRotatedSince', { clientId }));
    const droppedPrevious = livePreviousSecret(existing);
    const clientSecret = generateSecret();
    const { clientSecret: _clear, previousSecret: _previous, ...rest } = existing;
    const replaced = currentSecretDigest(existing)!;
    const client: SubsiteClient = {
      ...rest,
      clientSecret,
      clientSecretDigest: secretDigest(clientSecret),
      ...(overlapSeconds ? { previousSecret: { digest: replaced, validUntil: Math.floor(Date.now() / 1000) + overlapSeconds } } : {}),
    };
    await this.#save(client);
    return { client, clientSecret, ...(droppedPrevious ? { droppedPrevious } : {}) };
  }

  /**
   * Ends a rotation's overlap now: the previous secret stops. Returns when it would have ended; a
   * typed error when there is none. `ifSecretSeen` (a console page's `_secretSeen`): refused if the
   * secret was rotated since that page showed its overlap, whose previous secret is then the one
   * the page showed as current, which the subsite may still use.
   */
  async endSecretOverlap(clientId: string, { ifSecretSeen }: { ifSecretSeen?: string } = {}): Promise<number> {
    return this.#exclusive(clientId, async () => {
      const existing = await this.#requireConfidential(clientId);
      if (ifSecretSeen !== undefined && secretSeen(existing) !== ifSecretSeen) throw new ConflictError(msg('errors:clients.overlapRotatedSince', { clientId }));
      const previous = livePreviousSecret(existing);
      if (!previous) throw new ValidationError(msg('errors:clients.noSecretOverlap', { clientId }));
      const { previousSecret: _previous, ...client } = existing;
      await this.#save(client);
      return previous.validUntil;
    });
  }

  /**
   * Once every hub process runs this version: marks the store as holding digests only and
   * rewrites each record that still holds a clear secret (an older hub's, or one kept for older
   * processes) with its digest alone. Returns the ids rewritten. Read past the cache, record by record.
   */
  async hashClearSecrets(): Promise<string[]> {
    await this.store.set(this.keys.clientSecretsHashed(), String(Math.floor(Date.now() / 1000)));
    this.#hashedSeen = true;
    const hashed: string[] = [];
    for (const id of (await this.store.setMembers(this.keys.clients())).sort()) {
      const rewritten = await this.#exclusive(id, async () => {
        const existing = await this.findUncached(id);
        if (existing?.clientSecret === undefined) return false;
        const previous = livePreviousSecret(existing);
        const { clientSecret: _clear, previousSecret: _previous, ...rest } = existing;
        await this.#save({ ...rest, clientSecretDigest: currentSecretDigest(existing)!, ...(previous ? { previousSecret: previous } : {}) });
        return true;
      });
      if (rewritten) hashed.push(id);
    }
    return hashed;
  }

  async #requireConfidential(clientId: string): Promise<SubsiteClient> {
    // Past the cache: a rotation builds on the record as it is now, not as this process saw it up to a second ago.
    // Not found means gone: the cached copy of a client another process removed would be written back.
    const existing = await this.#requireUncached(clientId);
    if (existing.tokenEndpointAuthMethod === 'none') throw new ValidationError(msg('errors:clients.publicNoSecret', { clientId }));
    return existing;
  }

  /**
   * Removes the client. With `ifGeneration` (the console's confirmation page carries the
   * registration it was shown), a client removed and registered again under the same id since is
   * not the one removed: refused as a conflict, nothing removed.
   */
  async remove(clientId: string, { ifGeneration }: { ifGeneration?: string } = {}): Promise<void> {
    await this.#exclusive(clientId, async () => {
      const current = await this.#requireUncached(clientId);
      if (ifGeneration !== undefined && current.generation !== undefined && current.generation !== ifGeneration) {
        throw new ConflictError(msg('errors:clients.registeredAgain', { clientId }));
      }
      await this.#write(clientId, null);
    });
  }
}

/**
 * The secret of a confidential client: a given one that is not its secret already, or a new one
 * when it has none, comes back in clear (`clientSecret`, for the caller to show once) beside its
 * digest, and ends an overlap (the previous secret goes); otherwise the record's are kept as they
 * are (a record an older hub wrote keeps its clear secret: see {@link ClientRegistry.hashClearSecrets}),
 * with a previous secret whose overlap has ended dropped.
 */
function secretFields(given: string | undefined, existing: SubsiteClient | undefined): Pick<SubsiteClient, 'clientSecret' | 'clientSecretDigest' | 'previousSecret'> {
  if (given !== undefined && given.length < 32) throw new ValidationError(msg('errors:clients.secretShort'));
  const held = existing ? currentSecretDigest(existing) : undefined;
  const digest = given !== undefined ? secretDigest(given) : undefined;
  if (held === undefined || (digest !== undefined && digest !== held)) {
    const issued = given ?? generateSecret();
    return { clientSecret: issued, clientSecretDigest: digest ?? secretDigest(issued) };
  }
  const previous = livePreviousSecret(existing!);
  return {
    ...(existing!.clientSecret !== undefined ? { clientSecret: existing!.clientSecret } : {}),
    // From the clear secret where the record has both (currentSecretDigest): a digest an older
    // process's rotation left beside the secret it put there names the secret it replaced. A
    // record with no digest gets none here: older processes drop the field at each of their
    // writes, and adding it back at each of ours made every store check of both rewrite their
    // own client record during a rolling update (`clients hash-secrets` hashes those).
    ...(existing!.clientSecretDigest !== undefined ? { clientSecretDigest: held } : {}),
    ...(previous ? { previousSecret: previous } : {}),
  };
}

/**
 * Whether a client's sync key was shown to no one. A rotation by a hub from before the mark kept
 * it (it copied the sync settings whole) beside the key it had just shown, and with a previous
 * key: this version never writes the mark beside one. Taken as unshown, that key would be
 * replaced at the next rotation with no overlap, while the subsite holds it (after a rollback and
 * a rotation on the older hub).
 */
function keyIsUnshown(sync: NonNullable<SubsiteClient['sync']>): boolean {
  return sync.keyUnshown === true && sync.previousKey === undefined;
}

/** The key the hub signs a subsite's sync codes with: the previous one while a rotation's overlap lasts. */
export function syncSigningKey(sync: NonNullable<SubsiteClient['sync']>, overlapSeconds: number, now = Math.floor(Date.now() / 1000)): string {
  if (sync.previousKey && sync.rotatedAt !== undefined && sync.rotatedAt + overlapSeconds > now) return sync.previousKey;
  return sync.key;
}
