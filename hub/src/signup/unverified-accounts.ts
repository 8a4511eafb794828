import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../logger.js';
import type { ConsentIndex } from '../oidc/consents.js';
import type { GrantIndex } from '../oidc/grant-index.js';
import type { SessionIndex } from '../oidc/session-index.js';
import { foldName, type Keys } from '../store/keys.js';
import type { Store } from '../store/store.js';
import type { TwoStepRepository } from '../two-step/two-step-repository.js';
import { isUnverifiedSignUp, mayBeRemovedUnverified, type User } from '../users/user.js';
import type { UserRepository } from '../users/user-repository.js';
import { PeriodicPass } from '../periodic-pass.js';

export const DAY_SECONDS = 86_400;
/** How often each hub process tries to take the lock and remove what is due, in milliseconds. */
export const SWEEP_INTERVAL_MS = 60_000; // a minute
/** Accounts removed per pass at most; a full pass runs the next one at once. */
export const SWEEP_BATCH = 100;
/** Records looked at per pass by the walk over every account (see scanOlder). */
export const SCAN_BATCH = 1_000;
/** Between two passes of that scan while it is not done, in milliseconds: a million users take about 17 minutes. */
export const SCAN_PAUSE_MS = 1_000;
/** How long the lock is held at most (a process that died holding it frees it by then), in seconds. */
const LOCK_SECONDS = 300;
/** The walk runs again this long after it finished (accounts an older process made or let sign in during a rolling upgrade), in seconds. */
const RESCAN_SECONDS = DAY_SECONDS;

/** What {@link removalTime} reads of a user record. */
type RemovalFields = Pick<User, 'signedUp' | 'emailVerified' | 'signedInUnverifiedAt' | 'unverifiedSince' | 'roles'>;

/** When an unverified self-sign-up will be removed (epoch seconds), or undefined when it never will be. */
export function removalTime(user: RemovalFields, days: number): number | undefined {
  if (days <= 0 || user.unverifiedSince === undefined || !mayBeRemovedUnverified(user)) return undefined;
  return user.unverifiedSince + days * DAY_SECONDS;
}

export interface UnverifiedAccountsDeps {
  store: Store;
  keys: Keys;
  users: UserRepository;
  sessions: SessionIndex;
  grants: GrantIndex;
  consents: ConsentIndex;
  twoStepRecords: TwoStepRepository;
  audit: AuditLog;
  logger: Logger;
  /** HUB_UNVERIFIED_ACCOUNT_DAYS: 0 keeps them for good. */
  days: number;
  /** The clock, epoch ms (tests move it). */
  now?: () => number;
  /** Records the walk for older accounts looks at per pass; {@link SCAN_BATCH} unless a test walks in smaller steps. */
  scanBatch?: number;
}

/** What one pass did. */
export interface SweepPass {
  /** Whether this process held the lock (another one may be sweeping). */
  ran: boolean;
  removed: number;
  /** Listed accounts whose list entry the walk wrote (again: there already, unless a crash between record and entry lost it). */
  listed: number;
  /** Whether a full batch was due: the next pass follows at once. */
  more: boolean;
  /** Whether the scan for older accounts has more to look at: the next pass follows after {@link SCAN_PAUSE_MS}. */
  scanning: boolean;
}

/**
 * Removes self-service sign-ups that neither verified their address nor ever signed in,
 * HUB_UNVERIFIED_ACCOUNT_DAYS after they signed up, so that a sign-up nobody completes does not
 * hold its username (a person's handle, squatted) or its records for good.
 *
 * Not TTLs on the records: the set of all users and the uid index cannot expire one member at a
 * time, and a verification would have to take the TTL off the record, the username index and the
 * uid index at once, which Redis Cluster cannot do (they lie in different slots): an index expiring
 * under a verified account was possible. Instead a sorted set lists them, the record is the one
 * place a race is decided (UserRepository.removeUnverified), and one hub process at a time (a lock
 * in the store) removes at most {@link SWEEP_BATCH} per pass, on a timer in every process.
 *
 * Removal is no forced logout: such an account never signed in (a first sign-in takes it off the
 * list, UserRepository.keepSignedIn), so no subsite knows it. As a second guard, an account with
 * anything of a sign-in (a hub session, a grant, a remembered consent, two-step sign-in) is kept.
 */
export class UnverifiedAccounts {
  readonly #timer = new PeriodicPass(
    async () => {
      const pass = await this.runOnce();
      return pass.more ? 0 : pass.scanning ? SCAN_PAUSE_MS : SWEEP_INTERVAL_MS;
    },
    (error) => {
      this.deps.logger.warn('removing unverified accounts failed; the next pass tries again', { error: error instanceof Error ? error.name : 'Error' });
      return SWEEP_INTERVAL_MS;
    },
  );

  constructor(private readonly deps: UnverifiedAccountsDeps) {}

  #now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** When the account will be removed (epoch seconds), or undefined when it never will be. */
  removalTime(user: RemovalFields): number | undefined {
    return removalTime(user, this.deps.days);
  }

  start(): void {
    if (this.deps.days > 0) this.#timer.start();
  }

  /** Stops the timer and waits for the pass in progress. */
  stop(): Promise<void> {
    return this.#timer.stop();
  }

  /** One pass, under the lock: a batch of the walk (see scanOlder), then what is due removed (a batch). */
  async runOnce(): Promise<SweepPass> {
    const { store, keys } = this.deps;
    if (this.deps.days <= 0) return { ran: false, removed: 0, listed: 0, more: false, scanning: false };
    const token = randomUUID();
    // One process at a time: two would race each other for the same accounts (harmless, every
    // step is a compare-and-set, but twice the work and twice the audit entries).
    if (!(await store.set(keys.unverifiedSweepLock(), token, { onlyIfAbsent: true, ttlSeconds: LOCK_SECONDS }))) {
      return { ran: false, removed: 0, listed: 0, more: false, scanning: false };
    }
    try {
      const scan = await this.#scanOlder();
      const cutoffMs = this.#now() - this.deps.days * DAY_SECONDS * 1000;
      const due = await this.deps.users.unverifiedDue(cutoffMs, SWEEP_BATCH);
      let removed = 0;
      for (const id of due) if (await this.#remove(id, cutoffMs)) removed += 1;
      return { ran: true, removed, listed: scan.listed, more: due.length === SWEEP_BATCH, scanning: scan.more };
    } finally {
      await store.swap(keys.unverifiedSweepLock(), token, null);
    }
  }

  /**
   * The sign-up made in this browser, sent again with the same username (Back on the "check your
   * inbox" page, the mistyped address corrected): the pending account goes now, so that the new
   * sign-up can take its username. Only an account that may be removed as unverified (a self-sign-up,
   * address never proven, never signed in, no role, nothing of a sign-in in the store), and only
   * when `username` is its name (NFKC, case-folded): false, and nothing changes, otherwise. Its
   * verification link, mailed to the old address, then finds no account and is not valid. The
   * caller vouches that this browser made the sign-up (the portal session keeps its id).
   */
  async withdraw(id: string, username: string, ip: string): Promise<boolean> {
    const sameName = (user: User) => foldName(user.username) === foldName(username);
    const user = await this.deps.users.findById(id);
    // One marked `removing` (a removal cut off after its mark, say this browser's last try, the
    // store failing) still holds its username: removeUnverified finishes it.
    if (!user || !sameName(user) || !mayBeRemovedUnverified(user)) return false;
    if (!user.removing && (await this.#signedInOnce(id))) return false;
    const result = await this.deps.users.removeUnverified(id, sameName);
    if (result.outcome !== 'removed') return false;
    await this.deps.twoStepRecords.remove(id);
    await this.deps.audit.record({ event: 'signup.replaced', actor: id, subject: id, ip, detail: { username: result.user.username } });
    return true;
  }

  async #remove(id: string, cutoffMs: number): Promise<boolean> {
    const user = await this.deps.users.findById(id);
    if (user && !user.removing && (await this.#signedInOnce(id))) {
      // Cannot happen through the hub (a first sign-in takes it off the list), but if anything
      // of a sign-in exists the account was used: kept, never removed silently.
      await this.deps.users.keepSignedIn(user);
      this.deps.logger.warn('an unverified account due for removal has sign-in records: kept', { user: id });
      return false;
    }
    const result = await this.deps.users.removeUnverified(id, (current) => current.unverifiedSince! * 1000 <= cutoffMs);
    if (result.outcome !== 'removed') return false;
    // Nothing of two-step can exist without a sign-in; removed all the same, as a deletion does.
    await this.deps.twoStepRecords.remove(id);
    // No address: the username (public) and the period, so an admin can answer "where did my account go".
    await this.deps.audit.record({ event: 'signup.expired', actor: 'system', subject: id, detail: { username: result.user.username, days: this.deps.days } });
    return true;
  }

  /** Whether the store holds anything only a sign-in makes. */
  async #signedInOnce(id: string): Promise<boolean> {
    const [sessions, grants, consents, twoStep] = await Promise.all([
      this.deps.sessions.list(id),
      this.deps.grants.list(id),
      this.deps.consents.clientsOf(id),
      this.deps.twoStepRecords.isEnabled(id),
    ]);
    return sessions.length > 0 || grants.length > 0 || consents.length > 0 || twoStep;
  }

  /**
   * The walk over every account, in each hub's passes: restores the list entry of a listed account
   * whose entry a crash lost, and marks an account an older release made (no `unverifiedSince`)
   * that has anything of a sign-in as signed in, kept for good (the evidence is recorded while it
   * lasts: sessions and grants expire). It never lists an older account by itself: an older
   * release kept unverified sign-ups for good and, with HUB_REQUIRE_VERIFIED_EMAIL=false at any
   * time, let them sign in and use subsites without writing anything that lasts (a UCenter
   * `user/login` leaves no session at all), so nothing tells a used one from an idle one, and a
   * subsite's user must never lose the account without being asked. The operator who knows no
   * older account was ever used asks with {@link listOlder}. Walks the set of all users (SSCAN),
   * about {@link SCAN_BATCH} a pass, its cursor kept in the store; after a full walk it rests a
   * day, then walks again (accounts an older process marked or restored during a rolling update).
   */
  async #scanOlder(): Promise<{ listed: number; more: boolean }> {
    const { store, keys } = this.deps;
    const stateKey = keys.unverifiedScanned();
    const state = await store.get(stateKey);
    if (state === 'done') return { listed: 0, more: false };
    // The walk's place: an SSCAN cursor over the set of all users, kept between passes (and processes).
    const cursor = state?.startsWith('cursor:') ? state.slice('cursor:'.length) : '0';
    const page = await store.setScan(keys.users(), cursor, this.deps.scanBatch ?? SCAN_BATCH);
    const since = Math.floor(this.#now() / 1000);
    let listed = 0;
    for (const user of await this.#records(page.members)) if ((await this.#visit(user, since, false)) === 'restored') listed += 1;
    const more = page.cursor !== '0';
    await store.set(stateKey, more ? `cursor:${page.cursor}` : 'done', { ttlSeconds: RESCAN_SECONDS });
    return { listed, more };
  }

  /**
   * The operator's request (`npm run hub -- users expire-older-unverified`): every unverified
   * self-sign-up an older release made is put on the list with the whole period from now, unless
   * it has anything of a sign-in (then marked kept). Only for a hub that never let unverified
   * accounts sign in (HUB_REQUIRE_VERIFIED_EMAIL=false on no release, at no time): the hub cannot
   * tell. One whole walk, apart from the passes' own. A sign-in or verification meanwhile keeps an
   * account as for any other.
   */
  async listOlder(): Promise<{ listed: number; kept: number }> {
    const { store, keys } = this.deps;
    const since = Math.floor(this.#now() / 1000);
    let listed = 0;
    let kept = 0;
    let cursor = '0';
    do {
      const page = await store.setScan(keys.users(), cursor, this.deps.scanBatch ?? SCAN_BATCH);
      for (const user of await this.#records(page.members)) {
        const done = await this.#visit(user, since, true);
        if (done === 'listed') listed += 1;
        if (done === 'kept') kept += 1;
      }
      cursor = page.cursor;
    } while (cursor !== '0');
    return { listed, kept };
  }

  async #records(ids: string[]): Promise<User[]> {
    const { store, keys } = this.deps;
    const raws = await store.getMany(ids.map((id) => keys.user(id)));
    return raws.filter((raw): raw is string => raw !== null).map((raw) => JSON.parse(raw) as User);
  }

  /**
   * One account the walk finds. `restored`: a listed account's entry put back (or there);
   * `kept`: an older account with sign-in records, marked; `listed`: an older account put on the
   * list (only when the operator asked: `listOlder`).
   */
  async #visit(user: User, since: number, listOlder: boolean): Promise<'restored' | 'kept' | 'listed' | 'left'> {
    const { users } = this.deps;
    if (user.removing || !isUnverifiedSignUp(user)) return 'left';
    if (user.unverifiedSince !== undefined) return (await users.listUnverified(user.id, since)) ? 'restored' : 'left';
    if (await this.#signedInOnce(user.id)) return (await users.keepSignedIn(user)) ? 'kept' : 'left';
    if (!listOlder) return 'left';
    return (await users.listUnverified(user.id, since)) ? 'listed' : 'left';
  }
}
