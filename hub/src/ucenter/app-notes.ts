import type { DeliveryQueue } from '../delivery/delivery-queue.js';
import type { DeliveryItem } from '../delivery/delivery.js';
import { errorSummary, type AttemptResult, type DeliverySender } from '../delivery/delivery-worker.js';
import { DELIVERY_ERRORS } from '../delivery/delivery-errors.js';
import { serverFetch } from '../http/server-fetch.js';
import type { User } from '../users/user.js';
import type { ForcedLogoutReason } from '../users/account-lifecycle.js';
import type { UserRepository } from '../users/user-repository.js';
import { noteRequestUrl } from './notes.js';
import { noteAnswer } from './note-answer.js';
import { noteUrl, queuedForAnother, type UcenterApp } from './ucenter-app.js';
import { xmlSerialize } from './xml.js';
import { appList, type HubEntry } from './app-rows.js';
import type { UcenterAppRegistry } from './ucenter-apps.js';
import type { Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';

/** The delivery queue's client name for an application, and back. */
export function appClientId(appId: number): string {
  return `ucenter:${appId}`;
}

function appIdOf(clientId: string): number {
  const match = /^ucenter:(\d{1,9})$/.exec(clientId);
  return match ? Number(match[1]) : 0;
}

const MAX_ANSWER_BYTES = 1024; // "1" is all a note handler has to say

/**
 * Server-to-server notes to UCenter applications, through the hub's delivery queue:
 * - `deleteuser` (`ids` = the uid) at every application, when a user is deleted;
 * - `updatepw` (`username` only: never a password or a hash) at the applications that opted
 *   in, when a user's password is set or the user is disabled (forced logout,
 *   {@link UcenterNotes.forcedLogout}). Discuz! answers it by giving its local copy a random
 *   password, which ends its forum sessions.
 * - `updateapps` at every application, when the list of applications changes: the list in
 *   UCenter's XML as the request body. uc_client keeps it (`data/cache/apps.php`) and only
 *   asks for `user/synlogin` / `user/synlogout` scripts while it lists another application.
 * Success is UCenter's: the handler answers `1`. Anything else (another body, a 5xx, no
 * answer) is retried with the queue's backoff; the code is made fresh, with its 60-second
 * expiry, at every attempt.
 */
export class UcenterNotes implements DeliverySender {
  constructor(
    private readonly apps: UcenterAppRegistry,
    private readonly users: UserRepository,
    private readonly deliveries: DeliveryQueue,
    private readonly hub: HubEntry,
    private readonly store: Store,
    private readonly keys: Keys,
  ) {}

  /**
   * Sends the application list again where the applications' cached copy may be of an older
   * form: the one a hub before the hub's own entry sent (a forum that was the only application
   * then never asks for synlogin/synlogout scripts), or one naming another hub address. Once
   * per form and address across hub processes (a compare-and-set on what was last sent; a
   * process that loses it sends nothing). Returns how many notes were queued.
   */
  async sendListIfChanged(): Promise<number> {
    const key = this.keys.ucenterAppListSent();
    const sent = await this.store.get(key);
    const now = `${APP_LIST_FORM}:${this.hub.url}`;
    if (sent === now || !(await this.store.swap(key, sent, now))) return 0;
    return this.enqueueUpdateapps();
  }

  /**
   * A forced logout's notes. A deleted user: deleteuser at every application (Discuz! deletes the
   * member and, by default, every post and attachment of theirs, as when UCenter deletes a user).
   * A user who stays (disabled) gets updatepw at the applications that take password notes
   * (`--updatepw`): Discuz! gives the member a random local password, which ends every forum
   * session of theirs (its auth cookie carries that password) and keeps their posts. Only at
   * those: real UCenter's updatepw carries the password, and a handler written for it may store
   * md5 of the empty `password` the hub sends, so an application must say it takes them. A new
   * password's own note (`onPasswordSet`) went to the same applications already. Returns how
   * many were queued.
   */
  async forcedLogout(userId: string, reason: ForcedLogoutReason): Promise<number> {
    if (reason === 'deleted') return this.enqueueDeleteuser(userId);
    if (reason === 'password-reset') return 0;
    const user = await this.users.findById(userId);
    return user ? this.enqueueUpdatepw(user) : 0;
  }

  /** Queues a deleteuser note at every application; returns how many. */
  async enqueueDeleteuser(userId: string): Promise<number> {
    const user = await this.users.findById(userId);
    if (!user) return 0;
    const uid = await this.users.uidOf(user);
    const apps = await this.apps.list();
    for (const app of apps) {
      // `reason` tells this version's items from an older hub's (see LEGACY_DELETEUSER_GRACE_MS).
      await this.deliveries.enqueue({ kind: 'ucenter-deleteuser', clientId: appClientId(app.appId), sub: userId, reason: 'deleted', ucenterUid: uid, url: noteUrl(app, true), ...registrationOf(app) });
    }
    return apps.length;
  }

  /** Queues an updatepw note at every application that takes them; returns how many. */
  async enqueueUpdatepw(user: Pick<User, 'id' | 'username'>): Promise<number> {
    const apps = (await this.apps.list()).filter((app) => app.updatepw);
    for (const app of apps) {
      await this.deliveries.enqueue({ kind: 'ucenter-updatepw', clientId: appClientId(app.appId), sub: user.id, username: user.username, url: noteUrl(app, true), ...registrationOf(app) });
    }
    return apps.length;
  }

  /** Queues an updateapps note (the current list, read when it is sent) at every application. */
  async enqueueUpdateapps(): Promise<number> {
    const apps = await this.apps.list();
    for (const app of apps) {
      await this.deliveries.enqueue({ kind: 'ucenter-updateapps', clientId: appClientId(app.appId), sub: '', url: noteUrl(app, true), ...registrationOf(app) });
    }
    return apps.length;
  }

  /**
   * A removed application's pending notes are made due now: the worker finds the application
   * gone (or another registered under its id since) and fails them at once, listed for the admin,
   * instead of leaving them pending for their backoff (up to an hour). At most BULK_RETRY_LIMIT
   * of them at once; any left fail at their own next attempt.
   */
  async dropPending(app: UcenterApp): Promise<number> {
    return (await this.deliveries.retryAllOf(appClientId(app.appId), 'pending')).retried;
  }

  async target(item: DeliveryItem): Promise<string | undefined> {
    const app = await this.apps.find(appIdOf(item.clientId));
    if (!app) return undefined;
    // Where it was queued for, not the new registration's address: it is not sent (attempt).
    return queuedForAnother(item, app) ? item.url : noteUrl(app, true);
  }

  async attempt(item: DeliveryItem, _url: string, timeoutMs: number): Promise<AttemptResult> {
    const held = (await this.#heldDeleteuser(item)) ?? (await this.#heldUpdatepw(item));
    if (held) return held;
    const app = await this.apps.find(appIdOf(item.clientId));
    // Queued for an application removed since, whose app id another registration took (another
    // site): a deleteuser there would delete a member of that site, and every post of theirs.
    if (app && queuedForAnother(item, app)) {
      return { retryAfter: 0, error: DELIVERY_ERRORS.appReplaced, unsendable: true };
    }
    const args = noteArgs(item);
    if (!app || !args) return { retryAfter: 0, error: app ? DELIVERY_ERRORS.noteEmpty : DELIVERY_ERRORS.appGone, unsendable: true };
    let request: Request;
    try {
      // In the application's charset: its handler keeps the names' bytes as they come.
      const body = args.action === 'updateapps' ? new Uint8Array(xmlSerialize(appList(await this.apps.list(), this.hub), app.charset)) : undefined;
      request = new Request(noteRequestUrl(app, args.action, args.args, { internal: true }), {
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
        ...(body !== undefined ? { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
      });
    } catch (thrown) {
      return { retryAfter: 0, error: errorSummary(thrown), unsendable: true };
    }
    try {
      const response = await serverFetch(request);
      const body = noteAnswer(new Uint8Array(await response.arrayBuffer()).subarray(0, MAX_ANSWER_BYTES)).text;
      const ok = response.status >= 200 && response.status < 300;
      if (ok && body === '1') return { status: response.status, retryAfter: 0 };
      return { status: response.status, retryAfter: 0, ...(ok ? { refused: true, error: DELIVERY_ERRORS.appRefused } : { error: `HTTP ${response.status}` }) };
    } catch (thrown) {
      return { retryAfter: 0, error: errorSummary(thrown) };
    }
  }

  /**
   * An updatepw whose user was deleted since it was queued (a password set, or a disable, while
   * the application was down): the note names the member by username only, and a deleted
   * account's username is free at once, so by the time the application answers it may name
   * another account, whose forum sessions it would end (Discuz! gives the member by that name a
   * random password). Not sent: the deleted user's own deleteuser, by uid (never handed out
   * again), ends them at the application. Before, a delivery review had the new account that
   * took the name signed out of the forum by the old account's note.
   */
  async #heldUpdatepw(item: DeliveryItem): Promise<AttemptResult | undefined> {
    if (item.kind !== 'ucenter-updatepw' || !item.username) return undefined;
    const user = item.sub ? await this.users.findById(item.sub) : undefined;
    if (user && user.username === item.username) return undefined;
    return { retryAfter: 0, unsendable: true, error: DELIVERY_ERRORS.userGone };
  }

  /**
   * A deleteuser an older hub queued (no `reason`) for a user who is still there: hubs before
   * this rule queued one at every disable too, and Discuz! deletes the member and every post of
   * theirs on it. Left pending in a queue (the application down during a rolling update), it was
   * sent by this version: a disabled user lost their posts. Queued for a deletion, the user's
   * record goes right after the note is queued, so the note waits a short while for that; a user
   * still there after it was disabled, not deleted: the note fails, said so in the console
   * (delete the user to send one). This version sends updatepw for a disable.
   */
  async #heldDeleteuser(item: DeliveryItem): Promise<AttemptResult | undefined> {
    if (item.kind !== 'ucenter-deleteuser' || item.reason !== undefined) return undefined;
    if (!(await this.users.findById(item.sub))) return undefined;
    if (Date.now() - item.createdAt < LEGACY_DELETEUSER_GRACE_MS) {
      return { retryAfter: LEGACY_DELETEUSER_GRACE_MS / 4, error: DELIVERY_ERRORS.userStillExists };
    }
    return {
      retryAfter: 0,
      unsendable: true,
      error: DELIVERY_ERRORS.olderDisableNote,
    };
  }
}

/**
 * How long a deleteuser an older hub queued waits for its user's record to go before it counts
 * as queued at a disable: a deletion removes the record right after queuing its notes.
 */
export const LEGACY_DELETEUSER_GRACE_MS = 60_000;

/** The form of the list this version sends (2: with the hub's own entry). */
const APP_LIST_FORM = 2;

/** The registration a note is queued for (see UcenterApp.generation). */
function registrationOf(app: UcenterApp): { clientGeneration?: string } {
  return app.generation ? { clientGeneration: app.generation } : {};
}

function noteArgs(item: DeliveryItem): { action: 'deleteuser' | 'updatepw' | 'updateapps'; args: Record<string, string | number> } | undefined {
  if (item.kind === 'ucenter-updateapps') return { action: 'updateapps', args: {} };
  if (item.kind === 'ucenter-deleteuser' && item.ucenterUid !== undefined) return { action: 'deleteuser', args: { ids: item.ucenterUid } };
  if (item.kind === 'ucenter-updatepw' && item.username) return { action: 'updatepw', args: { username: item.username } };
  return undefined;
}
