import { randomUUID, type KeyObject } from 'node:crypto';
import { syncSigningKey, type ClientRegistry } from '../clients/client-registry.js';
import type { SubsiteClient, SyncTransport } from '../clients/client.js';
import type { ConsentIndex } from '../oidc/consents.js';
import { PROCESS_CLOCK, type Clock } from '../store/store-clock.js';
import { beaconTag, beaconTemplate, beaconUrl, CspSources, escapeHtml, type BeaconTemplate } from './beacon-markup.js';
import { syncCodeSigner, syncHmacKey, type SyncAction } from './sync-codes.js';
import type { Locale } from '../i18n/i18n.js';
import type { Views } from '../views/views.js';

export interface Beacon {
  clientId: string;
  url: string;
  transport: SyncTransport;
  /** A UCenter application's note (hub/src/ucenter/): a `<script … reload="1">` tag, as the seed's page. */
  ucenter?: boolean;
  /**
   * A UCenter note whose handler answers with a cookie header and no code (Discuz! X's
   * api/uc.php): an `<img>` does its job where no script may run (see `forSignIn`).
   */
  asImage?: boolean;
}

/** More beacons for a sync page (UCenter applications' notes), given who signs in. */
export type BeaconSource = (act: SyncAction, accountId: string | undefined) => Promise<Beacon[]>;

export interface SyncPlan {
  act: SyncAction;
  beacons: Beacon[];
  /** The Content-Security-Policy of the sync page (see {@link syncPageCsp}). */
  csp: string;
  /** The beacons' tags, escaped, in order (`beaconTag`): the page shows them as they are. */
  tags: string[];
}

/** What separates two beacon tags on the page. */
export const TAG_SEPARATOR = '\n    ';

/** The tags as one string (`renderSyncPage` sends them in chunks instead). */
export function syncMarkup(plan: Pick<SyncPlan, 'tags'>): string {
  return plan.tags.join(TAG_SEPARATOR);
}

/**
 * The sync page's HTML (templates/hub/sync.njk). The one place its template gets its context:
 * the beacons' markup is a required field here, where the template itself prints a missing one
 * as nothing (a sign-out page once went out without beacons that way).
 */
export function renderSyncTemplate(views: Views, page: { act: SyncAction; markup: string; continueUrl: string; waitMs: number }, locale: Locale): string {
  const stencil = syncStencil(views, page.act, page.waitMs, locale);
  let html = stencil.parts[0]!;
  for (let i = 0; i < stencil.slots.length; i += 1) {
    html += (stencil.slots[i] === 'markup' ? page.markup : escapeHtml(page.continueUrl)) + stencil.parts[i + 1]!;
  }
  return html;
}

/**
 * The sync page rendered once per language, action and wait, around marks where its two
 * variable values go: the continue URL (escaped as the template's autoescape does) and the
 * beacons' markup (as it is). Rendering the template on every sign-in was ~2 % of a sign-in's
 * main-thread time (perf, 2026-12-05); the page is the same for every sign-in but for these.
 * `sync-page-stencil.test.ts` checks it is byte for byte what the template renders.
 */
interface SyncStencil {
  parts: string[];
  slots: ('markup' | 'continueUrl')[];
}

/** Letters, digits and dashes: nothing the template's escaping changes, nothing a page could otherwise contain. */
const MARKUP_MARK = `sync-markup-${randomUUID()}`;
const CONTINUE_MARK = `sync-continue-${randomUUID()}`;
const SPLIT = new RegExp(`(${MARKUP_MARK}|${CONTINUE_MARK})`);
/** Past this many (language, action, wait) combinations the remembered pages start over. */
const STENCILS_REMEMBERED = 64;
const stencils = new WeakMap<Views, Map<string, SyncStencil>>();

function syncStencil(views: Views, act: SyncAction, waitMs: number, locale: Locale): SyncStencil {
  let byPage = stencils.get(views);
  if (!byPage) stencils.set(views, (byPage = new Map()));
  const key = `${locale} ${act} ${String(waitMs)}`;
  let stencil = byPage.get(key);
  if (!stencil) {
    const html = views.render('hub/sync.njk', { switchNext: '/', plan: { act, markup: MARKUP_MARK }, continueUrl: CONTINUE_MARK, waitMs }, locale);
    const pieces = html.split(SPLIT);
    stencil = { parts: pieces.filter((_, i) => i % 2 === 0), slots: pieces.filter((_, i) => i % 2 === 1).map((mark) => (mark === MARKUP_MARK ? 'markup' : 'continueUrl')) };
    if (byPage.size >= STENCILS_REMEMBERED) byPage.clear();
    byPage.set(key, stencil);
  }
  return stencil;
}


/** The sync page's CSP for these beacons (see {@link CspSources}). */
export function syncPageCsp(beacons: Beacon[]): string {
  const sources = new CspSources();
  for (const beacon of beacons) sources.add(beacon);
  return sources.header();
}

function isImage(beacon: Beacon): boolean {
  return beacon.transport !== 'script' && !beacon.ucenter;
}

/**
 * The beacons that run no code: images, and UCenter notes that work as images (Discuz! X), as
 * images. Before, those notes were left out too, so an admin's sign-in never reached a forum,
 * and an account switch left the previous user signed in there (a forum helper's review in
 * Chromium with Discuz! X3.5's own api/uc.php: it takes a note loaded as an image).
 */
function imagesOnly(beacons: readonly Beacon[]): Beacon[] {
  const images: Beacon[] = [];
  for (const beacon of beacons) {
    if (isImage(beacon)) images.push(beacon);
    else if (beacon.ucenter && beacon.asImage) images.push({ clientId: beacon.clientId, url: beacon.url, transport: 'img' });
  }
  return images;
}

/** The `sid` of a code that means "whatever session this browser has" (UCenter's sign-out). */
export const ANY_HUB_SESSION = '*';

/**
 * Builds the sync page's beacons: one signed code per subsite the user uses, computed once
 * per sign-in or sign-out from the cached client list (no store round trip per subsite).
 * A subsite the user never allowed learns nothing of the user's sign-ins.
 */
export class SyncPlanner {
  readonly #sources: BeaconSource[] = [];

  constructor(
    private readonly clients: ClientRegistry,
    private readonly consents: ConsentIndex,
    private readonly issuer: string,
    private readonly codeTtlSeconds: number,
    /** After a sync-key rotation, how long the previous key still signs, in seconds. */
    private readonly keyOverlapSeconds = 0,
    /**
     * The clock the codes' `iat` and `exp` are read from: the hub's StoreClock (Redis's time, as
     * every hub process reads it). A subsite refuses a code issued beyond its skew in the future
     * (the kit's 30 s): on this process's own clock, a hub host 90 s ahead had every subsite
     * refuse its sign-outs' codes, and its users stayed signed in there (a soak run).
     */
    private readonly clock: Clock = PROCESS_CLOCK,
  ) {}

  addSource(source: BeaconSource): void {
    this.#sources.push(source);
  }

  /**
   * At sign-in: trusted (first-party) subsites and those the user has consented to.
   * `scripts: false` runs no script beacon (UCenter notes, subsites on the legacy `script`
   * transport): a script beacon runs in the hub's origin, in the browser that has just signed in,
   * so its site could act there as the user. For an admin that is the console: an outside review
   * had a UCenter application's note create an admin account through it. An admin's sign-in
   * therefore pings image beacons only: subsites on the `script` transport as images, Discuz! X's
   * notes as images (their handlers need no script), other UCenter notes not at all. A sign-out's page runs after its
   * hub session ended, but one that is part of an account switch goes on to the next sign-in,
   * whose session cookie arrives while the page still runs (see `forSignOut`'s `scripts`).
   */
  async forSignIn(accountId: string, options: { scripts?: boolean } = {}): Promise<SyncPlan> {
    const [wanted, more] = await Promise.all([this.#usedBy(accountId), this.#moreBeacons('login', accountId)]);
    return this.#plan('login', wanted, randomUUID(), () => undefined, more, options.scripts !== false);
  }

  /**
   * At sign-out: the subsites the ended hub session signed in to (its authorizations, by
   * client id), each with the `sid` that client's ID tokens carry, so a subsite can end that
   * hub session's local sessions even when the beacon arrives without its cookies. `switching`:
   * the session ended for an account switch; its codes say so (`"switch": true`), so a subsite
   * keeps the `Request-Login` the next account's login code set just before.
   */
  async forSignOut(accountId: string | undefined, signedInTo: Record<string, { sid?: string } | undefined>, options: { scripts?: boolean; switching?: boolean } = {}): Promise<SyncPlan> {
    const [all, more] = await Promise.all([this.clients.syncTargets(), this.#moreBeacons('logout', accountId)]);
    const targets = all.filter((client) => Object.hasOwn(signedInTo, client.clientId));
    return this.#plan('logout', targets, randomUUID(), (clientId) => signedInTo[clientId]?.sid, more, options.scripts !== false, options.switching === true);
  }

  /**
   * At a sign-out whose hub session had already expired (idle), when the request carried a valid
   * `id_token_hint`: no session, so no authorizations and no `sid`, but the hint names the user.
   * The subsites that account uses, picked as at sign-in (trusted and consented), get a code for
   * {@link ANY_HUB_SESSION} that carries the user's `sub`: a kit ends this browser's local session
   * only when it is that user's (a planted code signs out no one else). Images only, as an
   * account switch's page: the hub session is gone and the page runs no code.
   */
  async forExpiredSignOut(accountId: string): Promise<SyncPlan> {
    const [wanted, more] = await Promise.all([this.#usedBy(accountId), this.#moreBeacons('logout', accountId)]);
    return this.#plan('logout', wanted, ANY_HUB_SESSION, () => undefined, more, false, false, accountId);
  }

  /** The subsites with sync on that an account uses: trusted (first-party) ones and those it consented to (read side by side: one wait on the store). */
  async #usedBy(accountId: string): Promise<SubsiteClient[]> {
    const [targets, consented] = await Promise.all([this.clients.syncTargets(), this.consents.clientsOf(accountId)]);
    const allowed = new Set(consented.map((entry) => entry.clientId));
    return targets.filter((client) => client.trusted || allowed.has(client.clientId));
  }

  /**
   * Every subsite with sync on: only for a caller that knows neither the user nor the hub
   * session (UCenter's `user/synlogout` API). Sign-in and sign-out pages use the two above.
   * Its codes name no hub session but {@link ANY_HUB_SESSION}: a kit ends whatever local
   * session the browser carries only for such a code (a UCenter application's sign-out means
   * "this browser"); a code of the hub's own sign-out ends only its hub session's.
   */
  async forEverySubsite(act: SyncAction): Promise<SyncPlan> {
    const [targets, more] = await Promise.all([this.clients.syncTargets(), this.#moreBeacons(act, undefined)]);
    return this.#plan(act, targets, ANY_HUB_SESSION, () => undefined, more);
  }

  /** The added sources' beacons, asked of every source at once, in the order they were added. */
  async #moreBeacons(act: SyncAction, accountId: string | undefined): Promise<Beacon[]> {
    if (this.#sources.length === 0) return [];
    return (await Promise.all(this.#sources.map((source) => source(act, accountId)))).flat();
  }

  #plan(act: SyncAction, allTargets: readonly SubsiteClient[], sid: string, sidFor: (clientId: string) => string | undefined, allMore: readonly Beacon[], scripts = true, switching = false, sub?: string): SyncPlan {
    // The one place script beacons are turned into images or left out (see forSignIn).
    const more = scripts ? allMore : imagesOnly(allMore);
    const iat = Math.floor(this.clock.now() / 1000);
    const sign = syncCodeSigner({ issuer: this.issuer, act, sid, iat, ttlSeconds: this.codeTtlSeconds, switching, ...(sub !== undefined ? { sub } : {}) });
    const { beacons, tags, csp } = subsiteBeacons(act, allTargets, iat, (client, subsite) => sign(client.clientId, hmacKeyOf(subsite, syncSigningKey(client.sync!, this.keyOverlapSeconds, iat)), sidFor(client.clientId) ?? sid, subsite.audience), !scripts);
    for (const beacon of more) {
      beacons.push(beacon);
      tags.push(beaconTag(beacon));
      csp.add(beacon);
    }
    // A plain object, no accessor: measured alone, where V8 optimised this planner, a `markup`
    // getter in this literal (until 2026-12-04) made each beacon 3–4 µs dearer (docs/performance.md, 3.).
    return { act, beacons, csp: csp.header(), tags };
  }
}

/**
 * One beacon (its code, URL and tag) per subsite, and the CSP sources they need. A plain loop in
 * a function of its own, not a `map` callback: this is the per-subsite work of a sign-in, and V8
 * optimises a loop where it runs (on-stack replacement) even when the function is called only a
 * few times a second. With the callback, the planner around it stayed in baseline code in the
 * hub (docs/performance.md, 3.).
 */
/**
 * `imagesOnly`: a subsite on the `script` transport gets its beacon as an `<img>` (a page that may
 * run no script: an admin's sign-in, an account switch). Left out, as before, it heard of neither
 * the sign-in nor the sign-out, and after an account switch kept the previous user signed in
 * (an outside review); an image runs no code in the hub's origin, and the kit answers an image
 * request to its sync endpoints with a GIF and the same cookie.
 */
function subsiteBeacons(act: SyncAction, targets: readonly SubsiteClient[], iat: number, codeOf: (client: SubsiteClient, subsite: SubsiteSigning) => string, imagesOnly = false): { beacons: Beacon[]; tags: string[]; csp: CspSources } {
  const time = String(iat);
  const which = act === 'login' ? 'login' : 'logout';
  const beacons: Beacon[] = [];
  const tags: string[] = [];
  const csp = new CspSources();
  for (const client of targets) {
    const sync = client.sync!;
    const subsite = subsiteOf(client);
    const code = codeOf(client, subsite);
    const transport = imagesOnly ? 'img' : sync.transport;
    // The templates are the registered transport's: an image in place of a script is built here.
    const template = transport === sync.transport ? templateOf(client, subsite, which) : undefined;
    const beacon: Beacon = { clientId: client.clientId, url: '', transport };
    if (template) {
      beacon.url = template.url[0] + time + template.url[1] + code + template.url[2];
      tags.push(template.tag[0] + time + template.tag[1] + code + template.tag[2]);
      csp.addSource(template.cspSource, transport);
    } else {
      beacon.url = beaconUrl(which === 'login' ? sync.loginUrl : sync.logoutUrl, time, code);
      tags.push(beaconTag(beacon));
      csp.add(beacon);
    }
    beacons.push(beacon);
  }
  return { beacons, tags, csp };
}

/**
 * What a sign-in's page needs of each subsite besides its code's values, built once per record:
 * its beacon templates, its audience as the claims write it, and its sync keys as HMAC key
 * objects. Kept by the subsite's sync settings object: the registry replaces a client's record
 * (and so this object) on every change, a key rotation included, so an entry never outlives
 * what it was built from, and goes with it.
 */
interface SubsiteSigning {
  /** Whose entry this is (a settings object shared by two records would be built again, not mixed up). */
  clientId: string;
  login?: BeaconTemplate | null;
  logout?: BeaconTemplate | null;
  /** `JSON.stringify(clientId)`. */
  audience: string;
  /** The sync key and, in a rotation's overlap, the previous one (at most two). */
  hmacKeys: Map<string, KeyObject>;
}

const subsites = new WeakMap<NonNullable<SubsiteClient['sync']>, SubsiteSigning>();

function subsiteOf(client: SubsiteClient): SubsiteSigning {
  const sync = client.sync!;
  let entry = subsites.get(sync);
  if (entry?.clientId !== client.clientId) subsites.set(sync, (entry = { clientId: client.clientId, audience: JSON.stringify(client.clientId), hmacKeys: new Map() }));
  return entry;
}

function hmacKeyOf(subsite: SubsiteSigning, key: string): KeyObject {
  let hmacKey = subsite.hmacKeys.get(key);
  if (!hmacKey) subsite.hmacKeys.set(key, (hmacKey = syncHmacKey(key)));
  return hmacKey;
}

function templateOf(client: SubsiteClient, entry: SubsiteSigning, act: 'login' | 'logout'): BeaconTemplate | undefined {
  const sync = client.sync!;
  if (entry[act] === undefined) entry[act] = beaconTemplate(act === 'login' ? sync.loginUrl : sync.logoutUrl, client.clientId, sync.transport) ?? null;
  return entry[act] ?? undefined;
}
