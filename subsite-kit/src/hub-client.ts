import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { AuthorizationCode, type AuthorizationTokenConfig } from 'simple-oauth2';
import type { ResolvedOptions } from './options.js';

/** The parts of the hub's discovery document the kit uses. */
export interface HubMetadata {
  issuer: string;
  /** Browser-facing (issuer host). */
  authorization_endpoint: string;
  /** Browser-facing (issuer host); may be absent if the hub has no RP-initiated logout. */
  end_session_endpoint?: string | undefined;
  /** Server-to-server: already rewritten to `hubInternalUrl`. */
  token_endpoint: string;
  /** Server-to-server: already rewritten to `hubInternalUrl`. */
  jwks_uri: string;
}

/** The token endpoint's answer, as far as the kit uses it. */
export interface HubTokenSet {
  id_token: string;
  access_token?: string | undefined;
  expires_in?: number | undefined;
}

const DISCOVERY_TTL_MS = 3_600_000; // re-read discovery once an hour
const JWKS_CACHE_MAX_AGE_MS = 3_600_000; // keys are refetched sooner when an unknown kid shows up
const JWKS_COOLDOWN_MS = 30_000; // at most one refetch for unknown kids per 30 s

/**
 * Talks to the hub server-to-server. Discovery and the JWKS are cached, so a lazy
 * verification costs exactly two hub requests in steady state: the browser's authorize and
 * the kit's token request. The discovery document's URLs carry the issuer's (browser-facing)
 * host; those the server calls are rewritten to `hubInternalUrl`.
 */
export class HubClient {
  #metadata: Promise<HubMetadata> | undefined;
  #metadataAt = 0;
  #jwks: { uri: string; get: JWTVerifyGetKey } | undefined;
  #oauth: { tokenEndpoint: string; client: AuthorizationCode } | undefined;

  constructor(private readonly options: ResolvedOptions) {}

  /** The hub's discovery document, cached for an hour; a failed fetch is retried on the next call. */
  metadata(): Promise<HubMetadata> {
    if (!this.#metadata || Date.now() - this.#metadataAt > DISCOVERY_TTL_MS) {
      this.#metadataAt = Date.now();
      const pending = this.#fetchMetadata();
      pending.catch(() => {
        if (this.#metadata === pending) this.#metadata = undefined;
      });
      this.#metadata = pending;
    }
    return this.#metadata;
  }

  /** A jose key getter over the hub's JWKS (fetched from the internal URL and cached). */
  readonly jwks: JWTVerifyGetKey = async (header, token) => {
    const { jwks_uri } = await this.metadata();
    if (this.#jwks?.uri !== jwks_uri) {
      this.#jwks = {
        uri: jwks_uri,
        get: createRemoteJWKSet(new URL(jwks_uri), {
          timeoutDuration: this.options.hubTimeoutMs,
          cooldownDuration: JWKS_COOLDOWN_MS,
          cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
        }),
      };
    }
    return this.#jwks.get(header, token);
  };

  /** Exchanges an authorization code (client_secret_basic, with the PKCE verifier). */
  async exchangeCode(code: string, codeVerifier: string): Promise<HubTokenSet> {
    const client = await this.#oauthClient();
    const params: AuthorizationTokenConfig & { code_verifier: string } = {
      code,
      redirect_uri: this.options.redirectUri,
      code_verifier: codeVerifier,
    };
    const { token } = await client.getToken(params);
    if (typeof token.id_token !== 'string') throw new Error('token response has no id_token');
    return {
      id_token: token.id_token,
      access_token: typeof token.access_token === 'string' ? token.access_token : undefined,
      expires_in: typeof token.expires_in === 'number' ? token.expires_in : undefined,
    };
  }

  async #oauthClient(): Promise<AuthorizationCode> {
    const { token_endpoint } = await this.metadata();
    if (this.#oauth?.tokenEndpoint !== token_endpoint) {
      const url = new URL(token_endpoint);
      this.#oauth = {
        tokenEndpoint: token_endpoint,
        client: new AuthorizationCode({
          client: { id: this.options.clientId, secret: this.options.clientSecret },
          auth: { tokenHost: url.origin, tokenPath: `${url.pathname}${url.search}` },
          // client_secret_basic, form body, as oidc-provider expects for a confidential client.
          options: { authorizationMethod: 'header', bodyFormat: 'form' },
          http: { timeout: this.options.hubTimeoutMs },
        }),
      };
    }
    return this.#oauth.client;
  }

  async #fetchMetadata(): Promise<HubMetadata> {
    const url = `${this.options.hubInternalUrl}/.well-known/openid-configuration`;
    const response = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(this.options.hubTimeoutMs),
    });
    if (!response.ok) throw new Error(`hub discovery answered ${response.status}`);
    const document = (await response.json()) as Record<string, unknown>;

    // The document must describe the hub we were configured for (OIDC Discovery 1.0 §4.3).
    if (typeof document.issuer !== 'string' || !this.options.issuers.includes(document.issuer)) {
      throw new Error('hub discovery issuer does not match hubUrl');
    }
    const endpoint = (name: string, required: boolean): string | undefined => {
      const value = document[name];
      if (typeof value === 'string' && /^https?:\/\//.test(value)) return value;
      if (required) throw new Error(`hub discovery lacks ${name}`);
      return undefined;
    };
    return {
      issuer: document.issuer,
      // Browser-facing endpoints: an OIDC provider builds them from the request's host, so a
      // document fetched from the internal URL names internal hosts; put them back on hubUrl.
      authorization_endpoint: this.#browser(endpoint('authorization_endpoint', true)!),
      end_session_endpoint: this.#browserOptional(endpoint('end_session_endpoint', false)),
      token_endpoint: this.#internal(endpoint('token_endpoint', true)!),
      jwks_uri: this.#internal(endpoint('jwks_uri', true)!),
    };
  }

  /** Rewrites an internal hub URL to the browser-facing one, for redirects. */
  #browser(url: string): string {
    const { hubUrl, hubInternalUrl } = this.options;
    if (url === hubInternalUrl || url.startsWith(`${hubInternalUrl}/`) || url.startsWith(`${hubInternalUrl}?`)) return hubUrl + url.slice(hubInternalUrl.length);
    return url;
  }

  #browserOptional(url: string | undefined): string | undefined {
    return url === undefined ? undefined : this.#browser(url);
  }

  /** Rewrites a browser-facing hub URL to the internal one for server-to-server calls. */
  #internal(url: string): string {
    const { hubUrl, hubInternalUrl } = this.options;
    if (url === hubUrl || url.startsWith(`${hubUrl}/`) || url.startsWith(`${hubUrl}?`)) return hubInternalUrl + url.slice(hubUrl.length);
    return url;
  }
}
