import { seenDigest } from '../security/seen-digest.js';
import type { UcCharset } from './charset.js';

/**
 * A UCenter application: a site bound to UCenter (Discuz!, MediaWiki's Auth_UC, ...) that
 * the hub serves as its UCenter server. It knows the hub as `UC_API`, itself as `UC_APPID`
 * and shares `UC_KEY` (this app's `key`) for authcode in both directions.
 */
export interface UcenterApp {
  /** UC_APPID: a positive whole number. */
  appId: number;
  name: string;
  /** UCenter's application type (DISCUZX, UCHOME, SUPESITE, OTHER, ...); informational. */
  type: string;
  /** The application's base URL as the browser reaches it (no trailing slash). */
  url: string;
  /** The note handler under `url` (UCenter: `api/uc.php`). */
  noteFile: string;
  /**
   * Base URL the hub uses for server-to-server notes (deleteuser, test) when the browser's
   * `url` does not reach the application from the hub (the hub resolves `*.localhost` to
   * loopback itself); defaults to `url`.
   */
  internalUrl?: string;
  /** UC_KEY of this application: encrypts its notes and decrypts its client API input. */
  key: string;
  /** Takes part in synlogin/synlogout (script tags on the sync page, `reload="1"`). */
  synlogin: boolean;
  /**
   * Gets an `updatepw` note (the username only) when a user's password is set at the hub.
   * Off unless set: a handler that stores `md5($get['password'])` would store the hash of
   * an empty password, since the hub never sends one; Discuz! picks a random one.
   */
  updatepw?: boolean;
  /**
   * UC_CHARSET of the application (a GBK or BIG5 Discuz! edition): the bytes its client API
   * calls, the hub's answers and its notes carry. UTF-8 unless set.
   */
  charset?: UcCharset;
  /** May create hub users through `user/register`. Off unless set. */
  allowRegister: boolean;
  /**
   * Takes client API calls whose encrypted input does not name its operation (`m`, `a`,
   * `appid`): the uc_client of Discuz! X3.4 and older (UCenter 1.6) sends them so, and UCenter
   * 1.7 refuses them ("Access denied for operation changed") unless its `insecureoperation`
   * setting is on. Such a call is taken only for operations that act for no member on the
   * input's word (client-api.ts, UNBOUND_SAFE). An input that does name them must still name
   * this call. Off unless set.
   */
  insecureOperation?: boolean;
  createdAt: number; // epoch seconds
  /**
   * Names this registration (random, made when the application is registered; a key rotation
   * keeps it). What the hub keeps per application beside its record (pending notes, sign-in
   * proofs, replay marks, rate-limit counts) is tied to it, so an application registered later
   * under a removed one's app id inherits none of it. Absent on applications registered before it
   * was recorded.
   */
  generation?: string;
}

/**
 * The part of store keys that names one registration of an application: its app id, and its
 * generation when it has one (`7.Jx3…`). Keys of an application registered before generations
 * keep the app id alone, as before.
 */
export function registrationKey(app: Pick<UcenterApp, 'appId' | 'generation'>): string {
  return app.generation ? `${app.appId}.${app.generation}` : String(app.appId);
}

/**
 * Whether a note was queued for an earlier registration under this app id (removed since): its
 * generation differs, or, for a note without one, it is older than this registration.
 */
export function queuedForAnother(item: { clientGeneration?: string; createdAt: number }, app: Pick<UcenterApp, 'generation' | 'createdAt'>): boolean {
  if (item.clientGeneration !== undefined) return item.clientGeneration !== app.generation;
  return item.createdAt < app.createdAt * 1000;
}

/** The note handler URL of an application: browser-facing, or the one the hub calls itself. */
export function noteUrl(app: UcenterApp, internal = false): string {
  const base = (internal && app.internalUrl) || app.url;
  return `${base}/${app.noteFile.replace(/^\/+/, '')}`;
}

/** What the audit records of an application's registration: the settings that widen what it may do. */
export function ucenterAuditDetail(app: UcenterApp): Record<string, string | boolean> {
  return { ucenter: true, charset: app.charset ?? 'utf-8', allowRegister: app.allowRegister, insecureOperation: app.insecureOperation === true };
}

/**
 * Which UC_KEY a console page showed its "New key" form for (`_keySeen`): a digest of the key, so
 * the key is not on the page. A press on a page from before another new key is refused.
 */
export function ucKeySeen(app: Pick<UcenterApp, 'key'>): string {
  return seenDigest('uc-key-seen', app.key);
}

/**
 * Which settings a console edit page showed (`_seen`): a digest of every setting the form edits.
 * A save from a page of other settings (another tab, another admin, `ucenter apps update`) is
 * refused rather than putting back silently what the other change had changed.
 */
export function ucSettingsSeen(app: UcenterApp): string {
  const settings = [app.name, app.type, app.url, app.noteFile, app.internalUrl ?? '', Boolean(app.synlogin), Boolean(app.updatepw), Boolean(app.allowRegister), app.charset ?? 'utf-8', Boolean(app.insecureOperation)];
  return seenDigest('uc-settings-seen', JSON.stringify(settings));
}
