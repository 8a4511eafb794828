import type { Keys } from '../store/keys.js';
import type { WriteOp } from '../store/store.js';

/**
 * A hub session, once ended, stays ended. oidc-provider writes a session it loaded back at
 * the end of a request that changed it (a silent check adds its subsite), and a sign-out,
 * "sign out everywhere" or forced logout may have ended that session meanwhile: a plain SET
 * would bring back the record, its uid copy and the sign-in. Ending a session therefore marks
 * its record key and its uid copy (a marker beside each, holding the record's key), and every
 * session write is made unless its marker holds that key. Each marker shares its key's hash
 * slot, so every step is atomic on a cluster too. A new session id (a sign-in rotates it) is
 * never marked, so the same uid under a new record is written as usual.
 */

/** How long an ended session's markers stay: far longer than any request that loaded it can run. */
export const ENDED_MARK_TTL_SECONDS = 300;

/** The writes of a session's record and its uid copy, each refused once the session ended. */
export function sessionWrites(keys: Keys, recordKey: string, value: string, ttlSeconds: number | undefined, uid: string | undefined): WriteOp[] {
  const writes: WriteOp[] = [{ op: 'setUnlessMarked', key: recordKey, value, ttlSeconds, marker: keys.oidcEnded(recordKey), mark: recordKey }];
  if (uid) {
    // A copy of the session under its uid, so findByUid is one read (tokens find their
    // session by uid on every refresh, userinfo and introspection), not index then record.
    const uidKey = keys.oidcSessionUid(uid);
    writes.push({ op: 'setUnlessMarked', key: uidKey, value, ttlSeconds, marker: keys.oidcEnded(uidKey), mark: recordKey });
    // The browser it signed in from (session-devices.ts) lives as long as the session: pushed out
    // with it at every write, in the same round trip; nothing where none was recorded.
    if (ttlSeconds !== undefined) writes.push({ op: 'expire', key: keys.oidcSessionDevice(uid), ttlSeconds });
  }
  return writes;
}

/** The writes that end the uid copy of session `recordKey`: its marker first, then the copy. */
export function endUidCopyWrites(keys: Keys, recordKey: string, uid: string): WriteOp[] {
  const uidKey = keys.oidcSessionUid(uid);
  return [
    { op: 'set', key: keys.oidcEnded(uidKey), value: recordKey, ttlSeconds: ENDED_MARK_TTL_SECONDS },
    { op: 'del', key: uidKey },
  ];
}

/** The writes that end session `recordKey` and its uid copy (when known): each marker before its key. */
export function endSessionWrites(keys: Keys, recordKey: string, uid: string | undefined): WriteOp[] {
  return [
    { op: 'set', key: keys.oidcEnded(recordKey), value: recordKey, ttlSeconds: ENDED_MARK_TTL_SECONDS },
    { op: 'del', key: recordKey },
    ...(uid ? endUidCopyWrites(keys, recordKey, uid) : []),
  ];
}
