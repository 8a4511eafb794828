import { randomUUID } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { AuditLog } from '../audit/audit-log.js';
import type { ClientRegistry } from '../clients/client-registry.js';
import type { UserdeleteReason } from '../delivery/delivery.js';
import type { DeliveryQueue } from '../delivery/delivery-queue.js';
import { ConflictError, msg, NotFoundError } from '../errors.js';
import type { ConsentIndex } from '../oidc/consents.js';
import type { GrantIndex } from '../oidc/grant-index.js';
import type { SessionIndex } from '../oidc/session-index.js';
import type { TwoStepRepository } from '../two-step/two-step-repository.js';
import type { PublicUser } from './user.js';
import { isEnabledAdmin, toPublic } from './user.js';
import { enabledAdminBesides } from './admin-role.js';
import { AccountRemoval } from './account-removal.js';
import type { OwnerNotices } from './owner-notices.js';
import type { PendingDeletions } from './pending-deletions.js';
import type { UserRepository } from './user-repository.js';
import { revokeGrant, revokeGrantsOf, withdrawConsent } from '../oidc/revoke-grant.js';

/** Sessions one call of AccountLifecycle.endOldestSessions ends at most (an upgrade's backlog drains over the next requests). */
const ENDED_PER_CALL = 20;

export interface LifecycleDeps {
  users: UserRepository;
  sessions: SessionIndex;
  consents: ConsentIndex;
  grants: GrantIndex;
  provider: Provider;
  clients: ClientRegistry;
  deliveries: DeliveryQueue;
  audit: AuditLog;
  /** Two-step enrolments: removed with the user. */
  twoStepRecords?: TwoStepRepository;
  /**
   * More notices for a forced logout (UCenter applications); returns how many were queued. Told
   * why: a deleted user's applications get deleteuser, which a Discuz! forum answers by deleting
   * the member and every post of theirs; a user who stays (disabled) gets what only ends sessions.
   */
  moreNotices?: (userId: string, reason: ForcedLogoutReason) => Promise<number>;
  /** Deletions recorded before they are carried out, finished later when cut off part-way. */
  pendingDeletions: PendingDeletions;
  /** The "your account was deleted" mail of the owner's own deletion, sent once it is finished. */
  notices?: Pick<OwnerNotices, 'accountDeleted'>;
}

/**
 * Why every session of a user ends: `deleted` (the account is going), `disabled` (it stays,
 * refused), `password-reset` (an admin set a new password: its own notices went with it).
 */
export type ForcedLogoutReason = UserdeleteReason;

/** Who asked, for the audit log: a user id (admin console) or `cli`. */
export interface Actor {
  actor: string;
  ip?: string;
}

/** One hub session of a user, as the admin console shows it. */
export interface UserSession {
  uid: string;
  loginTs?: number; // epoch seconds
  expiresAt?: number; // epoch seconds
  /** Client ids signed in through this session, with the `sid` each was told. */
  clients: { clientId: string; sid?: string }[];
}

type SessionPayload = { uid?: unknown; loginTs?: unknown; exp?: unknown; authorizations?: Record<string, { sid?: string; grantId?: string }> };

function toUserSession(payload: SessionPayload): UserSession | undefined {
  if (typeof payload.uid !== 'string') return undefined;
  return {
    uid: payload.uid,
    ...(typeof payload.loginTs === 'number' ? { loginTs: payload.loginTs } : {}),
    ...(typeof payload.exp === 'number' ? { expiresAt: payload.exp } : {}),
    clients: Object.entries(payload.authorizations ?? {}).map(([clientId, { sid }]) => ({ clientId, ...(sid ? { sid } : {}) })),
  };
}

/**
 * Disabling and deleting users, and ending their sessions: the account stops working at
 * once everywhere the hub controls it (hub sessions end, grants and tokens are revoked),
 * and every subsite is told through the delivery queue (userdelete, or back-channel
 * logout), so it ends the user's sessions there too, even while it is down.
 */
export class AccountLifecycle {
  /** Deletions: recorded, carried out, finished later when cut off part-way (account-removal.ts). */
  readonly removal: AccountRemoval;

  constructor(private readonly deps: LifecycleDeps) {
    this.removal = new AccountRemoval({ ...deps, forceLogout: (userId) => this.forceLogout(userId, 'deleted') });
  }

  /** The user's live hub sessions. */
  async sessionsOf(userId: string): Promise<UserSession[]> {
    const live = await this.deps.sessions.list(userId);
    return live.map(({ payload }) => toUserSession(payload as SessionPayload)).filter((s): s is UserSession => s !== undefined);
  }

  /** Ends every hub session and revokes every grant and token of the user. */
  async endEverything(userId: string): Promise<{ sessions: number; grants: number }> {
    const { sessions: index, consents, grants: grantIndex, provider } = this.deps;
    await this.#endSignIns(userId);
    const sessions = await index.endAll(userId);
    // Every device's grant and tokens, and what the user had allowed: it all starts again.
    const grants = await revokeGrantsOf(provider, grantIndex, userId);
    for (const { clientId } of await consents.clientsOf(userId)) await consents.forget(userId, clientId);
    return { sessions, grants };
  }

  /**
   * The user withdraws a site's access (the account page): its remembered consent goes, every
   * token it holds for the user is revoked, on every device, and the site, where it registered
   * a back-channel URI, is told to end the user's sessions there (a review: it kept the user
   * signed in with their profile until the browser closed). Returns the notices queued.
   */
  async withdrawConsent(userId: string, clientId: string): Promise<number> {
    const sids = await this.#sidsByClient(userId); // before the grants go
    await withdrawConsent(this.deps.provider, this.deps.consents, this.deps.grants, userId, clientId);
    const client = await this.deps.clients.find(clientId);
    if (!client || client.internal || !client.backchannelLogoutUri) return 0;
    return this.#logoutTokens(userId, client.clientId, client.backchannelLogoutUri, sids.get(client.clientId));
  }

  /**
   * The forced logout: everything the hub holds for the user ends now, and every subsite
   * gets a queued notice: a userdelete where it registered a userdelete URL, else a
   * back-channel logout where it registered a back-channel URI (see {@link #logoutTokens}).
   */
  async forceLogout(userId: string, reason: ForcedLogoutReason): Promise<{ sessions: number; grants: number; deliveries: number }> {
    const sids = await this.#sidsByClient(userId); // before they are ended
    const ended = await this.endEverything(userId);
    let deliveries = 0;
    for (const client of await this.deps.clients.list()) {
      if (client.internal) continue;
      if (client.userdeleteUrl) {
        await this.deps.deliveries.enqueue({ kind: 'userdelete', clientId: client.clientId, sub: userId, reason, url: client.userdeleteUrl });
        deliveries += 1;
      } else if (client.backchannelLogoutUri) {
        deliveries += await this.#logoutTokens(userId, client.clientId, client.backchannelLogoutUri, sids.get(client.clientId));
      }
    }
    if (this.deps.moreNotices) deliveries += await this.deps.moreNotices(userId, reason);
    return { ...ended, deliveries };
  }

  /**
   * Disables the user: no sign-in from now on, and the forced logout (sessions, tokens, a notice
   * to every subsite). `alreadyDisabled` when it was done before: nothing is ended or sent again
   * (a second run sent every subsite another round of notices, an outside review). A disable
   * that stopped part-way (the user disabled, the notices not all queued) is finished instead.
   */
  async disable(idOrLogin: string, by: Actor = { actor: 'system' }, { keepAnAdmin = false }: { keepAnAdmin?: boolean } = {}): Promise<PublicUser & { alreadyDisabled?: true }> {
    const user = await this.deps.users.require(idOrLogin);
    if (user.disabled && user.disabledAt !== undefined) return { ...toPublic(user), alreadyDisabled: true };
    await this.deps.users.update(user.id, { disabled: true });
    // `keepAnAdmin` (the console): checked once written, before anything is ended, as a revoked
    // admin role is (admin-role.ts). Two admins disabling each other at the same moment both passed
    // the console's checks and left no enabled admin, the console closed to all; now the last to
    // check finds none, is enabled again and refused, so at least one enabled admin remains.
    if (keepAnAdmin && isEnabledAdmin(user) && !(await enabledAdminBesides(this.deps.users, undefined))) {
      await this.deps.users.update(user.id, { disabled: false });
      throw new ConflictError(msg('errors:lastAdmin', { user: user.username }));
    }
    const ended = await this.forceLogout(user.id, 'disabled');
    const updated = await this.deps.users.update(user.id, { disabledAt: Date.now() });
    await this.deps.audit.record({ event: 'admin.user.disable', ...by, subject: user.id, detail: ended });
    return toPublic(updated);
  }

  /**
   * Enables the user; one enabled already (another admin, the CLI, a stale page) is left as it is,
   * not audited again. One whose deletion is being finished (cut off part-way, see
   * PendingDeletions) is refused: enabled, it signed in again until the hub finished the deletion,
   * and the subsites, told of the deletion before, were never told of that sign-in's end.
   */
  async enable(idOrLogin: string, by: Actor = { actor: 'system' }): Promise<PublicUser & { alreadyEnabled?: true }> {
    const user = await this.deps.users.require(idOrLogin);
    await this.#refuseWhileDeleting(user.id, user.username);
    // A disable cut off part-way (`disabled` without `disabledAt`, or the reverse) is not "enabled already": it is cleared.
    if (!user.disabled && user.disabledAt === undefined) return { ...toPublic(user), alreadyEnabled: true };
    const updated = toPublic(await this.deps.users.update(user.id, { disabled: false, disabledAt: undefined }));
    // A deletion begun between the check and the write (it disabled the account first): disabled again.
    if (await this.#deleting(user.id)) {
      await this.deps.users.update(user.id, { disabled: true }).catch(() => undefined);
      await this.#refuseWhileDeleting(user.id, user.username);
    }
    await this.deps.audit.record({ event: 'admin.user.enable', ...by, subject: user.id });
    return updated;
  }

  /** A decided deletion of the account is recorded and not finished yet (an owner's still in its checks is not). */
  async #deleting(userId: string): Promise<boolean> {
    return (await this.deps.pendingDeletions.get(userId))?.phase === 'deleting';
  }

  async #refuseWhileDeleting(userId: string, username: string): Promise<void> {
    if (await this.#deleting(userId)) throw new ConflictError(msg('errors:deletionPendingEnable', { username }));
  }

  /**
   * Deletes the user (the console, the CLI; the owner's own deletion goes through
   * AccountRemoval.beginDeletion). The deletion is recorded first (users/pending-deletions.ts), then
   * carried out: the account disabled (no new sign-in slips in while sessions are being ended),
   * the forced logout queued, the record and the two-step enrolment removed, the audit entry
   * written. Cut off part-way (the store failing, the process stopping), it stays recorded and the
   * hub finishes it later on its own (DeletionResumer, AccountRemoval.resumeDeletions); the console and
   * `users pending-deletions` show it meanwhile. `event`: `account.deleted` when the owner deleted
   * the account on the account page (the same path, told apart in the audit log).
   */
  async delete(idOrLogin: string, by: Actor = { actor: 'system' }, event: 'admin.user.delete' | 'account.deleted' = 'admin.user.delete'): Promise<PublicUser> {
    const user = await this.deps.users.require(idOrLogin);
    const begun = await this.removal.beginDeletion(user, by, event, { phase: 'deleting' });
    return this.removal.finishDeletion(begun);
  }

  /**
   * Ends one hub session of the user; subsites signed in through it that registered a
   * back-channel URI get a logout token for its `sid`.
   */
  async endSession(userId: string, uid: string, by: Actor = { actor: 'system' }): Promise<void> {
    await this.deps.sessions.markEnded(userId, { uid });
    const live = await this.deps.sessions.list(userId);
    const found = live.find(({ payload }) => payload.uid === uid);
    if (!found) throw new NotFoundError(msg('errors:sessionEnded'));
    await this.#end(userId, found);
    await this.deps.audit.record({ event: 'admin.session.end', ...by, subject: userId, detail: { session: uid } });
  }

  /**
   * The owner ends one of their other sessions from the account page ("Sign out" on its row):
   * as {@link endSession}, but a session that is not the user's, or is gone already, ends
   * nothing and says nothing (false), so the form cannot probe other users' sessions.
   */
  async endOwnSession(userId: string, uid: string): Promise<boolean> {
    const live = await this.deps.sessions.list(userId);
    const found = live.find(({ payload }) => payload.uid === uid);
    if (!found) return false;
    // Before the end: a request that holds this session and writes it back later ends it again.
    await this.deps.sessions.markEnded(userId, { uid });
    await this.#end(userId, found);
    return true;
  }

  /**
   * Ends the user's oldest hub sessions (by sign-in time) until `keep` are left, as "Sign out"
   * on their rows of the account page would (their grants and tokens, back-channel notices),
   * audited once as `account.sessions.oldest-ended` with how many. Called when the account holds
   * more than SessionIndex.maxPerAccount (session-index.ts), inside the request that saved a
   * session: at most `atMost` end per call (each is a few store writes), so an account that
   * piled up thousands before the cap (an older hub's) is brought down over its next requests,
   * not in one that would take seconds. Returns how many ended.
   */
  async endOldestSessions(userId: string, keep: number, atMost = ENDED_PER_CALL): Promise<number> {
    const live = await this.deps.sessions.list(userId);
    if (live.length <= keep) return 0;
    const signedInAt = (payload: Record<string, unknown>) => (typeof payload.loginTs === 'number' ? payload.loginTs : 0);
    const oldest = [...live].sort((a, b) => signedInAt(a.payload) - signedInAt(b.payload)).slice(0, Math.min(live.length - keep, atMost));
    for (const session of oldest) {
      // Before the end: a request that holds this session and writes it back later ends it again.
      if (typeof session.payload.uid === 'string') await this.deps.sessions.markEnded(userId, { uid: session.payload.uid });
      await this.#end(userId, session);
    }
    await this.deps.audit.record({ event: 'account.sessions.oldest-ended', actor: 'system', subject: userId, detail: { sessions: oldest.length, kept: keep } });
    return oldest.length;
  }

  /**
   * Ends every hub session of the user and revokes every token on every device (also those
   * of password-grant sign-ins, which have no session). The user stays enabled and
   * remembered consents stay.
   */
  async endAllSessions(userId: string, by: Actor = { actor: 'system' }): Promise<number> {
    await this.#endSignIns(userId);
    await this.deps.sessions.markEnded(userId);
    const live = await this.deps.sessions.list(userId);
    for (const session of live) await this.#end(userId, session);
    await revokeGrantsOf(this.deps.provider, this.deps.grants, userId);
    await this.deps.audit.record({ event: 'admin.sessions.end-all', ...by, subject: userId, detail: { sessions: live.length } });
    return live.length;
  }

  /**
   * "Sign out everywhere" (a password reset): every hub session ends, every grant and token
   * of the user is revoked on every device (password-grant sign-ins too), and every subsite
   * that registered a back-channel URI gets logout tokens for the user (see {@link #logoutTokens}).
   * Not a userdelete: the user still exists (DESIGN flows 6 and 7), and a subsite may delete
   * local data on a userdelete. Remembered consents stay.
   */
  async signOutEverywhere(userId: string): Promise<{ sessions: number; grants: number; deliveries: number }> {
    await this.#endSignIns(userId);
    const sids = await this.#sidsByClient(userId); // before they are ended
    const sessions = await this.deps.sessions.endAll(userId);
    const grants = await revokeGrantsOf(this.deps.provider, this.deps.grants, userId);
    let deliveries = 0;
    for (const client of await this.deps.clients.list()) {
      if (client.internal || !client.backchannelLogoutUri) continue;
      deliveries += await this.#logoutTokens(userId, client.clientId, client.backchannelLogoutUri, sids.get(client.clientId));
    }
    return { sessions, grants, deliveries };
  }

  /**
   * Every OTHER hub session of the user ends (a password change on the account page): each
   * with its grants and tokens, and a back-channel logout for the `sid` each subsite was
   * given; grants not of the kept session (password-grant sign-ins, sessions already gone)
   * are revoked too. The session `keepUid` and its grants stay.
   */
  async endOtherSessions(userId: string, keepUid: string): Promise<{ sessions: number; grants: number }> {
    await this.#endSignIns(userId);
    // Before the listing: a request that holds one of the others and writes it back later ends it again.
    await this.deps.sessions.markEnded(userId, { keep: keepUid });
    const live = await this.deps.sessions.list(userId);
    const kept = live.find(({ payload }) => payload.uid === keepUid);
    const keepGrants = new Set(Object.values((kept?.payload as SessionPayload | undefined)?.authorizations ?? {}).map(({ grantId }) => grantId));
    const others = live.filter((session) => session !== kept);
    for (const session of others) await this.#end(userId, session);
    let grants = 0;
    for (const { grantId } of await this.deps.grants.list(userId)) {
      if (keepGrants.has(grantId)) continue;
      await revokeGrant(this.deps.provider, grantId);
      grants += 1;
    }
    return { sessions: others.length, grants };
  }

  /**
   * Sign-ins in progress end too: one whose password was checked before this (a sign-in page
   * left on its sync page, a second step not yet done) is refused when it resumes
   * (`installResumeCheck`), as its session would be ended here had it existed. First, so a
   * sign-in that read the user before it cannot slip in while the sessions are being ended.
   */
  async #endSignIns(userId: string): Promise<void> {
    try {
      await this.deps.users.update(userId, { signInGeneration: randomUUID() });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error; // no such user: nobody can sign in as them
    }
  }

  /** Each client's `sid`s in the user's live hub sessions (read before they are ended). */
  async #sidsByClient(userId: string): Promise<Map<string, Set<string>>> {
    const sids = new Map<string, Set<string>>();
    for (const { clients } of await this.sessionsOf(userId)) {
      for (const { clientId, sid } of clients) if (sid) sids.set(clientId, (sids.get(clientId) ?? new Set()).add(sid));
    }
    return sids;
  }

  /**
   * The back-channel logout tokens of an "all sessions" event (disable, delete, a password reset,
   * a withdrawn consent): one for the user's `sub` with no `sid` (OIDC Back-Channel Logout 1.0
   * §2.4: all of the user's sessions there, also those the hub no longer knows of), and one
   * with `sub` and `sid` for each session the hub knows the client was given. The hub registers
   * every client as requiring `sid` (oidc-metadata.ts), and a relying party that does (pac4j)
   * or that finds its sessions by `sid` only ignored the first: a disabled user stayed signed
   * in there (an outside review). Returns how many were queued.
   */
  async #logoutTokens(userId: string, clientId: string, url: string, sids: Set<string> = new Set()): Promise<number> {
    await this.deps.deliveries.enqueue({ kind: 'backchannel-logout', clientId, sub: userId, url });
    for (const sid of sids) await this.deps.deliveries.enqueue({ kind: 'backchannel-logout', clientId, sub: userId, sid, url });
    return 1 + sids.size;
  }

  async #end(userId: string, session: { key: string; payload: Record<string, unknown> }): Promise<void> {
    await this.deps.sessions.end(userId, session.key, session.payload);
    // The session's own grants (one per client it signed in to) go with it: its tokens end.
    for (const { grantId } of Object.values((session.payload as SessionPayload).authorizations ?? {})) {
      if (grantId) await revokeGrant(this.deps.provider, grantId);
    }
    const ended = toUserSession(session.payload as SessionPayload);
    for (const { clientId, sid } of ended?.clients ?? []) {
      const client = await this.deps.clients.find(clientId);
      if (client?.backchannelLogoutUri && !client.internal) {
        await this.deps.deliveries.enqueue({ kind: 'backchannel-logout', clientId, sub: userId, ...(sid ? { sid } : {}), url: client.backchannelLogoutUri });
      }
    }
  }
}
