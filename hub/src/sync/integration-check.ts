import { randomUUID } from 'node:crypto';
import { syncSigningKey, type ClientRegistry } from '../clients/client-registry.js';
import type { SubsiteClient } from '../clients/client.js';
import { serverFetch, type ServerFetch } from '../http/server-fetch.js';
import { signSyncCode } from './sync-codes.js';

/** What one endpoint's check found. */
export type IntegrationStatus = 'ok' | 'wrong_key' | 'wrong_url' | 'unreachable' | 'rejected' | 'unexpected';

export interface EndpointCheck {
  endpoint: 'synclogin' | 'synclogout';
  /** The URL called (the sync URL, or its path on `baseUrl`). */
  url: string;
  status: IntegrationStatus;
  /** One line an administrator can act on (English: the CLI, logs). */
  detail: string;
  /** The same, as a translation key under `admin:check.` with its values (the console). */
  reason: string;
  values?: Record<string, string | number>;
  /** The HTTP status the subsite answered, when it answered. */
  httpStatus?: number;
}

export interface IntegrationReport {
  clientId: string;
  /** Every endpoint answered ok. */
  ok: boolean;
  checks: EndpointCheck[];
}

/** Headline per status, for the console and the CLI. */
export const STATUS_TEXT: Record<IntegrationStatus, string> = {
  ok: 'OK',
  wrong_key: 'wrong key',
  wrong_url: 'wrong URL (404)',
  unreachable: 'unreachable',
  rejected: 'code rejected',
  unexpected: 'unexpected answer',
};

export interface IntegrationCheckOptions {
  issuer: string;
  /** After a sync-key rotation, how long the previous key still signs (the sync page's rule), in seconds. */
  keyOverlapSeconds: number;
  /** Per request, in milliseconds. */
  timeoutMs: number;
}

const TEST_CODE_TTL_SECONDS = 60;
const BODY_LIMIT = 2_000; // characters of a subsite's answer read for the diagnosis

/**
 * The hub's on-demand check of a subsite's sync integration (admin console and CLI): it calls
 * the subsite's synclogin and synclogout endpoints server to server with a signed `act=test`
 * code, as the sync page's beacons would, and reports per endpoint OK, wrong key, wrong URL
 * (404) or unreachable. The kit verifies a test code fully and answers `{"sync":"ok"}`
 * without setting a cookie or ending a session.
 */
export class IntegrationCheck {
  constructor(
    private readonly clients: ClientRegistry,
    private readonly options: IntegrationCheckOptions,
    private readonly fetchImpl: ServerFetch = serverFetch,
  ) {}

  /**
   * @param baseUrl where the hub reaches the subsite server to server (e.g. `http://127.0.0.1:4001`)
   *   when its sync URLs name a host only browsers resolve; default: the origin of its userdelete
   *   or back-channel URL when set (those are server-to-server already), else the sync URLs as they are.
   */
  async check(clientId: string, baseUrl?: string): Promise<IntegrationReport> {
    const client = await this.clients.require(clientId);
    if (!client.sync) {
      return { clientId, ok: false, checks: [] };
    }
    const base = baseUrl ?? serverOrigin(client);
    const checks = await Promise.all([
      this.#checkOne(client, 'synclogin', targetUrl(client.sync.loginUrl, base)),
      this.#checkOne(client, 'synclogout', targetUrl(client.sync.logoutUrl, base)),
    ]);
    return { clientId, ok: checks.every((check) => check.status === 'ok'), checks };
  }

  /**
   * One endpoint with the key the sync page signs with. Within the overlap after a sync-key
   * rotation that is still the previous key, and the subsite needs both: the previous one for
   * the codes signed now, the new one for those signed once the overlap ends (README, "Rotating
   * secrets": `syncKey` the new key, `previousSyncKey` the old). Both are tried, and the report
   * says which one the subsite lacks.
   */
  async #checkOne(client: SubsiteClient, endpoint: EndpointCheck['endpoint'], url: URL): Promise<EndpointCheck> {
    const sync = client.sync!;
    const browserUrl = endpoint === 'synclogin' ? sync.loginUrl : sync.logoutUrl;
    if (blockedAsMixedContent(this.options.issuer, browserUrl)) {
      // The server-to-server call would pass; the browser's beacon on the https sync page would not.
      const shown = new URL(browserUrl);
      return {
        endpoint,
        url: `${shown.origin}${shown.pathname}`,
        status: 'wrong_url',
        detail: 'the hub is https and this sync URL is http: browsers block (or upgrade to https) an http image or script on the hub\'s sync page, so the beacons never reach the subsite; serve the endpoint over https and register that URL',
        reason: 'mixedContent',
      };
    }
    const signing = syncSigningKey(sync, this.options.keyOverlapSeconds, Math.floor(Date.now() / 1000));
    if (signing === sync.key) return this.#attempt(client, endpoint, url, signing);
    const until = new Date((sync.rotatedAt! + this.options.keyOverlapSeconds) * 1000).toISOString();
    const [withNew, withPrevious] = await Promise.all([this.#attempt(client, endpoint, new URL(url), sync.key), this.#attempt(client, endpoint, new URL(url), signing)]);
    if (withNew.status === 'ok' && withPrevious.status === 'ok') {
      return { ...withNew, detail: `the subsite verified test codes signed with the new sync key and with the previous one (the hub signs with the previous one until ${until})`, reason: 'verifiedBothKeys', values: { until } };
    }
    if (withNew.status === 'ok' && withPrevious.status === 'wrong_key') {
      return { ...withPrevious, detail: `the subsite has only the new sync key, and the hub signs with the previous one until ${until}: sign-ins do not reach it until then; set previousSyncKey to the previous key as well`, reason: 'newKeyOnly', values: { until } };
    }
    if (withNew.status === 'wrong_key' && withPrevious.status === 'ok') {
      return { ...withNew, detail: `the subsite still has only the previous sync key: it works until ${until}, when the hub signs with the new one; give the subsite the new sync key now (syncKey, with previousSyncKey the old one)`, reason: 'previousKeyOnly', values: { until } };
    }
    return withNew.status === 'ok' ? withPrevious : withNew;
  }

  async #attempt(client: SubsiteClient, endpoint: EndpointCheck['endpoint'], url: URL, key: string): Promise<EndpointCheck> {
    const iat = Math.floor(Date.now() / 1000);
    const code = signSyncCode({
      issuer: this.options.issuer,
      clientId: client.clientId,
      key,
      act: 'test',
      sid: `integration-check-${randomUUID()}`,
      iat,
      ttlSeconds: TEST_CODE_TTL_SECONDS,
    });
    url.searchParams.set('time', String(iat));
    url.searchParams.set('code', code);
    const shownUrl = `${url.origin}${url.pathname}`; // never the code
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      return { endpoint, url: shownUrl, status: 'unreachable', detail: `no answer: ${networkCause(error)}`, reason: 'noAnswer', values: { cause: networkCause(error) } };
    }
    const text = (await response.text().catch(() => '')).slice(0, BODY_LIMIT);
    const body = parseJson(text);
    const httpStatus = response.status;
    if (httpStatus === 200 && body?.sync === 'ok') return { endpoint, url: shownUrl, status: 'ok', detail: 'the subsite verified the test code', reason: 'verified', httpStatus };
    if (httpStatus === 404) return { endpoint, url: shownUrl, status: 'wrong_url', detail: 'the subsite answered 404: check the sync URL (the kit serves /sso/synclogin and /sso/synclogout)', reason: 'notFound', httpStatus };
    const description = typeof body?.error_description === 'string' ? body.error_description : '';
    if (httpStatus === 400 && /signature/i.test(description)) {
      return { endpoint, url: shownUrl, status: 'wrong_key', detail: 'the signature does not match the subsite\'s sync key: give the subsite the sync key the hub has (rotate it here to get a new one)', reason: 'badSignature', httpStatus };
    }
    // A kit that predates test codes still checks the signature first: a complaint about act means the key is right.
    if (httpStatus === 400 && /act must be/.test(description)) {
      return { endpoint, url: shownUrl, status: 'ok', detail: 'the key is right (the subsite\'s kit does not know test codes and refused act=test after verifying the signature)', reason: 'keyRightOldKit', httpStatus };
    }
    if (httpStatus === 400 && body?.error === 'invalid_token') {
      return { endpoint, url: shownUrl, status: 'rejected', detail: `the subsite refused the code: ${description.slice(0, 300)}`, reason: 'refused', values: { description: description.slice(0, 300) }, httpStatus };
    }
    if (httpStatus >= 300 && httpStatus < 400) {
      return { endpoint, url: shownUrl, status: 'wrong_url', detail: `the subsite redirected (${httpStatus}) instead of answering: check the sync URL`, reason: 'redirected', values: { status: httpStatus }, httpStatus };
    }
    return { endpoint, url: shownUrl, status: 'unexpected', detail: `the subsite answered ${httpStatus} ${response.headers.get('content-type') ?? ''}`.trim(), reason: 'unexpected', values: { status: httpStatus, type: response.headers.get('content-type') ?? '' }, httpStatus };
  }
}

/**
 * Whether browsers refuse `syncUrl` as a subresource of the hub's sync page (W3C Mixed Content
 * §4.3): an http URL under an https issuer, unless its host is potentially trustworthy
 * (Secure Contexts §3.1: loopback addresses, `localhost` and `*.localhost`).
 */
function blockedAsMixedContent(issuer: string, syncUrl: string): boolean {
  const url = new URL(syncUrl);
  if (new URL(issuer).protocol !== 'https:' || url.protocol !== 'http:') return false;
  const host = url.hostname.toLowerCase();
  const trustworthy = host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  return !trustworthy;
}

/** The origin of a server-to-server URL the client registered, if any. */
function serverOrigin(client: SubsiteClient): string | undefined {
  const url = client.userdeleteUrl ?? client.backchannelLogoutUri;
  return url ? new URL(url).origin : undefined;
}

function targetUrl(syncUrl: string, base: string | undefined): URL {
  const url = new URL(syncUrl);
  if (!base) return url;
  const target = new URL(`${url.pathname}${url.search}`, base);
  return target;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The network error's code from fetch's `cause` (ECONNREFUSED, ENOTFOUND, …), or a timeout. */
function networkCause(error: unknown): string {
  const name = (error as { name?: unknown })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timed out';
  for (let current: unknown = error, depth = 0; current && depth < 4; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  const cause = (error as { cause?: { message?: unknown } })?.cause?.message;
  return typeof cause === 'string' ? cause.slice(0, 100) : typeof name === 'string' ? name : 'network error';
}
