import type Provider from 'oidc-provider';
import { checkedDescription, describeUserAgent, type BrowserDescription } from '../http/user-agent.js';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import { ProtocolHooks } from './protocol-hooks.js';

/**
 * The browser each hub sign-in session signed in from ("Firefox 128 on Linux"), by the session's
 * uid, for the account page's list of sessions. Only the description `describeUserAgent` makes
 * is stored (a family from a fixed list and a major version), never the header itself nor the
 * address. It lives as long as its session: written at sign-in with the session's lifetime, and
 * pushed out with the session at every write of it (`sessionWrites`, one round trip).
 */
export class SessionDevices {
  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  async record(uid: string, userAgent: string | undefined, ttlSeconds: number): Promise<void> {
    await this.store.set(this.keys.oidcSessionDevice(uid), JSON.stringify(describeUserAgent(userAgent)), { ttlSeconds });
  }

  /** The descriptions of the sessions `uids` (one read); a session without one is absent. */
  async read(uids: string[]): Promise<Map<string, BrowserDescription>> {
    const found = new Map<string, BrowserDescription>();
    if (uids.length === 0) return found;
    const raws = await this.store.getMany(uids.map((uid) => this.keys.oidcSessionDevice(uid)));
    for (const [index, raw] of raws.entries()) {
      if (!raw) continue;
      try {
        found.set(uids[index]!, checkedDescription(JSON.parse(raw)));
      } catch {
        // Not JSON: shown as an unknown browser.
      }
    }
    return found;
  }
}

/**
 * Records the browser at every sign-in: the resume that logged an account in to the session
 * (portal and subsites, with or without a second step). After oidc-provider has saved the
 * session, with its remaining lifetime. A failed write loses only the description (the page
 * then says "unknown browser"); the sign-in it follows went through.
 */
export function recordSignInDevices(provider: Provider, devices: SessionDevices, sessionTtlSeconds: number, onError: (error: unknown) => void): void {
  ProtocolHooks.of(provider).after(['resume'], async (ctx) => {
    const session = ctx.oidc.session as { uid?: string; accountId?: string; exp?: number; destroyed?: boolean } | undefined;
    const login = (ctx.oidc.result as { login?: unknown } | undefined)?.login;
    if (!login || !session?.accountId || !session.uid || session.destroyed) return;
    const left = typeof session.exp === 'number' ? session.exp - Math.floor(Date.now() / 1000) : sessionTtlSeconds;
    if (left <= 0) return;
    await devices.record(session.uid, ctx.get('user-agent'), left).catch(onError);
  });
}
