import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import { ConflictError, msg, NotFoundError } from '../errors.js';
import type { TwoStepRepository } from '../two-step/two-step-repository.js';
import type { Actor } from './account-lifecycle.js';
import type { OwnerNotices } from './owner-notices.js';
import type { DeletionLease, PendingDeletion, PendingDeletions } from './pending-deletions.js';
import { toPublic, type PublicUser, type User } from './user.js';
import type { UserRepository } from './user-repository.js';

export interface AccountRemovalDeps {
  users: UserRepository;
  pendingDeletions: PendingDeletions;
  audit: AuditLog;
  twoStepRecords?: TwoStepRepository;
  /** The "your account was deleted" mail of the owner's own deletion, sent once it is finished. */
  notices?: Pick<OwnerNotices, 'accountDeleted'>;
  /** The forced logout of a deleted user (AccountLifecycle.forceLogout, reason `deleted`). */
  forceLogout(userId: string): Promise<{ sessions: number; grants: number; deliveries: number }>;
}

/** A deletion recorded under this caller's lease (AccountRemoval.beginDeletion). */
export interface BegunDeletion {
  lease: DeletionLease;
  pending: PendingDeletion;
}

/** A step on a record another step (an earlier try, a console action) removed already: nothing left to do. */
async function ignoreGone(step: Promise<unknown>): Promise<void> {
  try {
    await step;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}

/**
 * Deleting an account so that a deletion cut off part-way is finished, not left half-done: each
 * deletion is recorded before anything of the account is touched (pending-deletions.ts), carried
 * out in steps each safe to run again, and finished later by the hub (DeletionResumer) when a
 * step fails. The owner's own deletion is recorded as `checking` until its last checks passed
 * (account-deletion.ts), and rolled back rather than finished should its request stop before.
 */
export class AccountRemoval {
  constructor(private readonly deps: AccountRemovalDeps) {}

  /**
   * Records the deletion of `user` under a lease of this caller's (see {@link delete}); nothing of
   * the account is touched yet. `checking` (the owner's deletion before its last checks): should
   * the caller stop before {@link commitDeletion}, the hub rolls it back (the hold released, see
   * User.deletionHold). A ConflictError while another request or process works on it.
   */
  async beginDeletion(user: User, by: Actor, event: PendingDeletion['event'], options: { phase: PendingDeletion['phase']; noticeLocale?: string }): Promise<BegunDeletion> {
    const { pendingDeletions: deletions } = this.deps;
    const lease = await deletions.lease(user.id);
    if (!lease) throw new ConflictError(msg('errors:busyRecord'));
    try {
      const { pending, created } = await deletions.begin({
        userId: user.id,
        username: user.username,
        event,
        by,
        phase: options.phase,
        ...(options.phase === 'checking' ? { hold: randomUUID() } : {}),
        ...(options.noticeLocale ? { notice: { locale: options.noticeLocale, email: user.email, name: user.name, ...(user.signedUp !== undefined ? { signedUp: user.signedUp } : {}), ...(user.emailVerified !== undefined ? { emailVerified: user.emailVerified } : {}) } } : {}),
      });
      if (created) return { lease, pending };
      // Another deletion of the account is recorded: the owner's request waits for it (it is being
      // finished, or, stopped in its check, rolled back). The console's delete finishes a decided
      // one, and takes the place of one stopped in its check (its disable drops the hold).
      if (options.phase === 'checking') throw new ConflictError(msg('errors:busyRecord'));
      if (pending.phase === 'deleting') return { lease, pending };
      const replaced: PendingDeletion = { ...pending, event, by, phase: 'deleting' };
      delete replaced.hold;
      delete replaced.notice;
      await deletions.replace(replaced);
      return { lease, pending: replaced };
    } catch (error) {
      await deletions.release(lease).catch(() => undefined);
      throw error;
    }
  }

  /** The owner's deletion passed its checks: from now on it is finished whatever happens. */
  async commitDeletion(begun: BegunDeletion): Promise<void> {
    const committed = await this.deps.pendingDeletions.update(begun.lease.userId, (pending) => ({ ...pending, phase: 'deleting' }));
    // Rolled back meanwhile (the request took longer than its lease): not deleted; the owner tries again.
    if (!committed) throw new ConflictError(msg('errors:busyRecord'));
    begun.pending = committed;
  }

  /**
   * The owner's deletion was refused in its checks (or failed there): nothing happened. Its hold
   * is released (only while the account still carries it: UserRepository.releaseDeletionHold),
   * its record removed. Should this fail too, the hub rolls it back later (it is `checking`).
   */
  async abandonDeletion(begun: BegunDeletion): Promise<void> {
    if (begun.pending.hold) await this.deps.users.releaseDeletionHold(begun.lease.userId, begun.pending.hold);
    await this.deps.pendingDeletions.done(begun.lease.userId);
    await this.deps.pendingDeletions.release(begun.lease);
  }

  /**
   * Carries out a recorded deletion (its lease held). A failure part-way leaves it recorded, due
   * again after a backoff, and is thrown: the hub finishes it later.
   */
  async finishDeletion(begun: BegunDeletion): Promise<PublicUser> {
    try {
      return await this.#carryOut(begun.pending);
    } catch (error) {
      await this.deps.pendingDeletions.retryLater(begun.lease.userId, error).catch(() => undefined);
      throw error;
    } finally {
      await this.deps.pendingDeletions.release(begun.lease).catch(() => undefined);
    }
  }

  /**
   * One pass over the deletions due (DeletionResumer runs it on a timer in every hub process): each
   * whose lease is free is finished, or, when its request stopped in its checks, rolled back.
   * Returns how many were finished and rolled back.
   */
  async resumeDeletions(now = Date.now(), limit = 20): Promise<{ finished: number; rolledBack: number; failed: number }> {
    const { pendingDeletions: deletions } = this.deps;
    const result = { finished: 0, rolledBack: 0, failed: 0 };
    for (const userId of await deletions.due(now, limit)) {
      const lease = await deletions.lease(userId);
      if (!lease) continue; // being worked on right now
      try {
        const pending = await deletions.get(userId);
        if (!pending) {
          await deletions.dropOrphan(userId, now);
          continue;
        }
        if (pending.phase === 'checking') {
          // Its request stopped before it was decided: the deletion did not happen.
          if (pending.hold) await this.deps.users.releaseDeletionHold(userId, pending.hold);
          await deletions.done(userId);
          result.rolledBack += 1;
          continue;
        }
        try {
          await this.#carryOut(pending);
          result.finished += 1;
        } catch (error) {
          await deletions.retryLater(userId, error).catch(() => undefined);
          result.failed += 1;
        }
      } finally {
        await deletions.release(lease).catch(() => undefined);
      }
    }
    return result;
  }

  /** The steps of a deletion, each safe to run again: what an earlier try did is not done twice where it shows (the notices to subsites). */
  async #carryOut(pending: PendingDeletion): Promise<PublicUser> {
    const { users, pendingDeletions: deletions } = this.deps;
    const { userId } = pending;
    const user = await users.findById(userId);
    if (user) await ignoreGone(users.update(userId, { disabled: true }));
    let ended = pending.loggedOut;
    if (!ended) {
      ended = await this.deps.forceLogout(userId);
      const logged = ended;
      await deletions.update(userId, (current) => ({ ...current, loggedOut: logged }));
    }
    // Before the record goes: a seed listing the username never creates the account again.
    await users.keepDeletedFromSeeds(pending.username);
    const removed = user !== undefined && (await users.delete(userId).then(() => true, (error: unknown) => {
      if (error instanceof NotFoundError) return false;
      throw error;
    }));
    // A try that removed the record stopped before the sets (or the record went meanwhile): what is left of it.
    if (!removed) await users.removeLeftovers(userId);
    await this.deps.twoStepRecords?.remove(userId);
    await this.deps.audit.record({ event: pending.event, ...pending.by, subject: userId, detail: { username: pending.username, ...ended } });
    if (pending.notice && this.deps.notices) {
      const { locale, ...owner } = pending.notice;
      this.deps.notices.accountDeleted({ ...owner, username: pending.username }, locale);
    }
    await deletions.done(userId);
    // An earlier try removed the record: what is known of it (the caller shows the username).
    return user ? toPublic(user) : { id: userId, username: pending.username, email: pending.notice?.email ?? '', name: pending.notice?.name ?? '', disabled: true, roles: [], createdAt: 0 };
  }
}
