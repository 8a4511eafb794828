import { randomUUID } from 'node:crypto';
import type { SyncTransport } from '../clients/client.js';

/** What a beacon's tag needs (a {@link import('./sync-page.js').Beacon}). */
export interface BeaconFields {
  clientId: string;
  url: string;
  transport: SyncTransport;
  ucenter?: boolean;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '"': '&quot;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '\\': '&#92;' };

/** HTML-escapes as nunjucks' autoescape does (its `lib.escape`: the same six characters, the same entities). */
export function escapeHtml(value: string): string {
  return value.replace(/[&"'<>\\]/g, (c) => ESCAPES[c]!);
}

/**
 * One beacon's tag on the sync page: a UCenter note as the seed's `<script … reload="1">`, a
 * legacy subsite's `<script>`, or the default `<img>`. Every value is escaped.
 */
export function beaconTag(beacon: BeaconFields): string {
  const src = escapeHtml(beacon.url);
  const client = escapeHtml(beacon.clientId);
  if (beacon.ucenter) return `<script class="beacon" type="text/javascript" src="${src}" data-client="${client}" reload="1" async></script>`;
  if (beacon.transport === 'script') return `<script class="beacon" src="${src}" data-client="${client}" async></script>`;
  return `<img class="beacon" src="${src}" alt="" width="1" height="1" data-client="${client}">`;
}

/**
 * A subsite's beacon for one action, cut around the two values that change per sign-in (the
 * time and the code), as URL and as escaped tag. Built once per subsite record: a sign-in with
 * N subsites then only signs N codes and joins strings (issue 14), where it parsed and
 * serialised N URLs and rendered N template items.
 */
export interface BeaconTemplate {
  url: [before: string, between: string, after: string];
  tag: [before: string, between: string, after: string];
  /** What the sync page's CSP names for this beacon (see `CspSources`): its scheme for an image, its origin for a script. */
  cspSource: string;
}

// Placeholders that cannot occur in a registered URL (random per process) and that the
// x-www-form-urlencoded serializer leaves as they are (letters and digits only).
const TIME_MARK = `t${randomUUID().replaceAll('-', '')}`;
const CODE_MARK = `c${randomUUID().replaceAll('-', '')}`;

function cut(text: string): [string, string, string] | undefined {
  const time = text.indexOf(TIME_MARK);
  const code = text.indexOf(CODE_MARK);
  if (time < 0 || code < time || text.indexOf(TIME_MARK, time + 1) >= 0 || text.indexOf(CODE_MARK, code + 1) >= 0) return undefined;
  return [text.slice(0, time), text.slice(time + TIME_MARK.length, code), text.slice(code + CODE_MARK.length)];
}

/**
 * The template of `base` (a subsite's synclogin or synclogout URL) with `time` and `code` set
 * exactly as `URL.searchParams.set` sets them (an existing `time` or `code` is replaced in
 * place, the rest of the query re-serialised). The values put in later need no encoding: the
 * time is digits and the code base64url and dots, which that serializer and HTML escaping
 * keep as they are. Undefined when the placeholders cannot be cut out in order (a `code`
 * parameter before `time` in the registered URL): the caller builds that URL the slow way.
 */
export function beaconTemplate(base: string, clientId: string, transport: SyncTransport): BeaconTemplate | undefined {
  const url = new URL(base);
  url.searchParams.set('time', TIME_MARK);
  url.searchParams.set('code', CODE_MARK);
  const href = url.toString();
  const urlParts = cut(href);
  const tagParts = cut(beaconTag({ clientId, url: href, transport }));
  return urlParts && tagParts ? { url: urlParts, tag: tagParts, cspSource: cspSourceOf(url, transport) } : undefined;
}

function cspSourceOf(url: URL, transport: SyncTransport): string {
  return transport === 'img' ? url.protocol : url.origin;
}

/**
 * The sources of the sync page's CSP. Only origins that run script are named
 * (`script-src`): a subsite's script runs in the hub's origin. Images run no code, so
 * `img-src` names the URL schemes of the image beacons, not their origins: the header stays
 * the same size whatever the number of subsites (issue 14: 1,000 origins made a 31 KB header
 * that proxies refuse). Templated beacons give their source from the template, so a sign-in
 * with N subsites reads none of its N beacon URLs (each a string of ~400 characters built by
 * concatenation, which reading would copy into a flat one).
 */
export class CspSources {
  readonly #imgSchemes = new Set<string>();
  readonly #scriptOrigins = new Set<string>();

  /** A beacon without a template: its URL is parsed. */
  add(beacon: Pick<BeaconFields, 'url' | 'transport'>): void {
    this.addSource(cspSourceOf(new URL(beacon.url), beacon.transport), beacon.transport);
  }

  addSource(source: string, transport: SyncTransport): void {
    if (transport === 'img') this.#imgSchemes.add(source);
    else this.#scriptOrigins.add(source);
  }

  header(): string {
    return [
      "default-src 'self'",
      `img-src 'self' ${[...this.#imgSchemes].sort().join(' ')}`.trim(),
      `script-src 'self' ${[...this.#scriptOrigins].join(' ')}`.trim(),
      "style-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; ');
  }
}

/** The beacon URL for `base` the general way: one URL object per beacon. */
export function beaconUrl(base: string, time: string, code: string): string {
  const url = new URL(base);
  url.searchParams.set('time', time);
  url.searchParams.set('code', code);
  return url.toString();
}
