import { createHash } from 'node:crypto';

/** Token ids are looked up by digest, never stored as themselves. */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * Every key the kit writes, from one place, under one prefix. An index and what it lists
 * share a `{hash tag}` so a Redis Cluster keeps them on one slot.
 */
export class KitKeys {
  constructor(readonly prefix: string) {}

  /** A sync code's `jti`, claimed once until the code expires. */
  syncJti(jti: string): string { return `${this.prefix}sync-jti:${digest(jti)}`; }
  /** A hub-signed token's (userdelete, back-channel logout) `jti`, claimed once. */
  hubJti(jti: string): string { return `${this.prefix}hub-jti:${digest(jti)}`; }
  /** A userdelete event whose `onUserDelete` hook is running now (a lock with an owner). */
  userDeleteRunning(event: string): string { return `${this.prefix}userdelete-running:${digest(event)}`; }
  /** A userdelete event whose `onUserDelete` hook has run: its retries do not run it again. */
  userDeleteDone(event: string): string { return `${this.prefix}userdelete-done:${digest(event)}`; }
  /** user (`sub`) → local session ids. */
  userSessions(sub: string): string { return `${this.prefix}user-sessions:{${digest(sub)}}`; }
  /** hub session id (`sid` claim) → local session ids. */
  hubSidSessions(sid: string): string { return `${this.prefix}sid-sessions:{${digest(sid)}}`; }
  /** Lock of one session's refresh (so two processes never spend the same rotating refresh token). */
  refreshLock(sessionId: string): string { return `${this.prefix}refresh-lock:${digest(sessionId)}`; }
  /** A key never written: `/readyz` reads it, one round trip to the store and nothing more. */
  readinessProbe(): string { return `${this.prefix}readyz-probe`; }
  /** connect-redis prefix of the sessions themselves. */
  sessionPrefix(): string { return `${this.prefix}sess:`; }
}
