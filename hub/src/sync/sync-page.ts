import { randomUUID } from 'node:crypto';
import { syncSigningKey, type ClientRegistry } from '../clients/client-registry.js';
import type { SyncTransport } from '../clients/client.js';
import { signSyncCode, type SyncAction } from './sync-codes.js';

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
  /** The Content-Security-Policy of the sync page: only the registered subsite origins. */
  csp: string;
}

function originOf(url: string): string {
  return new URL(url).origin;
}

/**
 * Builds the sync page's beacons: one signed code per subsite with sync on, computed once
 * per sign-in or sign-out from the cached client list (no store round trip per subsite).
 */
export class SyncPlanner {
  readonly #sources: BeaconSource[] = [];

  constructor(
    private readonly clients: ClientRegistry,
    private readonly issuer: string,
    private readonly codeTtlSeconds: number,
    /** After a sync-key rotation, how long the previous key still signs, in seconds. */
    private readonly keyOverlapSeconds = 0,
  ) {}

  addSource(source: BeaconSource): void {
    this.#sources.push(source);
  }

  /**
   * `sid` is the sync event's id; `sidFor` can name, per client, the `sid` that client's ID
   * tokens carry for this browser's hub session (at sign-out: then a subsite can end that
   * hub session's local sessions even when the beacon arrives without its cookies).
   */
  async plan(
    act: SyncAction,
    sid: string = randomUUID(),
    sidFor: (clientId: string) => string | undefined = () => undefined,
    /** Who signs in (the beacon sources' notes name the user). */
    accountId?: string,
  ): Promise<SyncPlan> {
    const targets = await this.clients.syncTargets();
    const iat = Math.floor(Date.now() / 1000);
    const beacons = await Promise.all(
      targets.map(async (client): Promise<Beacon> => {
        const sync = client.sync!;
        const code = await signSyncCode({ issuer: this.issuer, clientId: client.clientId, key: syncSigningKey(sync, this.keyOverlapSeconds, iat), act, sid: sidFor(client.clientId) ?? sid, iat, ttlSeconds: this.codeTtlSeconds });
        const url = new URL(act === 'login' ? sync.loginUrl : sync.logoutUrl);
        url.searchParams.set('time', String(iat));
        url.searchParams.set('code', code);
        return { clientId: client.clientId, url: url.toString(), transport: sync.transport };
      }),
    );
    for (const source of this.#sources) beacons.push(...(await source(act, accountId)));
    const imgOrigins = new Set(beacons.filter((b) => b.transport === 'img').map((b) => originOf(b.url)));
    const scriptOrigins = new Set(beacons.filter((b) => b.transport === 'script').map((b) => originOf(b.url)));
    const csp = [
      "default-src 'self'",
      `img-src 'self' ${[...imgOrigins].join(' ')}`.trim(),
      `script-src 'self' ${[...scriptOrigins].join(' ')}`.trim(),
      "style-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; ');
    return { act, beacons, csp };
  }
}
