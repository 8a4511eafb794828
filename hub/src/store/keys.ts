import { hash } from 'node:crypto';

/** Tokens, codes and session ids are looked up by digest, never stored as themselves. */
export function digest(value: string): string {
  return hash('sha256', value, 'base64url'); // one-shot: no Hash object per digest
}

/**
 * The form usernames (and logins naming an account) are compared in: NFKC, lower case, so ｂｏｂ
 * is bob; ASCII names are only lower-cased, as before. The username index, the sign-in
 * throttle's account pools, the seed ledger and the import ledger all compare names this way.
 */
export function foldName(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

/**
 * The form e-mail addresses are compared in: NFC (RFC 6532 §3.1), lower case. An address typed
 * with a decomposed letter (e + U+0301 for é, as some input methods and pasted text have it) is the
 * same mailbox as its composed spelling (a mail library's IDNA composes the domain, and a mail
 * server the mailbox): the address index, the sign-in throttle and the sign-up's mail budgets
 * compare it so. Before, each spelling was an address of its own: a second account, and a budget
 * of mails of its own, for one mailbox.
 */
export function foldAddress(email: string): string {
  return email.normalize('NFC').toLowerCase();
}

/**
 * Every key the hub writes, from one place, under one prefix.
 *
 * Redis Cluster. A Redis Cluster runs a MULTI, a Lua script or a multi-key command only on
 * keys of one hash slot. The hub's store keeps every atomic operation on ONE key but one
 * (claimBeside, below): MULTI
 * blocks (setAdd, zAddExpiring, incr), the compare-and-set script (swap, the single-use claim
 * of codes and refresh tokens), the sorted-set indexes, the delivery queue's sets, the audit
 * log, the rate limiters' counters (rate-limiter-flexible, one key each) and the sessions
 * (connect-redis, one key each). The calls that name several independent keys (`getMany`,
 * `del`, `write`, `getIndexed`) are sent key by key on a cluster and no caller needs them atomic (a grant's revocation
 * deletes records found through its index: records are looked up by the digest of a token
 * oidc-provider hands us, which cannot carry the grant's tag).
 *
 * Keys that MUST share a slot: a code's or refresh token's single-use claim and its record
 * (Store.claimBeside reads the record and sets the claim in one script). The claim's hash tag
 * is the record's whole key, `oidc:consumed:{<prefix>oidc:<Model>:<digest>}`, so the record
 * keeps its name and slot; the claim moved there from `oidc:consumed:<Model>:<digest>`, which
 * is still read (oidcConsumedLegacy) so nothing used before the upgrade becomes usable again.
 * Keys of one account share the account id as hash tag (`user:{id}`, `consent:{id}:…`,
 * `consents:{id}`, `account-grants:{id}`, `account-session-expiry:{id}`),
 * as does a grant's index (`grant-index:{id}`), so a future transaction over a user's records
 * can be written; a new multi-key operation must put its keys under one tag here first.
 * KEY_PREFIX may not contain braces: they would turn the prefix into every key's hash tag.
 */
export class Keys {
  constructor(readonly prefix: string) {}

  // Users
  user(id: string): string { return `${this.prefix}user:{${id}}`; }
  /** {@link user}'s key around the id, for a lookup that reads the id and the record in one go (Store.getIndexed). */
  userAroundId(): { prefix: string; suffix: string } { return { prefix: `${this.prefix}user:{`, suffix: '}' }; }
  userByName(username: string): string { return `${this.prefix}user-name:${foldName(username)}`; }
  userByEmail(email: string): string { return `${this.prefix}user-email:${foldAddress(email)}`; }
  /** The address index's key as hubs before {@link foldAddress} wrote it (lower case only): where it differs from {@link userByEmail}, read and let go beside it (UserRepository). */
  userByEmailLowerCased(email: string): string { return `${this.prefix}user-email:${email.toLowerCase()}`; }
  users(): string { return `${this.prefix}users`; }
  /**
   * Set (with a TTL) by a create before it claims the new account's username and address, while
   * its record is not written yet: a claim naming an id with neither a record nor this marker was
   * left by a create the store cut off, and the next create of that name takes it over.
   */
  userCreating(id: string): string { return `${this.prefix}user-creating:{${id}}`; }
  /** Ids of accounts given the admin role (a superset: each record is checked; UserRepository.someAdmin). */
  admins(): string { return `${this.prefix}users:admins`; }
  /** UCenter uid → user id, and the counter new uids come from (INCR). */
  userByUid(uid: number): string { return `${this.prefix}user-uid:${uid}`; }
  userUidCounter(): string { return `${this.prefix}user-uid-counter`; }
  /** Users still holding an imported legacy (UCenter md5) hash, scored by uid: the admin's count. */
  legacyHashUsers(): string { return `${this.prefix}users:legacy-hash`; }
  /**
   * Self-service sign-ups that have neither verified their address nor signed in, scored by the
   * time their removal period counts from (epoch ms; `User.unverifiedSince`).
   */
  unverifiedUsers(): string { return `${this.prefix}users:unverified`; }
  /** Held (SET NX, with a TTL) by the one hub process removing expired unverified accounts right now. */
  unverifiedSweepLock(): string { return `${this.prefix}users:unverified:lock`; }
  /** Set (with a TTL of a day) once every account was looked at for unverified sign-ups an older release made. */
  unverifiedScanned(): string { return `${this.prefix}users:unverified:scanned`; }

  /** A deletion of the account under way or left to finish (users/pending-deletions.ts): JSON, removed when it is done. */
  accountDeletion(userId: string): string { return `${this.prefix}account-deletion:${userId}`; }
  /** Pending deletions by user id, scored by when they are due to be resumed (epoch ms). */
  accountDeletionsDue(): string { return `${this.prefix}account-deletions:due`; }
  /** Held (SET NX, with a TTL) by the one request or hub process working on the deletion right now. */
  accountDeletionLease(userId: string): string { return `${this.prefix}account-deletion:lease:${userId}`; }

  // Two-step sign-in (hub/src/two-step/): the enrolment, one key per unused recovery code, the last TOTP step used
  twoStep(userId: string): string { return `${this.prefix}two-step:{${userId}}`; }
  /** An enrolment started but not yet confirmed with a first code (expires). */
  twoStepPending(userId: string): string { return `${this.prefix}two-step:{${userId}}:pending`; }
  /** One unused recovery code, by its digest: taken (GETDEL) when used, so it works once. */
  twoStepRecoveryCode(userId: string, codeDigest: string): string { return `${this.prefix}two-step:{${userId}}:recovery:${codeDigest}`; }
  /** The last TOTP time step accepted for the user (replay guard), kept while such a code could still verify. */
  twoStepLastStep(userId: string): string { return `${this.prefix}two-step:{${userId}}:last-step`; }

  // UCenter applications (hub/src/ucenter/)
  ucenterApp(appId: number): string { return `${this.prefix}ucenter:app:${appId}`; }
  ucenterApps(): string { return `${this.prefix}ucenter:apps`; }
  /** The form and hub address of the application list last sent (app-notes.ts). */
  ucenterAppListSent(): string { return `${this.prefix}ucenter:apps:list-sent`; }
  ucenterAppCounter(): string { return `${this.prefix}ucenter:app-counter`; }
  /**
   * Members `ucenter import` created or found already there (`uid:N`, `name:FOLDED`), no TTL
   * (as seedApplied): a member an admin deleted since is not created again by a later run.
   */
  ucenterImported(): string { return `${this.prefix}ucenter:imported`; }
  /**
   * A client API call already taken (UcenterInputReplay): by application registration (`registrationKey`:
   * the app id and its generation) and digest, with a TTL.
   */
  ucenterInputSeen(registration: string, digest: string): string { return `${this.prefix}ucenter:input-seen:${registration}:${digest}`; }
  /** An application registration signed member `uid` in just now (UcenterSignInProofs): its next user/synlogin for them, with a TTL. */
  ucenterSignedIn(registration: string, uid: number): string { return `${this.prefix}ucenter:signed-in:${registration}:${uid}`; }

  // Clients (subsites)
  client(id: string): string { return `${this.prefix}client:${id}`; }
  clients(): string { return `${this.prefix}clients`; }
  clientsVersion(): string { return `${this.prefix}clients:version`; }
  /**
   * Random, created by the first client write after the store lost its data: the counter
   * starts again from 1 then, and a process that held the same number from before would keep
   * its old cache. In the version's hash slot, so the two are written and read together.
   */
  clientsEpoch(): string { return `${this.prefix}clients:epoch:{${this.clientsVersion()}}`; }
  /** Sorted set: one member `version:clientId` per change, scored by the version it made. */
  clientsChanges(): string { return `${this.prefix}clients:changes`; }
  /**
   * One client's change lock (a random token, with a TTL): held from a change's read of the record
   * to its write, so two changes to one client at once apply one after the other (client-registry.ts).
   */
  clientLock(id: string): string { return `${this.prefix}clients:lock:${id}`; }
  /**
   * Set (no TTL) once every hub process of the store hashes client secrets: from then on a record
   * holds only a secret's digest (client-registry.ts, `clients hash-secrets`).
   */
  clientSecretsHashed(): string { return `${this.prefix}clients:secrets-hashed`; }

  // oidc-provider models, by digest of their id
  oidc(model: string, idDigest: string): string { return `${this.prefix}oidc:${model}:${idDigest}`; }
  /** The single-use claim of a code or refresh token (SET NX). */
  oidcConsumed(model: string, idDigest: string): string { return `${this.prefix}oidc:consumed:{${this.oidc(model, idDigest)}}`; }
  /**
   * Where the claim lived before it moved beside its record (this release): still read, so a
   * code or refresh token used before an upgrade stays used. Remove once HUB_REFRESH_TOKEN_TTL
   * has passed since every deployment upgraded.
   */
  oidcConsumedLegacy(model: string, idDigest: string): string { return `${this.prefix}oidc:consumed:${model}:${idDigest}`; }
  /** grant → its token and code records, scored by expiry (epoch ms). */
  oidcGrantMembers(grantId: string): string { return `${this.prefix}oidc:grant-index:{${grantId}}`; }
  oidcSessionUid(uid: string): string { return `${this.prefix}oidc:session-uid:${uid}`; }
  /** The grant a sign-in session's concurrent requests share for a client, made since its grant `previous` (oidc/session-grant.ts): 60 s. */
  oidcSessionGrant(uid: string, clientId: string, previous: string | undefined): string { return `${this.prefix}oidc:session-grant:${uid}:${previous ?? '-'}:${clientId}`; }
  /** The browser a sign-in session (uid) signed in from, for the account page (oidc/session-devices.ts): lives as the session does. */
  oidcSessionDevice(uid: string): string { return `${this.prefix}oidc:session-device:${uid}`; }
  /** Marks a session key (a record or its uid copy) ended, beside it: the whole key is its hash tag. */
  oidcEnded(key: string): string { return `${this.prefix}oidc:ended:{${key}}`; }
  oidcUserCode(userCode: string): string { return `${this.prefix}oidc:user-code:${digest(userCode)}`; }
  /** account → what the user allowed per client (consent remembered across sessions). */
  consent(accountId: string, clientId: string): string { return `${this.prefix}consent:{${accountId}}:${clientId}`; }
  consents(accountId: string): string { return `${this.prefix}consents:{${accountId}}`; }
  /** account → its grants (one per sign-in session and client), scored by expiry. */
  accountGrants(accountId: string): string { return `${this.prefix}account-grants:{${accountId}}`; }
  /** account → the store keys of its oidc sessions, scored by expiry (epoch ms): expired sessions leave on the next write. */
  accountSessions(accountId: string): string { return `${this.prefix}account-session-expiry:{${accountId}}`; }
  /**
   * The plain set the account's sessions were listed in before (no member ever left it when its
   * session expired, and each sign-in pushed the set's expiry out): still read and emptied, never
   * written. Remove once HUB_SESSION_TTL has passed since every deployment upgraded.
   */
  accountSessionsLegacy(accountId: string): string { return `${this.prefix}account-sessions:{${accountId}}`; }
  /** account → when the hub last ended its sessions, and the one it kept (SessionIndex.markEnded). */
  accountSessionsEnded(accountId: string): string { return `${this.prefix}sign-ins-ended:{${accountId}}`; }
  /** One sign-in (uid) of the account the hub ended (SessionIndex.markEnded), beside the account's mark. */
  accountSessionEnded(accountId: string, uid: string): string { return `${this.prefix}sign-ins-ended:{${accountId}}:${uid}`; }
  /** account → portal (express-session) ids. */

  /** A relying party's form POST to /auth or /session/end, kept for its follow-up GET (oidc/posted-forms.ts), by digest of its handle. */
  postedForm(handleDigest: string): string { return `${this.prefix}posted-form:${handleDigest}`; }
  /** An admin console form that makes a secret or a link, marked as sent (SET NX, with a TTL: admin/admin-sent-once.ts), by digest of its token. */
  adminFormSent(tokenDigest: string): string { return `${this.prefix}admin:form-sent:${tokenDigest}`; }

  /** Single-use links sent by e-mail (password reset, e-mail change), by digest of the token. */
  accountToken(purpose: string, tokenDigest: string): string { return `${this.prefix}account-token:${purpose}:${tokenDigest}`; }

  // Secrets the hub generates once and shares between its processes
  signingKeys(): string { return `${this.prefix}secrets:jwks`; }
  cookieKeys(): string { return `${this.prefix}secrets:cookie-keys`; }
  /** The running hub's settings for the CLI (published-settings.ts). */
  hubSettings(): string { return `${this.prefix}hub:settings`; }
  /** Fingerprints of the cookie keys the running hub processes sign with, scored by expiry (published-settings.ts). */
  cookieSigners(): string { return `${this.prefix}hub:cookie-signers`; }
  /** Key-encryption keys for two-step secrets, when HUB_TOTP_KEYS is unset. */
  twoStepKeys(): string { return `${this.prefix}secrets:two-step-keys`; }

  /** Seed entries (`user:NAME`, `client:ID`) applied once: never created again, even after a deletion. */
  seedApplied(): string { return `${this.prefix}seed:applied`; }

  // Express-session (connect-redis) prefix for the portal
  portalSessionPrefix(): string { return `${this.prefix}portal-sess:`; }
  rateLimitPrefix(): string { return `${this.prefix}rl`; }

  // Delivery queue (userdelete, back-channel logout): items by id, three sorted sets by time, a lease per item
  deliveryItem(id: string): string { return `${this.prefix}delivery:item:${id}`; }
  /** Pending items, scored by the next attempt time (epoch ms). */
  deliveryDue(): string { return `${this.prefix}delivery:due`; }
  deliveryFailed(): string { return `${this.prefix}delivery:failed`; }
  deliveryDelivered(): string { return `${this.prefix}delivery:delivered`; }
  /** Held (SET NX, with a TTL) by the one process delivering the item right now. */
  deliveryLease(id: string): string { return `${this.prefix}delivery:lease:${id}`; }

  /** Sign-up mails (a verification link, or "someone signed up with your address") sent to one address in the current window, all networks together (INCR with a TTL). */
  signupAddressMails(email: string): string { return `${this.prefix}signup:address-mails:${digest(foldAddress(email.trim()))}`; }
  /** Sign-up mails to one address asked for from one network (`addressKey`) in the current window (INCR with a TTL). */
  signupNetworkMails(email: string, network: string): string { return `${this.prefix}signup:network-mails:${digest(`${foldAddress(email.trim())}\n${network}`)}`; }

  // Development outbox (MAIL_DEV_OUTBOX): messages by id with a TTL, and their index scored by expiry (epoch ms)
  mailOutbox(): string { return `${this.prefix}mail:outbox`; }
  mailOutboxItem(id: string): string { return `${this.prefix}mail:outbox:item:${id}`; }

  // Audit log: sorted sets of JSON entries scored by time (epoch ms): tokens issued and attempts anyone can make apart from the rest
  auditLog(): string { return `${this.prefix}audit:log`; }
  auditTokens(): string { return `${this.prefix}audit:tokens`; }
  auditAttempts(): string { return `${this.prefix}audit:attempts`; }
}
