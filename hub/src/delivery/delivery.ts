/**
 * One server-to-server notice the hub owes a subsite: a userdelete (the user was deleted or
 * disabled) or an OIDC back-channel logout (a hub session ended). Items live in the store
 * until the subsite answers 2xx, so nothing is lost to a subsite outage or a hub restart.
 */
export type DeliveryKind = 'userdelete' | 'backchannel-logout' | 'ucenter-deleteuser' | 'ucenter-updatepw' | 'ucenter-updateapps';

/**
 * Why a userdelete was sent, in its token's `events` claim: only `deleted` means the account
 * is gone; after `disabled` or `password-reset` the user may come back, and a subsite that
 * deletes local data on a userdelete must keep it.
 */
export type UserdeleteReason = 'deleted' | 'disabled' | 'password-reset';
export type DeliveryStatus = 'pending' | 'failed' | 'delivered';

export interface DeliveryItem {
  id: string;
  kind: DeliveryKind;
  clientId: string;
  /** The user (the token's `sub`). */
  sub: string;
  /** Back-channel logout only: the hub session id as that client knows it (`sid`). */
  sid?: string;
  /**
   * Userdelete: why (absent on items queued before the reason was recorded). UCenter deleteuser:
   * always `deleted` (absent on an older hub's, which queued one at a disable too).
   */
  reason?: UserdeleteReason;
  /** UCenter deleteuser only: the user's UCenter uid (the note's `ids`); the user may be gone by then. */
  ucenterUid?: number;
  /** UCenter updatepw only: the username the note names. */
  username?: string;
  /** Where it goes; resolved again from the client's registration on every attempt. */
  url: string;
  /**
   * The generation of the client registration it was queued for (`SubsiteClient.generation`):
   * a notice for a removed client is never sent to a client registered under its id since.
   * Absent on items queued before it was recorded, and for ids without a generation.
   */
  clientGeneration?: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: number; // epoch ms
  /** Pending items: when the next attempt is due, epoch ms. */
  nextAttemptAt: number;
  lastAttemptAt?: number; // epoch ms
  /** HTTP status of the last answer; absent when the subsite could not be reached. */
  lastStatus?: number;
  /** Why the last attempt did not count (never a token). */
  lastError?: string;
  doneAt?: number; // epoch ms: delivered or failed for good
}

export interface NewDelivery {
  kind: DeliveryKind;
  clientId: string;
  sub: string;
  sid?: string;
  reason?: UserdeleteReason;
  ucenterUid?: number;
  username?: string;
  url: string;
  /** The generation of the registration it is for, where the caller knows it (a UCenter application's); else the queue asks `clientGeneration`. */
  clientGeneration?: string;
}

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": the n-th retry waits between half and all of
 * min(max, base·2^(n-1)), so subsites coming back up are not hit by every hub at once.
 */
export function backoffDelay(attempts: number, backoff: Backoff, random: () => number = Math.random): number {
  const max = Math.max(backoff.baseMs, backoff.maxMs);
  const ceiling = Math.min(max, backoff.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Redirects that say "not here for now": a maintenance page, a site behind a holding page. */
const TEMPORARY_REDIRECTS = new Set([302, 303, 307]);

/**
 * What an answer means for the queue: 2xx delivered; 408, 429 and 5xx (and no answer at
 * all) are worth retrying, and so is a temporary redirect (302, 303, 307: a subsite down for
 * maintenance that sends every request to its maintenance page; an outside review had every
 * notice queued during such a day fail for good at once, leaving the users disabled meanwhile
 * signed in there), and a 404 (a subsite being deployed, or replaced by a holding app, has no
 * `/sso/userdelete` for a while: a design review had a forced logout dropped at the first 404;
 * a registered URL that is wrong answers 404 at every try, shown in the console, and fixing it
 * is enough, as the URL is read at each attempt); any other 4xx (a 401: the subsite could not
 * verify the token), or a permanent redirect (301, 308: the registered URL moved, fix it and
 * press retry), is the subsite refusing for good.
 */
export function outcomeOf(status: number | undefined): 'delivered' | 'retry' | 'failed' {
  if (status === undefined) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 404 || status === 408 || status === 429 || status >= 500 || TEMPORARY_REDIRECTS.has(status)) return 'retry';
  return 'failed';
}
