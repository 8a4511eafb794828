import { randomUUID } from 'node:crypto';
import { syncSigningKey, type ClientRegistry } from '../clients/client-registry.js';
import type { SubsiteClient, SyncTransport } from '../clients/client.js';
import type { ConsentIndex } from '../oidc/consents.js';
import { beaconTag, beaconTemplate, beaconUrl, CspSources, type BeaconTemplate } from './beacon-markup.js';
import { syncCodeSigner, type SyncAction } from './sync-codes.js';

export interface Beacon {
  clientId: string;
  url: string;
  transport: SyncTransport;
  /** A UCenter application's note (hub/src/ucenter/): a `<script … reload="1">` tag, as the seed's page. */
  ucenter?: boolean;
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

/** The sync page's CSP for these beacons (see {@link CspSources}). */
export function syncPageCsp(beacons: Beacon[]): string {
  const sources = new CspSources();
  for (const beacon of beacons) sources.add(beacon);
  return sources.header();
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
  ) {}

  addSource(source: BeaconSource): void {
    this.#sources.push(source);
  }

  /** At sign-in: trusted (first-party) subsites and those the user has consented to. */
  async forSignIn(accountId: string): Promise<SyncPlan> {
    const [targets, consented] = await Promise.all([this.clients.syncTargets(), this.consents.clientsOf(accountId)]);
    const allowed = new Set(consented.map((entry) => entry.clientId));
    return this.#plan('login', accountId, targets.filter((client) => client.trusted || allowed.has(client.clientId)), randomUUID(), () => undefined);
  }

  /**
   * At sign-out: the subsites the ended hub session signed in to (its authorizations, by
   * client id), each with the `sid` that client's ID tokens carry, so a subsite can end that
   * hub session's local sessions even when the beacon arrives without its cookies.
   */
  async forSignOut(accountId: string | undefined, signedInTo: Record<string, { sid?: string } | undefined>): Promise<SyncPlan> {
    const targets = (await this.clients.syncTargets()).filter((client) => Object.hasOwn(signedInTo, client.clientId));
    return this.#plan('logout', accountId, targets, randomUUID(), (clientId) => signedInTo[clientId]?.sid);
  }

  /**
   * Every subsite with sync on: only for a caller that knows neither the user nor the hub
   * session (UCenter's `user/synlogout` API). Sign-in and sign-out pages use the two above.
   * Its codes name no hub session but {@link ANY_HUB_SESSION}: a kit ends whatever local
   * session the browser carries only for such a code (a UCenter application's sign-out means
   * "this browser"); a code of the hub's own sign-out ends only its hub session's.
   */
  async forEverySubsite(act: SyncAction): Promise<SyncPlan> {
    return this.#plan(act, undefined, await this.clients.syncTargets(), ANY_HUB_SESSION, () => undefined);
  }

  async #plan(act: SyncAction, accountId: string | undefined, targets: readonly SubsiteClient[], sid: string, sidFor: (clientId: string) => string | undefined): Promise<SyncPlan> {
    const iat = Math.floor(Date.now() / 1000);
    const sign = syncCodeSigner({ issuer: this.issuer, act, sid, iat, ttlSeconds: this.codeTtlSeconds });
    const { beacons, tags, csp } = subsiteBeacons(act, targets, iat, (client, audience) => sign(client.clientId, syncSigningKey(client.sync!, this.keyOverlapSeconds, iat), sidFor(client.clientId) ?? sid, audience));
    for (const source of this.#sources) {
      for (const beacon of await source(act, accountId)) {
        beacons.push(beacon);
        tags.push(beaconTag(beacon));
        csp.add(beacon);
      }
    }
    // A plain object: with an accessor in this literal (a `markup` getter, until 2026-12-04) each
    // beacon above cost ~2.6 µs more CPU, ~40 % of a beacon (docs/performance.md, "Sign-in").
    return { act, beacons, csp: csp.header(), tags };
  }
}

/**
 * One beacon (its code, URL and tag) per subsite, and the CSP sources they need. A plain loop in
 * a function of its own, not a callback: this is the per-subsite work of a sign-in, and V8
 * optimises a loop where it runs (on-stack replacement) even when the function around it is
 * called a few times a second. The callback form stayed in baseline code in the hub, where
 * measured alone it was optimised (docs/performance.md, "Sign-in").
 */
function subsiteBeacons(act: SyncAction, targets: readonly SubsiteClient[], iat: number, codeOf: (client: SubsiteClient, audience: string) => string): { beacons: Beacon[]; tags: string[]; csp: CspSources } {
  const time = String(iat);
  const which = act === 'login' ? 'login' : 'logout';
  const beacons: Beacon[] = [];
  const tags: string[] = [];
  const csp = new CspSources();
  for (const client of targets) {
    const sync = client.sync!;
    const prepared = preparedOf(client);
    const code = codeOf(client, prepared.audience);
    const template = templateIn(prepared, client, which);
    if (template) {
      beacons.push(new TemplatedBeacon(client.clientId, sync.transport, template.url, time, code));
      tags.push(template.tag[0] + time + template.tag[1] + code + template.tag[2]);
      csp.addSource(template.cspSource, sync.transport);
    } else {
      const beacon: Beacon = { clientId: client.clientId, url: beaconUrl(which === 'login' ? sync.loginUrl : sync.logoutUrl, time, code), transport: sync.transport };
      beacons.push(beacon);
      tags.push(beaconTag(beacon));
      csp.add(beacon);
    }
  }
  return { beacons, tags, csp };
}

/**
 * A beacon cut from its subsite's template: its URL is joined only when read (the UCenter API's
 * sign-out reads it; a sign-in's page needs only the tag, built beside it).
 */
class TemplatedBeacon implements Beacon {
  constructor(
    readonly clientId: string,
    readonly transport: SyncTransport,
    private readonly parts: BeaconTemplate['url'],
    private readonly time: string,
    private readonly code: string,
  ) {}

  get url(): string {
    return this.parts[0] + this.time + this.parts[1] + this.code + this.parts[2];
  }
}

/** What a subsite's beacons reuse from one sign-in to the next: its audience as JSON, its beacon templates. */
interface PreparedSubsite {
  audience: string;
  login?: BeaconTemplate | null;
  logout?: BeaconTemplate | null;
}

/**
 * Each subsite's prepared parts, by its sync settings object: the registry replaces a
 * client's record (and so this object) on every change, so an entry never outlives what it
 * was built from, and goes with it.
 */
const prepared = new WeakMap<NonNullable<SubsiteClient['sync']>, PreparedSubsite>();

function preparedOf(client: SubsiteClient): PreparedSubsite {
  const sync = client.sync!;
  let entry = prepared.get(sync);
  if (!entry) prepared.set(sync, (entry = { audience: JSON.stringify(client.clientId) }));
  return entry;
}

function templateIn(entry: PreparedSubsite, client: SubsiteClient, act: 'login' | 'logout'): BeaconTemplate | undefined {
  if (entry[act] === undefined) {
    const sync = client.sync!;
    entry[act] = beaconTemplate(act === 'login' ? sync.loginUrl : sync.logoutUrl, client.clientId, sync.transport) ?? null;
  }
  return entry[act] ?? undefined;
}
