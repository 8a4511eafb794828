/** How a kit request ended: 2xx/3xx `accepted`, 4xx `rejected` (a bad or replayed code or token), 5xx `failed`. */
export type KitOutcome = 'accepted' | 'rejected' | 'failed';

/**
 * What the kit reports while it works. The kit always calls these; without the `metrics`
 * option they do nothing, with it they count in prom-client (`prometheus.ts`).
 */
export interface KitInstruments {
  /** A silent (`prompt=none`) check came back: `signed_in`, the hub's answer (`login_required`, …) or `failed`. */
  lazyVerification(outcome: string): void;
  /** A sync beacon from the hub (`/sso/synclogin`, `/sso/synclogout`) was answered. */
  syncRequest(act: 'login' | 'logout', outcome: KitOutcome): void;
  /** A signed notice from the hub (`/sso/userdelete`, `/sso/backchannel-logout`) was answered. */
  hubNotice(kind: 'userdelete' | 'backchannel_logout', outcome: KitOutcome): void;
  /** A store call failed (`error`) or passed its deadline (`timeout`). */
  storeError(operation: string, kind: 'timeout' | 'error'): void;
}

/** The instruments of a kit built without `metrics`: nothing is counted. */
export const NO_INSTRUMENTS: KitInstruments = Object.freeze({
  lazyVerification() {},
  syncRequest() {},
  hubNotice() {},
  storeError() {},
});

/** 2xx/3xx → accepted, 4xx → rejected, 5xx → failed. */
export function outcomeOf(status: number): KitOutcome {
  if (status >= 500) return 'failed';
  return status >= 400 ? 'rejected' : 'accepted';
}
