/**
 * The hub's own words for why a notice was not delivered. The stored `lastError` stays English
 * (the audit log's `error` detail and `users pending-deletions` show it as recorded), and the
 * console shows each of these in the reader's language (`admin:deliveries.errors.*`). Before, a
 * zh-CN console showed these sentences in English in an otherwise Chinese list (a console review).
 * What is not one of them (`HTTP 503`, a network error such as `fetch failed: ECONNREFUSED`) is
 * technical and shown as recorded.
 */
export const DELIVERY_ERRORS = {
  clientGone: 'the client is gone or has no URL for this delivery',
  clientReplaced: 'the client was removed after this notice was queued; not sent to the client registered under its id since',
  appReplaced: 'the application was removed after this note was queued; not sent to the application registered under its app id since',
  appGone: 'the application is gone',
  noteEmpty: 'the note has nothing to say',
  appRefused: 'the application did not answer 1',
  userStillExists: 'the user still exists: waiting for the deletion this note was queued for',
  olderDisableNote: 'not sent: queued by an older hub version when the user was disabled (the user still exists), and deleteuser deletes the member and their posts at the application; delete the user to send one',
  userGone: 'not sent: the user this note names was deleted since it was queued (their deleteuser note ends them at the application), and the username may belong to a new account now',
  htmlPage: 'answered 2xx with an HTML page, not a userdelete answer: the URL reaches a page of the site (the route not mounted, a catch-all), or the handler goes on to render one; retried',
  notDelivered: 'not delivered',
} as const;

export type DeliveryErrorName = keyof typeof DELIVERY_ERRORS;

const GAVE_UP = /^([\s\S]*); gave up after (\d+) attempts$/;

/** The text stored when the queue stops retrying an item (`…; gave up after N attempts`). */
export function gaveUpText(error: string | undefined, attempts: number): string {
  return `${error ?? DELIVERY_ERRORS.notDelivered}; gave up after ${attempts} attempts`;
}

/** How the console shows a stored `lastError`: a message of the catalog where it is one of the hub's own, else the text as recorded. */
export interface ShownDeliveryError {
  /** `admin:deliveries.errors.<name>`, or absent for a text shown as recorded. */
  name?: DeliveryErrorName;
  text: string;
  /** Set when the queue gave up after that many attempts. */
  gaveUpAfter?: number;
}

const BY_TEXT = new Map<string, DeliveryErrorName>(Object.entries(DELIVERY_ERRORS).map(([name, text]) => [text, name as DeliveryErrorName]));

export function shownDeliveryError(stored: string | undefined): ShownDeliveryError | undefined {
  if (!stored) return undefined;
  const gaveUp = GAVE_UP.exec(stored);
  const text = gaveUp ? gaveUp[1]! : stored;
  const name = BY_TEXT.get(text);
  return { ...(name ? { name } : {}), text, ...(gaveUp ? { gaveUpAfter: Number(gaveUp[2]) } : {}) };
}
