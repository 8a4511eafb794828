import { createRemoteJWKSet, customFetch } from 'jose';
import type { JWTVerifyGetKey } from 'jose' with { 'resolution-mode': 'import' };
import { AuthorizationCode, type AuthorizationTokenConfig } from 'simple-oauth2';
import type { ResolvedOptions } from './options.js';
import { HubRequestError, answered, hubRequestError } from './hub-errors.js';
import { HubReachability } from './hub-reachability.js';

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
  /** Server-to-server: already rewritten to `hubInternalUrl`; absent if the hub has none. */
  userinfo_endpoint?: string;
  /** RFC 9207: the hub adds `iss` to its authorization answers, so an answer without it is refused. */
  authorization_response_iss_parameter_supported?: boolean;
}

/** The token endpoint's answer, as far as the kit uses it. */
export interface HubTokenSet {
  id_token: string;
  access_token?: string | undefined;
  expires_in?: number | undefined;
  refresh_token?: string | undefined;
}

const DISCOVERY_TTL_MS = 3_600_000; // re-read discovery once an hour
const JWKS_CACHE_MAX_AGE_MS = 3_600_000; // keys are refetched sooner when an unknown kid shows up
const JWKS_COOLDOWN_MS = 30_000; // at most one refetch for unknown kids per 30 s
const REDISCOVERY_COOLDOWN_MS = 30_000; // a 404 at a cached endpoint rereads discovery at most once per 30 s

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
  #rediscoveredAt = 0;
  readonly #reachability: HubReachability;

  constructor(private readonly options: ResolvedOptions) {
    // The probe is the discovery fetch itself, with the probe's shorter timeout: what it reads
    // is kept as the cached document, as any discovery fetch's is.
    this.#reachability = new HubReachability(async (timeoutMs) => {
      const fresh = await this.#fetchMetadata(timeoutMs);
      this.#metadata = Promise.resolve(fresh);
      this.#metadataAt = Date.now();
    }, options.hubTimeoutMs);
  }

  /**
   * Before a browser is sent to the hub for a silent check: resolves when the hub answers,
   * rejects with a 503 {@link HubRequestError} when it cannot be reached (so the page is served
   * instead of a browser connection error). No hub request when the kit heard from the hub in
   * the last seconds ({@link HubReachability}); the discovery fetch when it is due anyway.
   */
  async ensureReachable(): Promise<void> {
    if (this.#reachability.trusted()) return;
    if (!this.#metadata || Date.now() - this.#metadataAt > DISCOVERY_TTL_MS) {
      await this.metadata(); // fetched now: that fetch is the check
      return;
    }
    await this.#reachability.check();
  }

  /**
   * A server-to-server call, noted for {@link ensureReachable}: an answer trusts the hub for a
   * few seconds; a failure that would be a 503 (no answer, a timeout, a 5xx) makes the next
   * silent check probe first.
   */
  async #tracked<T>(call: Promise<T>): Promise<T> {
    try {
      const result = await call;
      this.#reachability.answered();
      return result;
    } catch (error) {
      if (hubRequestError('hub call', this.options.hubInternalUrl, error, this.options.hubTimeoutMs).status === 503) this.#reachability.unreachable();
      throw error;
    }
  }

  /** The hub's discovery document, cached for an hour; a failed fetch is retried on the next call. */
  metadata(): Promise<HubMetadata> {
    if (!this.#metadata || Date.now() - this.#metadataAt > DISCOVERY_TTL_MS) {
      this.#metadataAt = Date.now();
      const pending = this.#tracked(this.#fetchMetadata());
      pending.catch(() => {
        if (this.#metadata === pending) this.#metadata = undefined;
      });
      this.#metadata = pending;
    }
    return this.#metadata;
  }

  /** A jose key getter over the hub's JWKS (fetched from the internal URL and cached). */
  readonly jwks: JWTVerifyGetKey = async (header, token) => {
    try {
      return await this.#jwksGet(header, token);
    } catch (error) {
      // The JWKS URL answered something other than a key set (a 404 after the hub moved it):
      // discovery may name another one now; try there once.
      if (error instanceof HubRequestError && error.status === 502 && (await this.#rediscovered('jwks_uri', error.url))) {
        return await this.#jwksGet(header, token);
      }
      throw error;
    }
  };

  async #jwksGet(...[header, token]: Parameters<JWTVerifyGetKey>): Promise<Awaited<ReturnType<JWTVerifyGetKey>>> {
    const { jwks_uri } = await this.metadata();
    if (this.#jwks?.uri !== jwks_uri) {
      this.#jwks = {
        uri: jwks_uri,
        get: createRemoteJWKSet(new URL(jwks_uri), {
          timeoutDuration: this.options.hubTimeoutMs,
          cooldownDuration: JWKS_COOLDOWN_MS,
          cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
          // jose says only "Expected 200 OK" for any other answer: the hub's status decides
          // whether it is a 503 (a 5xx: it clears by itself, a silent check is tried again) or a
          // 502. Before, a JWKS answering 500 gave the 502 "configuration problem" page and dropped
          // Request-Login (a kit-faults review).
          [customFetch]: async (url: string, init: RequestInit) => {
            const response = await fetch(url, init);
            if (response.status === 200) return response;
            const type = response.headers.get('content-type')?.split(';')[0]?.trim();
            const body = await response.text().catch(() => '');
            throw answered('JWKS request', jwks_uri, response.status, body, undefined, type && /json/i.test(type) ? '' : ` (not JSON: ${type ? type.slice(0, 60) : 'no content type'})`);
          },
        }),
      };
    }
    try {
      return await this.#jwks.get(header, token);
    } catch (error) {
      // A key that is not there is the token's fault; an unreachable JWKS is the hub's.
      if (error instanceof Error && /JWKS(NoMatchingKey|MultipleMatchingKeys)/.test(error.name)) throw error;
      throw hubRequestError('JWKS request', jwks_uri, error, this.options.hubTimeoutMs);
    }
  }

  /**
   * After a cached endpoint failed as a wrong URL would (404, or no key set at the JWKS URL):
   * rereads discovery now instead of at the end of its hour, and says whether it names
   * another `name` endpoint than `failed`. Before, a hub upgrade that moved its token endpoint or
   * JWKS failed every sign-in until the site's cached document expired or it was restarted.
   * At most once per {@link REDISCOVERY_COOLDOWN_MS}, so a hub whose endpoint is simply broken
   * costs one extra discovery fetch in 30 s, not one per sign-in.
   */
  async #rediscovered(name: 'token_endpoint' | 'jwks_uri', failed: string): Promise<boolean> {
    if (Date.now() - this.#rediscoveredAt < REDISCOVERY_COOLDOWN_MS) return false;
    this.#rediscoveredAt = Date.now();
    this.#metadata = undefined;
    let fresh: HubMetadata;
    try {
      fresh = await this.metadata();
    } catch {
      return false; // the failure the caller has is the one to report
    }
    if (fresh[name] === failed) return false;
    this.options.logger.warn(`subsite-kit: the hub's discovery was read again after ${failed} failed: ${name} is now ${fresh[name]}`);
    return true;
  }

  /** Exchanges an authorization code (client_secret_basic, with the PKCE verifier). */
  async exchangeCode(code: string, codeVerifier: string): Promise<HubTokenSet> {
    try {
      return await this.#exchangeCode(code, codeVerifier);
    } catch (error) {
      // A 404 at the token endpoint spent no code: if discovery names another endpoint now (the
      // hub moved it), the same code is exchanged there.
      if (error instanceof HubRequestError && error.answeredStatus === 404 && (await this.#rediscovered('token_endpoint', error.url))) {
        return await this.#exchangeCode(code, codeVerifier);
      }
      throw error;
    }
  }

  async #exchangeCode(code: string, codeVerifier: string): Promise<HubTokenSet> {
    const client = await this.#oauthClient();
    const params: AuthorizationTokenConfig & { code_verifier: string } = {
      code,
      redirect_uri: this.options.redirectUri,
      code_verifier: codeVerifier,
    };
    const { token_endpoint } = await this.metadata();
    let token: Record<string, unknown>;
    try {
      ({ token } = await this.#tracked(client.getToken(params)));
    } catch (error) {
      throw hubRequestError('token request', token_endpoint, error, this.options.hubTimeoutMs);
    }
    if (typeof token.id_token !== 'string') throw new HubRequestError(502, 'token request', token_endpoint, 'the answer has no id_token (is "openid" among the scopes?)');
    return {
      id_token: token.id_token,
      access_token: typeof token.access_token === 'string' ? token.access_token : undefined,
      expires_in: typeof token.expires_in === 'number' ? token.expires_in : undefined,
      refresh_token: typeof token.refresh_token === 'string' ? token.refresh_token : undefined,
    };
  }

  /**
   * Refresh grant (RFC 6749 §6) with client_secret_basic. The hub rotates refresh tokens: the
   * answer's refresh token replaces the old one, which is spent.
   * @throws HubRequestError with `code` `invalid_grant` when the hub no longer honours it.
   */
  async refresh(refreshToken: string): Promise<HubTokenSet> {
    const client = await this.#oauthClient();
    const { token_endpoint } = await this.metadata();
    let token: Record<string, unknown>;
    try {
      ({ token } = await this.#tracked(client.createToken({ refresh_token: refreshToken }).refresh()));
    } catch (error) {
      throw hubRequestError('refresh request', token_endpoint, error, this.options.hubTimeoutMs);
    }
    if (typeof token.access_token !== 'string') throw new HubRequestError(502, 'refresh request', token_endpoint, 'the answer has no access_token');
    return {
      id_token: typeof token.id_token === 'string' ? token.id_token : '',
      access_token: token.access_token,
      expires_in: typeof token.expires_in === 'number' ? token.expires_in : undefined,
      refresh_token: typeof token.refresh_token === 'string' ? token.refresh_token : undefined,
    };
  }

  /** The hub's userinfo (OIDC Core §5.3) for an access token. */
  async userinfo(accessToken: string): Promise<Record<string, unknown>> {
    const { userinfo_endpoint } = await this.metadata();
    if (!userinfo_endpoint) throw new HubRequestError(502, 'userinfo request', this.options.hubInternalUrl, 'the hub\'s discovery names no userinfo_endpoint');
    let response: Response;
    try {
      response = await fetch(userinfo_endpoint, {
        headers: { accept: 'application/json', authorization: `Bearer ${accessToken}` },
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.hubTimeoutMs),
      });
    } catch (error) {
      throw hubRequestError('userinfo request', userinfo_endpoint, error, this.options.hubTimeoutMs);
    }
    const text = await response.text();
    if (!response.ok) {
      // RFC 6750 §3: the error code is in WWW-Authenticate.
      const fromHeader = /error="([^"]+)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1];
      throw answered('userinfo request', userinfo_endpoint, response.status, fromHeader ? { error: fromHeader } : text);
    }
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new HubRequestError(502, 'userinfo request', userinfo_endpoint, 'the answer is not JSON', { cause: error });
    }
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

  async #fetchMetadata(timeoutMs = this.options.hubTimeoutMs): Promise<HubMetadata> {
    const url = `${this.options.hubInternalUrl}/.well-known/openid-configuration`;
    const step = 'hub discovery';
    let document: Record<string, unknown>;
    try {
      const response = await fetch(url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      if (!response.ok) throw answered(step, url, response.status, text);
      try {
        document = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new HubRequestError(502, step, url, 'the answer is not JSON: is hubInternalUrl the hub\'s root?');
      }
    } catch (error) {
      throw hubRequestError(step, url, error, timeoutMs);
    }

    // The document must describe the hub we were configured for (OIDC Discovery 1.0 §4.3).
    if (typeof document.issuer !== 'string' || !this.options.issuers.includes(document.issuer)) {
      const named = typeof document.issuer === 'string' ? `"${document.issuer.slice(0, 200)}"` : 'no issuer';
      throw new HubRequestError(502, step, url, `the hub's issuer is ${named} but hubUrl is "${this.options.hubUrl}"`, {
        code: 'issuer_mismatch',
        hint: 'set hubUrl to the hub\'s issuer (the browser-facing URL the hub was configured with)',
      });
    }
    const endpoint = (name: string, required: boolean): string | undefined => {
      const value = document[name];
      if (typeof value === 'string' && /^https?:\/\//.test(value)) return value;
      if (required) throw new HubRequestError(502, step, url, `the document lacks ${name}`);
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
      ...(endpoint('userinfo_endpoint', false) ? { userinfo_endpoint: this.#internal(endpoint('userinfo_endpoint', false)!) } : {}),
      ...(document.authorization_response_iss_parameter_supported === true ? { authorization_response_iss_parameter_supported: true } : {}),
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
