import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BusyError, ConflictError, HubError, msg, NotFoundError, ValidationError } from '../errors.js';
import { foldAddress, type Keys } from '../store/keys.js';
import { compareAndSet } from '../store/compare-and-set.js';
import { keepRemovedFromSeeds, seedEntry } from '../seed-entries.js';
import type { Store } from '../store/store.js';
import { isLegacyHash } from './legacy-hash.js';
import { addressForm } from './login-form.js';
import { isValidUsername, normalUsername } from './username.js';
import type { PasswordHasher } from './passwords.js';
import { ADMIN_ROLE, checkRoles, displayNameProblem, isUnverifiedSignUp, MAX_NAME_LENGTH, mayBeRemovedUnverified, toPublic, type PublicUser, type User } from './user.js';

/**
 * An address, bare (`local@domain`, RFC 5322's addr-spec without quoted local parts or domain
 * literals): no space, no control or format character (a terminal escape in an address reached
 * `users list` raw), and none of the characters of a mailbox around an address (`<>()[]\,;:"`).
 * `Lure<victim@x>` passed before: a mail library reads it as a display name the requester chose
 * before the victim's address, so a sign-up's mail to an unproven address carried the requester's
 * text, each such spelling had mail budgets of its own, and a second account could claim a
 * verified mailbox through it.
 */
const ADDRESS_CHARS = '[^\\s@\\p{Cc}\\p{Cf}<>()\\[\\]\\\\,;:"]+';
/** The domain's characters: an address's, but for the full stops IDNA takes for a dot (。．｡: a mail library's punycode turns them into `.`). */
const DOMAIN_CHARS = '[^\\s@\\p{Cc}\\p{Cf}<>()\\[\\]\\\\,;:"\\u3002\\uFF0E\\uFF61]+';
/** The domain's last label: no dot at all. */
const LAST_LABEL = '[^\\s@\\p{Cc}\\p{Cf}<>()\\[\\]\\\\,;:".\\u3002\\uFF0E\\uFF61]+';
/**
 * At most 254 characters (RFC 5321's path limit, as the sign-up and the e-mail change counted
 * it; the console, CLI, seed and UCenter took 20,000), and a domain that neither ends with a dot
 * nor has one IDNA reads as a dot: `bob@example.com.` (the root's dot, the same mailbox as
 * bob@example.com) or `bob@mail。example.com` (a mail library sends it to bob@mail.example.com)
 * was another address to the e-mail index, so a second account, and a budget of mails of its
 * own, for one mailbox. (UCenter's own check let `a@b..c` in, so forums' members may have one:
 * no mailbox of anyone else's, and still taken.)
 */
export const EMAIL = new RegExp(`^(?=.{3,254}$)${ADDRESS_CHARS}@${DOMAIN_CHARS}\\.${LAST_LABEL}$`, 'u');
const MIN_PASSWORD_LENGTH = 8; // NIST SP 800-63B minimum for user-chosen passwords
const MAX_PASSWORD_LENGTH = 256; // bounds the hashing work an attacker can ask for
/** How long a create's `userCreating` marker lives: a create takes a few store deadlines (2 s each) at most; seconds. */
const CREATING_TTL_SECONDS = 60;
/**
 * How long a claim found naming no record and no marker is watched before it is taken over: an
 * older hub's create (no marker) writes its record this soon after its claim unless the store is
 * failing; ms.
 */
const ABANDONED_CLAIM_RECHECK_MS = 1000;
/** Users read per store round trip when all are walked ({@link UserRepository.each}): no one command reads them all. */
export const LIST_BATCH = 500;
const usernameOrder = new Intl.Collator();
/** The users list's order: by username, as `localeCompare` orders (the same collation, compiled once). */
export function byUsername(a: { username: string }, b: { username: string }): number {
  return usernameOrder.compare(a.username, b.username);
}

export interface NewUser {
  username: string;
  email: string;
  name?: string;
  password: string;
  roles?: string[];
  id?: string;
  /** UCenter uid to keep (an import); new users get the next one. */
  uid?: number;
}

/** A user imported with a hash made elsewhere (UCenter `uc_members`), kept until the first sign-in. */
export interface ImportedUser extends Omit<NewUser, 'password'> {
  passwordHash: string;
  createdAt?: number;
}

/** Users in the store: records by id, with unique username and email indexes. */
/** A password checked and hashed by {@link UserRepository.preparePassword}, ready to be set. */
export interface PreparedPassword {
  readonly passwordHash: string;
}

/** The fields of a user record that the hub hands out as claims (`account.ts`): a change of one is an `updated_at`. */
const CLAIM_FIELDS = ['username', 'name', 'email', 'emailVerified'] as const satisfies readonly (keyof User)[];

/**
 * An address change found the account other than its caller checked it (another change of the
 * address won a race, or `expect` no longer holds): nothing was changed, and the address it would
 * have claimed was given back.
 */
export class AccountChangedMeanwhileError extends HubError {
  override readonly name = 'AccountChangedMeanwhileError';
  constructor() {
    super(409, 'The account changed meanwhile.');
  }
}

export class UserRepository {
  readonly #passwordSet: ((user: User) => Promise<unknown>)[] = [];

  constructor(
    private readonly store: Store,
    private readonly keys: Keys,
    private readonly hasher: PasswordHasher,
  ) {}

  /**
   * The floor of a password an admin, the CLI or a seed sets, counted as the portal's policy
   * counts (password-policy.ts): characters (code points) of the NFKC form it is hashed in. Counted
   * as typed, eight combining sequences (`e` + U+0301 four times) passed with four characters.
   */
  static checkPassword(password: string): void {
    if ([...password.normalize('NFKC')].length < MIN_PASSWORD_LENGTH) throw new ValidationError(msg('errors:passwordTooShort', { min: MIN_PASSWORD_LENGTH }));
    if (password.length > MAX_PASSWORD_LENGTH) throw new ValidationError(msg('errors:passwordTooLong', { max: MAX_PASSWORD_LENGTH }));
  }

  /**
   * What `create` checks before it writes anything (a seed checks every entry this way first):
   * the password's length, the username and e-mail formats, and a display name typed here
   * (console, CLI, seed file; imports keep the names they bring).
   */
  static checkNewUser(input: Pick<NewUser, 'username' | 'email' | 'name' | 'password' | 'roles'>): void {
    UserRepository.checkPassword(input.password);
    if (!isValidUsername(input.username)) throw new ValidationError(msg('errors:usernameFormat'));
    if (!EMAIL.test(input.email.trim())) throw new ValidationError(msg('errors:emailFormat'));
    const nameProblem = input.name === undefined ? undefined : displayNameProblem(input.name);
    if (nameProblem === 'tooLong') throw new ValidationError(msg('errors:nameTooLong', { max: MAX_NAME_LENGTH }));
    if (nameProblem === 'forbidden') throw new ValidationError(msg('errors:nameControl'));
    checkRoles(input.roles ?? []);
  }

  async create(input: NewUser): Promise<PublicUser> {
    UserRepository.checkNewUser(input);
    const { password, ...rest } = input;
    return this.#insert({ ...rest, passwordHash: await this.hasher.hash(password) });
  }

  /**
   * A self-service sign-up: the username is claimed, the e-mail address is not (it is claimed
   * only when verified, see `verifyEmail`), so nobody can hold an address they cannot read.
   */
  async createSignedUp(input: Omit<NewUser, 'roles' | 'uid' | 'password'> & { passwordHash: string; locale?: string }): Promise<PublicUser> {
    const { passwordHash, locale, ...rest } = input;
    const createdAt = Math.floor(Date.now() / 1000);
    // Neither verified nor signed in yet: removed HUB_UNVERIFIED_ACCOUNT_DAYS from now unless it
    // verifies (signup/unverified-accounts.ts), so an unverified sign-up cannot hold a username for good.
    const user = await this.#insert({ ...rest, passwordHash, createdAt }, { claimEmail: false, extra: { emailVerified: false, signedUp: true, unverifiedSince: createdAt, ...(locale ? { locale } : {}) } });
    await this.store.zAdd(this.keys.unverifiedUsers(), createdAt * 1000, user.id);
    return user;
  }

  /**
   * Marks the address verified and claims it (SET NX on the e-mail index), and the account is
   * kept from then on (its `unverifiedSince` goes in the same write). `address-taken` when another
   * account holds the address by now (the first to verify an address gets it); `no-account` when
   * the account is gone or being removed (an unverified account past its time), or moved to
   * another address meanwhile. In both failures no index is left pointing at it.
   */
  async verifyEmail(id: string, email: string): Promise<'verified' | 'address-taken' | 'no-account'> {
    const sameAddress = (user: User) => foldAddress(user.email) === foldAddress(email);
    const user = await this.findById(id);
    if (!user || user.removing || !sameAddress(user)) return 'no-account';
    const emailKey = this.keys.userByEmail(email);
    const claimed = (await this.store.get(emailKey)) !== id;
    if (claimed && !(await this.store.set(emailKey, id, { onlyIfAbsent: true }))) return 'address-taken';
    let verified: User | undefined;
    try {
      // One compare-and-set on the record decides a race with the removal of an unverified
      // account: whichever writes the record first wins, and the other sees what it wrote.
      verified = await this.#modify(id, (current) => (current.removing || !sameAddress(current) ? undefined : keptAccount({ ...current, emailVerified: true })));
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    if (!verified) {
      // Removed (or being removed, or moved to another address) meanwhile: the claim made here
      // is given back, so the address index never points at a missing account.
      if (claimed) await this.store.swap(emailKey, id, null);
      return 'no-account';
    }
    await this.store.zRemove(this.keys.unverifiedUsers(), id);
    return 'verified';
  }

  /**
   * A sign-in of the account is about to succeed (its password, and its verification when
   * HUB_REQUIRE_VERIFIED_EMAIL asks for it, were checked). An unverified self-sign-up is kept from
   * now on: it may use subsites, and an account someone uses never goes away unasked. False when
   * the account is gone or being removed: the sign-in then fails as for an unknown account.
   */
  async keepSignedIn(user: User): Promise<boolean> {
    // Any self-sign-up not verified and not yet marked (isUnverifiedSignUp), also one an older release
    // made (no `unverifiedSince`), or one with a role: the mark keeps it off the list for good.
    if (!isUnverifiedSignUp(user) && !user.removing) return true; // nothing would remove it (as read just now)
    let kept: User | undefined;
    try {
      kept = await this.#modify(user.id, (current) => {
        if (current.removing) return undefined;
        if (!isUnverifiedSignUp(current)) return current;
        return keptAccount({ ...current, signedInUnverifiedAt: Math.floor(Date.now() / 1000) });
      });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    if (!kept) return false;
    await this.store.zRemove(this.keys.unverifiedUsers(), user.id);
    return true;
  }

  /**
   * Puts an unverified self-sign-up an older release made (no `unverifiedSince`) on the removal
   * list, its period counting from `since` (epoch seconds); also re-adds a listed account whose
   * list entry is missing (a crash between its record and its entry). False when the account no
   * longer qualifies (verified, signed in, removed meanwhile).
   */
  async listUnverified(id: string, since: number): Promise<boolean> {
    let listed: User | undefined;
    try {
      listed = await this.#modify(id, (current) => {
        if (current.removing || !mayBeRemovedUnverified(current)) return undefined;
        return current.unverifiedSince === undefined ? { ...current, unverifiedSince: since } : current;
      });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    if (!listed) return false;
    await this.store.zAdd(this.keys.unverifiedUsers(), listed.unverifiedSince! * 1000, id);
    return true;
  }

  /** Unverified self-sign-ups whose period began at or before `sinceMs` (epoch ms), oldest first, at most `limit`. */
  unverifiedDue(sinceMs: number, limit: number): Promise<string[]> {
    return this.store.zRangeByScore(this.keys.unverifiedUsers(), 0, sinceMs, limit);
  }

  /**
   * Removes an unverified self-sign-up whose time ran out (`due` decides from the record as
   * stored). First a compare-and-set marks the record `removing`: a verification or first
   * sign-in racing it either landed before (the account no longer qualifies, nothing is removed)
   * or sees the mark and refuses. Then each index lets go of it only where it still points at
   * this account, the record goes, and its list entry last: a crash part-way leaves the entry,
   * and the next pass finishes the job. `kept`: it no longer qualifies (taken off the list);
   * `gone`: no record (an admin deleted it, or a pass before finished all but the entry).
   */
  async removeUnverified(id: string, due: (user: User) => boolean): Promise<{ outcome: 'removed'; user: User } | { outcome: 'kept' | 'gone' }> {
    // The rule (mayBeRemovedUnverified), and listed: its period has a start.
    const unverified = (user: User) => mayBeRemovedUnverified(user) && user.unverifiedSince !== undefined;
    let marked: User | undefined;
    try {
      marked = await this.#modify(id, (current) => {
        if (current.removing) return current;
        return unverified(current) && due(current) ? { ...current, removing: true } : undefined;
      });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      await this.store.zRemove(this.keys.unverifiedUsers(), id);
      return { outcome: 'gone' };
    }
    if (!marked) {
      const current = await this.findById(id);
      // Not yet due (a record whose period was restarted) stays listed; anything else is kept for good.
      if (!current || !unverified(current)) await this.store.zRemove(this.keys.unverifiedUsers(), id);
      return { outcome: 'kept' };
    }
    await this.store.swap(this.keys.userByName(marked.username), id, null);
    // It never held its address, unless a verification claimed it just before the mark (that one gives it back too).
    await this.#releaseAddress(marked.email, id);
    if (marked.uid !== undefined) await this.store.swap(this.keys.userByUid(marked.uid), id, null);
    await this.store.setRemove(this.keys.users(), id);
    await this.store.zRemove(this.keys.legacyHashUsers(), id);
    await this.store.del(this.keys.user(id));
    await this.store.zRemove(this.keys.unverifiedUsers(), id);
    return { outcome: 'removed', user: marked };
  }

  /** The account that holds an address (verified sign-ups, and every account made by an admin or an import). */
  async findByEmail(email: string): Promise<User | undefined> {
    const address = email.trim();
    const before = this.#addressKeyBefore(address);
    const id = (await this.store.get(this.keys.userByEmail(address))) ?? (before ? await this.store.get(before) : null);
    return id ? this.findById(id) : undefined;
  }

  /** The address index's key a hub before NFC comparison wrote for `email`, where it is not today's. */
  #addressKeyBefore(email: string): string | undefined {
    const before = this.keys.userByEmailLowerCased(email);
    return before === this.keys.userByEmail(email) ? undefined : before;
  }

  /**
   * Lets go of the address index's entries that name this account: the key as it is compared now
   * and, for an address that NFC changes, the key a hub before `foldAddress` wrote (only where it
   * still names this account).
   */
  async #releaseAddress(email: string, id: string): Promise<void> {
    await this.store.swap(this.keys.userByEmail(email), id, null);
    const before = this.#addressKeyBefore(email);
    if (before) await this.store.swap(before, id, null);
  }

  /** Creates a user with a hash from another system (see ImportedUser); the uid is kept. */
  importUser(input: ImportedUser): Promise<PublicUser> {
    return this.#insert(input);
  }

  async #insert(input: ImportedUser, options: { claimEmail?: boolean; extra?: Partial<User> } = {}): Promise<PublicUser> {
    const claimEmail = options.claimEmail ?? true;
    const username = normalUsername(input.username);
    const email = input.email.trim();
    if (!isValidUsername(username)) throw new ValidationError(msg('errors:usernameFormat'));
    if (!EMAIL.test(email)) throw new ValidationError(msg('errors:emailFormat'));
    const user: User = {
      id: input.id ?? randomUUID(),
      username,
      email,
      name: input.name?.trim() || username,
      passwordHash: input.passwordHash,
      disabled: false,
      roles: checkRoles(input.roles ?? []),
      createdAt: input.createdAt ?? Math.floor(Date.now() / 1000),
      ...options.extra,
    };
    // Marked as being created before its names are claimed (see #claimName), for as long as a create can take.
    await this.store.set(this.keys.userCreating(user.id), '1', { ttlSeconds: CREATING_TTL_SECONDS });
    // Claim the unique names first so two concurrent creates cannot both succeed.
    if (!(await this.#claimName(this.keys.userByName(username), user.id))) {
      throw new ConflictError(msg('errors:usernameTaken', { username }));
    }
    if (claimEmail && !(await this.#claimName(this.keys.userByEmail(email), user.id))) {
      await this.store.del(this.keys.userByName(username));
      throw new ConflictError(msg('errors:emailTaken', { email }));
    }
    try {
      user.uid = await this.#claimUid(user.id, input.uid);
    } catch (error) {
      await this.store.del(this.keys.userByName(username), ...(claimEmail ? [this.keys.userByEmail(email)] : []));
      throw error;
    }
    // Listed as an admin before the record says so: the list is never short of an admin (someAdmin).
    if (user.roles.includes(ADMIN_ROLE)) await this.store.setAdd(this.keys.admins(), user.id);
    // In the set of users before the record too: the lists read the records and leave out an id
    // without one, while a record written first and then cut off from the set was an account no
    // list showed (and the create sent again was told "taken").
    await this.store.setAdd(this.keys.users(), user.id);
    // The record only where none is: an id given (a seed, an import) that another account holds
    // would otherwise replace that account, its sessions, grants and subsites' accounts included,
    // while its name and address still led to the record.
    if (!(await this.store.set(this.keys.user(user.id), JSON.stringify(user), { onlyIfAbsent: true }))) {
      await this.store.del(this.keys.userByName(username), ...(claimEmail ? [this.keys.userByEmail(email)] : []), this.keys.userByUid(user.uid));
      throw new ConflictError(msg('errors:idTaken', { id: user.id }));
    }
    if (isLegacyHash(user.passwordHash)) await this.store.zAdd(this.keys.legacyHashUsers(), user.uid, user.id);
    return toPublic(user);
  }

  /**
   * Claims a username or address for a new account (SET NX). A claim that names an account with
   * no record, and that no create is still working on (its `userCreating` marker gone), was left
   * by a create the store cut off between the claim and the record: it is taken over (a
   * compare-and-set, so of two creates only one does). Before, the name stayed taken for good,
   * naming no account: the sign-up sent again after the 503 page was told "This username is taken".
   */
  async #claimName(key: string, id: string): Promise<boolean> {
    if (await this.store.set(key, id, { onlyIfAbsent: true })) return true;
    const holder = await this.store.get(key);
    if (holder === null) return this.store.set(key, id, { onlyIfAbsent: true });
    if (!(await this.#abandoned(holder))) return false;
    // Looked at again after a pause: a hub before the marker (9a87e18 and older, in a rolling
    // update) writes none, and its create at work between its claim and its record looks the
    // same as a cut-off one for a few round trips. Taken over at once, both creates succeeded:
    // two accounts, the name leading to this one's (an upgrade review).
    await sleep(ABANDONED_CLAIM_RECHECK_MS);
    if (!(await this.#abandoned(holder))) return false;
    if (!(await this.store.swap(key, holder, id))) return false;
    // The cut-off create's id left in the set of users (added before its record): it never had an account.
    await this.store.setRemove(this.keys.users(), holder);
    return true;
  }

  /** Whether a claim's account has neither a record nor a create still at work on it (its marker). */
  async #abandoned(holder: string): Promise<boolean> {
    const [record, creating] = await this.store.getMany([this.keys.user(holder), this.keys.userCreating(holder)]);
    return record === null && creating === null;
  }

  /**
   * A UCenter uid for the user: the one asked for (an import; a taken one is a conflict), or
   * the next from the counter (INCR), skipping any an import has already claimed.
   */
  async #claimUid(userId: string, wanted?: number): Promise<number> {
    if (wanted !== undefined) {
      if (!Number.isSafeInteger(wanted) || wanted < 1) throw new ValidationError('A uid is a positive whole number.');
      if (!(await this.store.set(this.keys.userByUid(wanted), userId, { onlyIfAbsent: true }))) throw new ConflictError(`The uid ${wanted} is taken.`);
      return wanted;
    }
    for (;;) {
      const uid = await this.store.incr(this.keys.userUidCounter());
      if (await this.store.set(this.keys.userByUid(uid), userId, { onlyIfAbsent: true })) return uid;
    }
  }

  /** Moves the uid counter past an imported uid, so new users never collide with imported ones. */
  async reserveUidsUpTo(uid: number): Promise<void> {
    const current = Number((await this.store.get(this.keys.userUidCounter())) ?? 0);
    if (current < uid) await this.store.set(this.keys.userUidCounter(), String(uid));
  }

  /** The user's uid, assigning one to a record made before uids existed. */
  async uidOf(user: User): Promise<number> {
    if (user.uid !== undefined) return user.uid;
    const uid = await this.#claimUid(user.id);
    await this.update(user.id, { uid });
    return uid;
  }

  async findByUid(uid: number): Promise<User | undefined> {
    if (!Number.isSafeInteger(uid) || uid < 1) return undefined;
    const id = await this.store.get(this.keys.userByUid(uid));
    return id ? this.findById(id) : undefined;
  }

  /** The users holding these uids, in their order (undefined where none does): two MGETs, not two reads a uid. */
  async findManyByUid(uids: readonly number[]): Promise<(User | undefined)[]> {
    const valid = uids.map((uid) => Number.isSafeInteger(uid) && uid >= 1);
    const ids = await this.store.getMany(uids.filter((_, index) => valid[index]).map((uid) => this.keys.userByUid(uid)));
    const records = await this.store.getMany(ids.filter((id): id is string => id !== null).map((id) => this.keys.user(id)));
    let found = 0;
    let read = 0;
    return uids.map((_, index) => {
      if (!valid[index]) return undefined;
      const id = ids[found++];
      if (id === null || id === undefined) return undefined;
      const raw = records[read++];
      return raw ? (JSON.parse(raw) as User) : undefined;
    });
  }

  /**
   * How many users there are: the size of the set of ids (one `SCARD`), not a walk of every
   * record. An unverified sign-up in the middle of its removal (`removing`, which {@link each}
   * leaves out) still counts until its id leaves the set a moment later.
   */
  count(): Promise<number> {
    return this.store.setCard(this.keys.users());
  }

  /** How many users still hold an imported legacy hash (replaced at their next sign-in). */
  legacyHashCount(): Promise<number> {
    return this.store.zCard(this.keys.legacyHashUsers());
  }

  /** The store key of a user's record (for a read ahead of it, see oidc/read-ahead.ts). */
  recordKey(id: string): string {
    return this.keys.user(id);
  }

  /**
   * `readAhead`: given the record's key, the record when it is already being read (see
   * oidc/read-ahead.ts), else undefined and it is read here.
   */
  async findById(id: string, readAhead?: (key: string) => Promise<string | null> | undefined): Promise<User | undefined> {
    const key = this.keys.user(id);
    const raw = await (readAhead?.(key) ?? this.store.get(key));
    return raw ? (JSON.parse(raw) as User) : undefined;
  }

  /** By username only, case-insensitively (never by e-mail address). */
  async findByUsername(username: string): Promise<User | undefined> {
    const trimmed = username.trim();
    const id = trimmed ? await this.store.get(this.keys.userByName(trimmed)) : null;
    return id ? this.findById(id) : undefined;
  }

  /** By username or e-mail address, case-insensitively. */
  async findByLogin(login: string): Promise<User | undefined> {
    const trimmed = login.trim();
    if (!trimmed) return undefined;
    // The name index, else the address index, then the record: one round trip (one script).
    // A full-width ＠ (an input method's) is an address's '@': looked up folded (users/login-form.ts).
    const address = addressForm(trimmed);
    const before = this.#addressKeyBefore(address);
    const raw = await this.store.getIndexed([this.keys.userByName(trimmed), this.keys.userByEmail(address), ...(before ? [before] : [])], this.keys.userAroundId());
    return raw ? (JSON.parse(raw) as User) : undefined;
  }

  async require(idOrLogin: string): Promise<User> {
    const user = (await this.findById(idOrLogin)) ?? (await this.findByLogin(idOrLogin));
    if (!user) throw new NotFoundError(msg('errors:noUser', { user: idOrLogin }));
    return user;
  }

  async list(): Promise<PublicUser[]> {
    const all: PublicUser[] = [];
    for await (const user of this.each()) all.push(user);
    return all.sort(byUsername);
  }

  /**
   * Every user, in no order, {@link LIST_BATCH} records per store round trip (SSCAN, then one
   * GET of that many records). `list()` read every record in one command: with a forum's 300,000
   * imported members the store answered the console's overview after its 2 s deadline (a 503), and
   * Redis, busy with that one command, made every other request of those seconds a 503 too (an
   * attacker's review). Between batches other requests are served.
   */
  async *each(): AsyncGenerator<PublicUser> {
    const seen = new Set<string>(); // SSCAN may return a member twice
    let cursor = '0';
    do {
      const batch = await this.#batch(cursor, seen);
      cursor = batch.cursor;
      yield* batch.users;
    } while (cursor !== '0');
  }

  /**
   * A part of {@link each} for a page that must not read every record (the console's list): whole
   * batches from `from` (a cursor this answered; '0' for the start) until at least `examine` ids
   * were read, and the cursor to go on from ('0' when the walk is done). A cursor stays good
   * between requests: SSCAN returns every id present from the first call to the last at least
   * once (one that came or went meanwhile may be missed, or seen twice across pages).
   */
  async scan(from: string, examine: number): Promise<{ users: PublicUser[]; next: string; examined: number }> {
    const seen = new Set<string>();
    const users: PublicUser[] = [];
    let cursor = from;
    do {
      const batch = await this.#batch(cursor, seen);
      cursor = batch.cursor;
      users.push(...batch.users);
    } while (cursor !== '0' && seen.size < examine);
    return { users, next: cursor, examined: seen.size };
  }

  /** One SSCAN batch of ids from `cursor` and their records (one GET of them all); `seen` drops repeats. */
  async #batch(cursor: string, seen: Set<string>): Promise<{ cursor: string; users: PublicUser[] }> {
    const page = await this.store.setScan(this.keys.users(), cursor, LIST_BATCH);
    const ids = page.members.filter((id) => !seen.has(id));
    for (const id of ids) seen.add(id);
    return { cursor: page.cursor, users: await this.#records(ids) };
  }

  /** The users of `ids` as stored (one round trip), leaving out the missing and those being removed. */
  async #records(ids: string[]): Promise<PublicUser[]> {
    if (ids.length === 0) return [];
    const raws = await this.store.getMany(ids.map((id) => this.keys.user(id)));
    const users: PublicUser[] = [];
    for (const raw of raws) {
      if (raw === null) continue;
      const user = JSON.parse(raw) as User;
      // An unverified account being removed is on its way out: not shown, not counted.
      if (!user.removing) users.push(toPublic(user));
    }
    return users;
  }

  /**
   * Whether an admin is as `test` says (an enabled one besides some account: the last-admin
   * guards). The admins' ids are kept in a set beside the records (`users:admins`), so this reads
   * a handful of records, not every user: with a forum's 300,000 members a walk took seconds for
   * each revocation. The set holds every admin (an id goes in before a record gains the role and
   * leaves after it lost it) and maybe some that are no longer: each record is read and tested as
   * stored now. Where it finds none, every user is walked as before, and the admins found go into
   * the set: a deployment from before the set, or a revocation that raced a grant of the same
   * account, is answered right, never "no other admin" by mistake.
   */
  async someAdmin(test: (user: PublicUser) => boolean): Promise<boolean> {
    const listed = await this.#records(await this.store.setMembers(this.keys.admins()));
    if (listed.some(test)) return true;
    for await (const user of this.each()) {
      if (!user.roles.includes(ADMIN_ROLE)) continue;
      if (!listed.some((known) => known.id === user.id)) await this.store.setAdd(this.keys.admins(), user.id);
      if (test(user)) return true;
    }
    return false;
  }

  async update(id: string, change: Partial<Pick<User, 'disabled' | 'disabledAt' | 'name' | 'roles' | 'passwordHash' | 'uid' | 'signInGeneration'>>): Promise<User> {
    const roles = change.roles ? checkRoles(change.roles) : undefined;
    if (roles?.includes(ADMIN_ROLE)) await this.store.setAdd(this.keys.admins(), id);
    const next = await this.#modify(id, (user) => {
      // A write of `disabled` is someone's decision about the account: a self-deletion's hold
      // (holdForDeletion) is no longer its to undo.
      const { deletionHold: _hold, ...rest } = user;
      return { ...('disabled' in change ? rest : user), ...change, ...(roles ? { roles } : {}) };
    });
    if (change.passwordHash !== undefined && !isLegacyHash(change.passwordHash)) await this.store.zRemove(this.keys.legacyHashUsers(), id);
    return next!;
  }

  /**
   * Disables an enabled account for a self-deletion's last-admin check, marked with `hold` (the
   * deletion's own value), in one compare-and-set. False when the account is disabled already
   * (by an admin: nothing of that is the deletion's to undo).
   */
  async holdForDeletion(id: string, hold: string): Promise<boolean> {
    const held = await this.#modify(id, (user) => (user.disabled ? undefined : { ...user, disabled: true, deletionHold: hold }));
    return held !== undefined;
  }

  /**
   * Undoes {@link holdForDeletion}, in one compare-and-set: enabled again only while the record
   * still carries this `hold`; an admin's disable or enable meanwhile (which drops the hold), or
   * the deletion of the account, is left as it is. True when it enabled the account.
   */
  async releaseDeletionHold(id: string, hold: string): Promise<boolean> {
    try {
      const released = await this.#modify(id, (user) => {
        if (user.deletionHold !== hold) return undefined;
        const { deletionHold: _hold, ...rest } = user;
        return { ...rest, disabled: false };
      });
      return released !== undefined;
    } catch (error) {
      if (error instanceof NotFoundError) return false; // deleted meanwhile: nothing to undo
      throw error;
    }
  }

  /** Records the language the user reads (User.locale); no write when it is that already. */
  async rememberLocale(id: string, locale: string): Promise<void> {
    await this.#modify(id, (user) => (user.locale === locale ? undefined : { ...user, locale }));
  }

  /**
   * Gives or takes one role, read and written in one compare-and-set: a write in between (a
   * disable, a password change) is kept, not overwritten with an older copy of the record.
   * `changed` is false when the user had (or lacked) the role already: nothing is written.
   */
  async setRole(id: string, role: string, on: boolean): Promise<{ user: User; changed: boolean }> {
    checkRoles([role]);
    const admin = role === ADMIN_ROLE;
    if (admin && on) await this.store.setAdd(this.keys.admins(), id);
    let found: User | undefined;
    const next = await this.#modify(id, (user) => {
      found = user;
      if (user.roles.includes(role) === on) return undefined;
      return { ...user, roles: on ? [...user.roles, role] : user.roles.filter((held) => held !== role) };
    });
    // Off the list once the record no longer says admin (a grant racing this may leave it off: someAdmin then walks).
    if (admin && !on && next) await this.store.setRemove(this.keys.admins(), id);
    return next ? { user: next, changed: true } : { user: found!, changed: false };
  }

  /**
   * Rewrites a user's record from what is stored now (compare-and-set, re-read and redone when
   * another write landed in between): two writes at once both land, and one racing a delete
   * does not bring the record back. `change` answers undefined to leave the record as it is
   * (then so does this). NotFoundError when there is no such user.
   */
  #modify(id: string, change: (user: User) => User | undefined): Promise<User | undefined> {
    return compareAndSet(this.store, this.keys.user(id), (raw) => {
      if (!raw) throw new NotFoundError(msg('errors:noUser', { user: id }));
      const current = JSON.parse(raw) as User;
      const changed = change(current);
      if (changed === undefined) return { result: undefined };
      // OIDC Core §5.1: `updated_at` moves with the claims, so a relying party that refreshes its
      // copy of a profile when it moves sees a new name or address (it was the creation time forever).
      const next = CLAIM_FIELDS.some((field) => changed[field] !== current[field]) ? { ...changed, updatedAt: Math.floor(Date.now() / 1000) } : changed;
      return { write: JSON.stringify(next), result: next };
    });
  }

  /**
   * Replaces a hash that `PasswordHasher.needsRehash` flagged, with the password just proven
   * at sign-in: no length policy here (an imported password may predate it). Best effort when
   * the hub is busy (BusyError): the sign-in goes on, and the hash, still flagged, is replaced
   * at the next one.
   */
  async rehash(id: string, password: string, verifiedHash: string): Promise<void> {
    let passwordHash: string;
    try {
      passwordHash = await this.hasher.hash(password);
    } catch (error) {
      if (error instanceof BusyError) return;
      throw error;
    }
    // Only over the hash the password was checked against: a password set meanwhile (an admin's
    // reset, the user's change) stays, and the old password does not come back with a new hash.
    const rehashed = await this.#modify(id, (user) => (user.passwordHash === verifiedHash ? { ...user, passwordHash } : undefined));
    if (rehashed && !isLegacyHash(passwordHash)) await this.store.zRemove(this.keys.legacyHashUsers(), id);
  }

  /**
   * Changes the e-mail address, keeping the unique index right; `verified` when the new address
   * was proven by a link. `changedAt`: the address's `emailChangedAt` from now on (`null` clears
   * it); left as it is when not given (an admin's change, a sign-up's verification).
   */
  async changeEmail(id: string, email: string, options: { verified?: boolean; changedAt?: number | null; expect?: (current: User) => boolean; restoring?: boolean } = {}): Promise<User> {
    const address = email.trim();
    // `restoring`: an undo puts back the account's own previous address, which an older, looser
    // rule may have let in (a trailing dot): the owner's way back is not refused for its spelling.
    if (!options.restoring && !EMAIL.test(address)) throw new ValidationError(msg('errors:emailFormat'));
    const user = await this.findById(id);
    if (!user) throw new NotFoundError(msg('errors:noUser', { user: id }));
    if (user.removing) throw new NotFoundError(msg('errors:noUser', { user: id }));
    if (options.expect && !options.expect(user)) throw new AccountChangedMeanwhileError();
    const claims = foldAddress(user.email) !== foldAddress(address);
    if (claims) {
      const claim = this.keys.userByEmail(address);
      // A claim naming this account already is its own, left by a change the store cut off after
      // the claim (the record's write failed, or landed with its answer lost): the change sent
      // again goes on. Refused as taken, an undo's retry could never give the owner's address back.
      if (!(await this.store.set(claim, id, { onlyIfAbsent: true })) && (await this.store.get(claim)) !== id) throw new ConflictError(msg('errors:emailTaken', { email: address }));
    }
    const sameAddress = foldAddress(user.email) === foldAddress(address);
    const emailVerified = options.verified ?? (sameAddress ? user.emailVerified === true : false);
    // A proven address keeps the account as `verifyEmail` does: its removal time goes in the same
    // write. One compare-and-set on the record decides a race with the removal of an unverified
    // account: once the removal marked it, nothing is written and the new address is given back.
    let changed: User | undefined;
    // Another change of the address between the read above and this write (two confirmation
    // links used at once) must not be overwritten: its address's claim would stay behind, naming
    // this account for an address it no longer has (a review: signing in by it still worked, and
    // nobody else could ever take it).
    let meanwhile = false;
    try {
      changed = await this.#modify(id, (current) => {
        if (current.removing) return undefined;
        if (foldAddress(current.email) !== foldAddress(user.email) || (options.expect && !options.expect(current))) {
          meanwhile = true;
          return undefined;
        }
        const { emailChangedAt, ...rest } = current;
        const dated = options.changedAt === undefined ? emailChangedAt : (options.changedAt ?? undefined);
        const next: User = { ...rest, email: address, emailVerified, ...(dated !== undefined ? { emailChangedAt: dated } : {}) };
        return emailVerified ? keptAccount(next) : next;
      });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    if (!changed) {
      if (claims) await this.store.swap(this.keys.userByEmail(address), id, null);
      if (meanwhile) throw new AccountChangedMeanwhileError();
      throw new NotFoundError(msg('errors:noUser', { user: id }));
    }
    // The old address is let go once the record has the new one (only this account's own claim:
    // an unverified sign-up never held its address). Let go before, a change refused by the
    // record left the account's address without its index.
    if (claims) await this.#releaseAddress(user.email, id);
    if (emailVerified) await this.store.zRemove(this.keys.unverifiedUsers(), id);
    return changed;
  }

  /**
   * The tail of a change of address to the account's current one, for a change the store cut off
   * after its record landed (its answer lost): the previous address's index entries that still
   * name this account are let go, and a verified account leaves the unverified list, as
   * {@link changeEmail} does after the record. Safe to run twice; nothing when the account has
   * `previous` again.
   */
  async settleAddressChange(id: string, previous: string): Promise<void> {
    const user = await this.findById(id);
    if (!user || foldAddress(user.email) === foldAddress(previous)) return;
    await this.#releaseAddress(previous, id);
    if (user.emailVerified === true) await this.store.zRemove(this.keys.unverifiedUsers(), id);
  }

  /**
   * Runs after every password set through `setPassword` (an admin reset, a change, a reset
   * link, UCenter's user/edit), not after a rehash of the same password at sign-in.
   */
  onPasswordSet(listener: (user: User) => Promise<unknown>): void {
    this.#passwordSet.push(listener);
  }

  /**
   * A new password checked and hashed ahead of writing it: what is used up on the way (a reset
   * link) is taken only once the hash is made, so a busy hub (BusyError) leaves it usable.
   */
  async preparePassword(password: string): Promise<PreparedPassword> {
    UserRepository.checkPassword(password);
    return { passwordHash: await this.hasher.hash(password) };
  }

  /** Sets a new password; answers the user as now stored (its new hash, so its new password stamp). */
  async setPassword(id: string, password: string | PreparedPassword): Promise<User> {
    const { passwordHash } = typeof password === 'string' ? await this.preparePassword(password) : password;
    const user = await this.update(id, { passwordHash });
    for (const listener of this.#passwordSet) await listener(user);
    return user;
  }

  /**
   * What {@link delete} removes after the record, for an account whose record is gone already (a
   * deletion cut off between the record and the sets): safe to run again.
   */
  async removeLeftovers(id: string): Promise<void> {
    await this.store.setRemove(this.keys.users(), id);
    await this.store.setRemove(this.keys.admins(), id);
    await this.store.zRemove(this.keys.legacyHashUsers(), id);
    await this.store.zRemove(this.keys.unverifiedUsers(), id);
  }

  /** An admin (or the owner) deletes the account: no seed listing the username creates it again (seed-entries.ts). */
  async keepDeletedFromSeeds(username: string): Promise<void> {
    await keepRemovedFromSeeds(this.store, this.keys, seedEntry.user(username));
  }

  async delete(id: string): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw new NotFoundError(msg('errors:noUser', { user: id }));
    // Each index only where it still points at this account: a username freed meanwhile (an
    // unverified account's removal) may already belong to a new sign-up. The address index only
    // when this account holds it (an unverified sign-up does not). The indices before the record:
    // a deletion cut off part-way leaves the record, and deleting again finishes the job (the
    // other order left the username pointing at no account, taken for good).
    await this.store.swap(this.keys.userByName(user.username), id, null);
    await this.#releaseAddress(user.email, id);
    if (user.uid !== undefined) await this.store.swap(this.keys.userByUid(user.uid), id, null);
    await this.store.del(this.keys.user(id));
    await this.removeLeftovers(id);
    return user;
  }
}

/** The account with nothing left that would remove it as an unverified sign-up. */
function keptAccount(user: User): User {
  const { unverifiedSince: _since, ...kept } = user;
  return kept;
}
