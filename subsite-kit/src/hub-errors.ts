import { errors as joseErrors } from 'jose';
import { KitError } from './errors.js';

/**
 * A server-to-server step with the hub failed (discovery, token, JWKS, userinfo, ID token).
 * `logMessage` names the step, the URL and why (the network error's code, the hub's OAuth
 * error, the issuer it named), for the site's operator; `message` says what failed in words a
 * visitor may see. Neither ever carries a token, a code or a secret.
 * 503 when the hub could not be reached (retry later), 502 when it answered something unusable.
 */
export class HubRequestError extends KitError {
  override readonly name = 'HubRequestError';
  /** What the kit was doing, e.g. `token request`. */
  readonly step: string;
  /** The URL that failed. */
  readonly url: string;
  /** Why, e.g. `connection refused (ECONNREFUSED)` or `the hub answered 401 invalid_client`. */
  readonly reason: string;
  /** The network error's code or the hub's OAuth `error`, when there is one. */
  readonly code: string | undefined;
  /** The HTTP status the hub answered with, when it answered (a 404 says the URL is wrong). */
  readonly answeredStatus: number | undefined;

  constructor(status: 502 | 503, step: string, url: string, reason: string, options: { cause?: unknown; code?: string; hint?: string; answeredStatus?: number } = {}) {
    super(status, status === 503 ? 'temporarily_unavailable' : 'server_error', `${step} to the sign-in service failed`, options);
    this.step = step;
    this.url = url;
    this.reason = options.hint ? `${reason}: ${options.hint}` : reason;
    this.code = options.code;
    this.answeredStatus = options.answeredStatus;
  }

  /** One log line: which step, which URL, why. */
  get logMessage(): string {
    return `${this.step} ${this.url} failed: ${this.reason}`;
  }
}

/** Codes of network errors (Node's `cause.code`, undici's, wreck's) and what they usually mean here. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens there: is the hub running, is hubInternalUrl right?)',
  ENOTFOUND: 'host not found (Node does not resolve *.localhost: set hubInternalUrl to an address this server can reach)',
  EAI_AGAIN: 'host name lookup failed (DNS)',
  ECONNRESET: 'connection reset by the peer',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_SOCKET: 'connection closed by the peer',
  EPROTO: 'TLS handshake failed (https against an http hub?)',
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS handshake failed (https against an http hub?)',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'TLS handshake failed (https against an http hub?)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the hub\'s TLS certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'the hub\'s TLS certificate chain is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the hub\'s TLS certificate cannot be verified',
  CERT_HAS_EXPIRED: 'the hub\'s TLS certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the hub\'s TLS certificate does not name this host',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the hub\'s TLS certificate is from a CA this server does not trust (a private CA: NODE_EXTRA_CA_CERTS?)',
  UNABLE_TO_GET_ISSUER_CERT: 'the hub\'s TLS certificate chain is incomplete or from a CA this server does not trust',
  CERT_UNTRUSTED: 'the hub\'s TLS certificate is not trusted here',
};

/**
 * TLS failures that are the site's configuration, not an outage: https against an http hub, a
 * certificate nobody vouches for or that names another host. They never clear by themselves, so
 * they are answered as a configuration problem (502: the page says so, a silent check drops
 * Request-Login) rather than "try again in a moment" with a retry every 30 s.
 */
const MISCONFIGURED_TLS = new Set([
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_UNTRUSTED',
  // Not CERT_HAS_EXPIRED: it clears once the certificate is renewed, so it stays an outage (503).
]);

/** The first `code` along an error's `cause` chain (fetch puts the socket's code on `cause`). */
export function networkCodeOf(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ERR_JWKS_TIMEOUT') return code;
    const name = (current as { name?: unknown }).name;
    if (name === 'TimeoutError' || name === 'AbortError') return 'ETIMEDOUT';
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether an error is a transport failure (no HTTP answer at all). */
export function isNetworkError(error: unknown): boolean {
  if (error instanceof joseErrors.JWKSTimeout || isFetchFailure(error)) return true;
  const code = networkCodeOf(error);
  return code !== undefined && (code in NETWORK_REASONS || /^(E[A-Z]+|UND_ERR_\w+|ERR_SSL_\w+|ERR_TLS_\w+)$/.test(code));
}

/** fetch() rejects with `TypeError('fetch failed')` for every network failure (WHATWG Fetch). */
function isFetchFailure(error: unknown): boolean {
  // By name, not instanceof: fetch's TypeError may come from another realm (vm contexts, test runners).
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  return name === 'TypeError' && message === 'fetch failed';
}

/** "connection refused (ECONNREFUSED)", "timed out after 5000 ms", … */
export function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof joseErrors.JWKSTimeout) return `timed out after ${timeoutMs} ms`;
  const code = networkCodeOf(error);
  if (code === 'ETIMEDOUT' && !(error as { code?: unknown })?.code) return `timed out after ${timeoutMs} ms (ETIMEDOUT)`;
  if (code === undefined) {
    // undici's own refusals carry no code, only a short fixed message (e.g. "bad port").
    const cause = (error as { cause?: unknown })?.cause;
    const causeMessage = (cause as { message?: unknown })?.message;
    if (isFetchFailure(error) && typeof causeMessage === 'string') return `fetch refused: ${causeMessage.slice(0, 100)}`;
    const name = (error as { name?: unknown })?.name;
    return typeof name === 'string' ? name : 'unknown error';
  }
  return `${NETWORK_REASONS[code] ?? 'network error'} (${code})`;
}

/**
 * A failed name lookup, with the host that was looked up. Only a `*.localhost` host gets the
 * hint that Node does not resolve those; any other (a typo in hubInternalUrl, a name only
 * another network knows) was told the same, which sent its developer after the wrong setting.
 */
function lookupReason(code: string, url: string): string | undefined {
  if (code !== 'ENOTFOUND' && code !== 'EAI_AGAIN') return undefined;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return undefined; // not a URL (the reachability probe names its step only)
  }
  if (code === 'EAI_AGAIN') return `host name lookup failed (DNS) for "${host}" (EAI_AGAIN)`;
  if (host === 'localhost' || host.endsWith('.localhost')) return networkReason({ code }, 0);
  return `host not found: this server finds no address for "${host}": is the host name in hubInternalUrl (hubUrl when hubInternalUrl is not set) right, and known to this server's DNS? (ENOTFOUND)`;
}

/** What a hub OAuth error usually means for the site's configuration. */
const OAUTH_HINTS: Record<string, string> = {
  invalid_client: 'the hub refused this site\'s client credentials: check clientId and clientSecret against the hub\'s registration',
  unauthorized_client: 'this client may not use this grant at the hub: check its registered grants',
  invalid_grant: 'the code or refresh token was refused (used already, expired, or redirectUri / PKCE mismatch)',
};

/** A failure of a server-to-server request, as a {@link HubRequestError}. */
export function hubRequestError(step: string, url: string, error: unknown, timeoutMs: number): HubRequestError {
  if (error instanceof HubRequestError) return error;
  if (isNetworkError(error)) {
    const code = networkCodeOf(error) ?? 'fetch_failed';
    const reason = lookupReason(code, url) ?? networkReason(error, timeoutMs);
    return new HubRequestError(MISCONFIGURED_TLS.has(code) ? 502 : 503, step, url, reason, { cause: error, code });
  }
  // simple-oauth2 (wreck) puts the HTTP answer on a Boom error: output.statusCode and data.payload.
  const boom = error as { isBoom?: boolean; output?: { statusCode?: number }; data?: { payload?: unknown; res?: unknown }; message?: unknown };
  // wreck's own deadline (the kit's hubTimeoutMs) is a Boom 504 with no answer: the hub sent nothing.
  if (boom?.isBoom && boom.output?.statusCode === 504 && boom.data?.res === undefined && boom.message === 'Client request timeout') {
    return new HubRequestError(503, step, url, `timed out after ${timeoutMs} ms (the hub sent no answer)`, { cause: error, code: 'ETIMEDOUT' });
  }
  // An answer that is not JSON (an HTML error page of the hub or a proxy in front of it) is wreck's
  // own 406, whatever the hub answered: report the hub's status and what it sent. Before, the log
  // said "the hub answered 406" and a 500 or 503 page of the hub was a 502 "Sign-in failed"
  // instead of the "temporarily unavailable" 503 (a kit-faults review).
  const res = boom?.data?.res as { statusCode?: unknown; headers?: Record<string, unknown> } | undefined;
  if (boom?.isBoom && boom.output?.statusCode === 406 && boom.message === 'The content-type is not JSON compatible' && typeof res?.statusCode === 'number') {
    const type = typeof res.headers?.['content-type'] === 'string' ? String(res.headers['content-type']).split(';')[0]!.trim().slice(0, 60) : 'no content type';
    return answered(step, url, res.statusCode, undefined, error, ` (not JSON: ${type})`);
  }
  if (boom?.isBoom && typeof boom.output?.statusCode === 'number') {
    return answered(step, url, boom.output.statusCode, boom.data?.payload, error);
  }
  return new HubRequestError(502, step, url, error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error', { cause: error });
}

/** The hub answered `status` with `body` (an RFC 6749 error object, or anything). */
export function answered(step: string, url: string, status: number, body: unknown, cause?: unknown, what = ''): HubRequestError {
  const payload = parsed(body);
  const oauthError = typeof payload?.error === 'string' ? payload.error.slice(0, 64) : undefined;
  const description = typeof payload?.error_description === 'string' ? ` (${payload.error_description.slice(0, 200)})` : '';
  const reason = `the hub answered ${status}${oauthError ? ` ${oauthError}${description}` : what}`;
  const hint = oauthError ? OAUTH_HINTS[oauthError] : status === 404 ? 'wrong URL: is hubInternalUrl the hub\'s root?' : undefined;
  return new HubRequestError(status >= 500 ? 503 : 502, step, url, reason, { cause, answeredStatus: status, ...(oauthError ? { code: oauthError } : {}), ...(hint ? { hint } : {}) });
}

function parsed(body: unknown): Record<string, unknown> | undefined {
  if (Buffer.isBuffer(body)) body = body.toString('utf8');
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
}
