import type Provider from 'oidc-provider';
import type { DeliveryQueue } from './delivery-queue.js';

type BackchannelClient = { clientId: string; backchannelLogoutUri?: string };

/**
 * OIDC Back-Channel Logout through the delivery queue. oidc-provider calls
 * `Client#backchannelLogout(sub, sid)` for every client of a session that ends and waits
 * for it; by default it POSTs once, best effort, and a subsite that is down never hears of
 * the logout. Replacing the method (on this provider's own Client class only) turns that
 * call into an enqueue: the worker signs and delivers the logout token, with retries.
 */
export function queueBackchannelLogout(provider: Provider, queue: DeliveryQueue): void {
  const prototype = provider.Client.prototype as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> };
  prototype.backchannelLogout = async function backchannelLogout(this: BackchannelClient, sub: string, sid: string): Promise<void> {
    if (!this.backchannelLogoutUri) return;
    await queue.enqueue({ kind: 'backchannel-logout', clientId: this.clientId, sub, sid, url: this.backchannelLogoutUri });
  };
}
