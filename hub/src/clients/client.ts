import type { SigningAlg } from '../secrets/secrets.js';

export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials' | 'password' | 'implicit';
export type AuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';
export type SyncTransport = 'img' | 'script';

/** A registered relying party; "subsite" when it takes part in login sync. */
export interface SubsiteClient {
  clientId: string;
  /**
   * The client secret in clear. On a stored record: only in one written by a hub before secrets
   * were hashed, or by this version while older hub processes may still read the store (see
   * `clients hash-secrets`); this version authenticates it as it is. On the value `register`,
   * `update`, `upsert` and `rotateSecret` return: the secret the call made or was given, for the
   * caller to show once. Absent for public clients (auth method `none`).
   */
  clientSecret?: string;
  /** The SHA-256 of the client secret (client-secret.ts): what the hub checks a presented secret against. */
  clientSecretDigest?: string;
  /**
   * The secret replaced by a rotation with overlap: still accepted until `validUntil` (epoch
   * seconds, exclusive), so the subsite can be given the new one without a failed token request.
   * Dropped at the next write after it ends, or at once by `clients rotate-secret ID --end-overlap`.
   */
  previousSecret?: { digest: string; validUntil: number };
  name: string;
  /** Exact-match list; no wildcards, no prefix matching (RFC 9700 §4.1.3). */
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: GrantType[];
  tokenEndpointAuthMethod: AuthMethod;
  /** First-party: consent is never asked. */
  trusted: boolean;
  /** PKCE S256 on every authorization request (default true; public clients always). */
  requirePkce: boolean;
  scope: string;
  sync?: {
    loginUrl: string;
    logoutUrl: string;
    transport: SyncTransport;
    /** HS256 key for this subsite's sync codes (its own, so one subsite cannot forge another's). */
    key: string;
    /** Still accepted by the subsite during a rotation; the hub signs with `key`. */
    previousKey?: string;
    /**
     * When `key` replaced `previousKey` (epoch seconds). Until the overlap after it has passed
     * the hub still signs with `previousKey`, so the subsite can be given the new key (with
     * the old one as its previous key) without a single sync failing.
     */
    rotatedAt?: number;
    /**
     * The hub made `key` and has handed it to no one (a declarative `upsert` without
     * `syncKey`): no subsite can have it, so a rotation replaces it at once, with no overlap.
     * `register` and `update` hand a key they make to their caller, who shows it once.
     */
    keyUnshown?: true;
  };
  userdeleteUrl?: string;
  backchannelLogoutUri?: string;
  /** Legacy CAS 6-style endpoints (`/oauth2.0/*`) for this client: off unless set (seed 001). */
  casCompat?: boolean;
  /** Legacy: credentials (`client_secret`, `access_token`) accepted in a query string on the CAS-style endpoints. */
  allowSecretInQuery?: boolean;
  /**
   * Plain-http URLs off the loopback interface accepted for this client although the hub's
   * issuer is https (an intranet site without TLS): its codes, tokens and logout notices then
   * cross the network in clear. Off unless an operator sets it.
   */
  allowHttp?: boolean;
  /** The ID token's signature (`id_token_signed_response_alg`): absent is RS256, what every client accepts. */
  idTokenSignedResponseAlg?: SigningAlg;
  /** Internal by design: the hub's own portal client is never shown or editable. */
  internal?: boolean;
  createdAt: number; // epoch seconds
  /**
   * Random, set when the client is registered and kept by every change: tokens, grants and
   * consents carry the generation they were given under, so a removed client's id registered
   * again (another site, a new secret) inherits none of them. Absent on clients registered
   * before it was kept (nothing is checked for those).
   */
  generation?: string;
}

export const DEFAULT_SCOPE = 'openid profile email offline_access';

/** The id of the hub's own client (its portal sign-in): the hub registers it itself, nobody else may. */
export const PORTAL_CLIENT_ID = 'hub-portal';
